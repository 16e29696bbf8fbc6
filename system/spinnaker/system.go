// Package spinnaker is the emulated SpiNNaker machine: SpiNNaker-1 chips
// and boards (machine.go), a PACMAN-like mapping of a network onto their
// cores and routers (mapping.go), sPyNNaker's neuron models in the cores'
// fixed-point arithmetic (lif.go, fixed.go), its 16-bit weights with their
// per-synapse-type scaling (weights.go), its spike sources (sources.go),
// and a cost model of the cores' and routers' real-time behaviour
// (realtime.go). docs/spinnaker.md says what is exact and what is modelled.
package spinnaker

import (
	"fmt"
	"math"
	"strconv"
	"sync/atomic"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// Name is the system's name.
const Name = "spinnaker"

// Delays: the synaptic row holds 4 bits of delay (1..16 ticks); longer
// delays go through a delay-extension core of up to 8 stages of 16 ticks,
// so 144 ticks at most (the guidebook's 1 to 144 time steps).
const (
	nativeDelayTicks = 16
	maxDelayTicks    = 144
)

// onPrepare, when set (by tests), sees every plan made.
var onPrepare func(*plan)

// System is the emulated SpiNNaker machine.
type System struct{}

func init() { system.Register(System{}) }

// Name is "spinnaker".
func (System) Name() string { return Name }

// Catalog is what sPyNNaker runs.
func (System) Catalog() *network.Catalog { return userCatalog }

// runState is shared by the plan and the models it builds.
type runState struct {
	tick atomic.Int64
	load *load
	lifs map[int]*lifModel
	izhs map[int]*izhModel
}

// plan is a description prepared for the machine.
type plan struct {
	user    *network.Description
	opts    Options
	dt      float64
	tsf     float64
	offset  []int
	gPop    []int32 // population of every global neuron
	gSlice  []int32 // slice of every global neuron (after partitioning)
	conns   []projConns
	shifts  [][nSynTypes]uint32 // per population
	mp      *mapping
	rt      *runState
	info    map[string]any
	virtual bool
	perPost []int32 // scratch of scaleWeights
	// viewed says which populations have variables recorded, whose
	// models keep their float state up to date.
	viewed []bool
	// changes is the mapping report's "changes": what the machine holds
	// differently from the script (nmp compare lists them).
	changes []map[string]any
}

// noteRecording marks the populations whose state variables a recording
// asks for.
func (pl *plan) noteRecording(r *network.Recording) {
	for _, v := range r.Variables {
		if v == "spikes" {
			continue
		}
		for _, part := range r.Selection {
			pl.viewed[part.Population] = true
			if m := pl.rt.lifs[part.Population]; m != nil {
				m.views = true
			}
			if m := pl.rt.izhs[part.Population]; m != nil {
				m.views = true
			}
		}
	}
}

// projConns is one projection's connections as the machine holds them.
type projConns struct {
	pre, post   []int64   // positions in the pre and post selections
	preG, postG []int32   // global neuron ids
	w           []float64 // the weights as given
	ticks       []int32   // delays in time steps
	syn         int       // synapse type (receptor)
}

// Prepare checks d against sPyNNaker and the machine, maps it and returns
// the engine plan.
func (System) Prepare(d *network.Description) (*system.Plan, error) {
	var raw []byte
	if d.System != nil {
		raw = d.System.Options
	}
	opts, err := parseOptions(raw)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(d); err != nil {
		return nil, err
	}
	dt := d.Simulation.Timestep
	pl := &plan{user: d, opts: opts, dt: dt, tsf: opts.tsf(dt), virtual: opts.Virtual,
		rt: &runState{lifs: map[int]*lifModel{}, izhs: map[int]*izhModel{}}}
	pl.offset = make([]int, len(d.Populations)+1)
	for i, p := range d.Populations {
		pl.offset[i+1] = pl.offset[i] + p.Size
	}
	pl.gPop = make([]int32, pl.offset[len(d.Populations)])
	for i := range d.Populations {
		for g := pl.offset[i]; g < pl.offset[i+1]; g++ {
			pl.gPop[g] = int32(i)
		}
	}
	if err := pl.expand(); err != nil {
		return nil, err
	}
	if err := pl.scaleWeights(); err != nil {
		return nil, err
	}
	if err := pl.mapNetwork(); err != nil {
		return nil, err
	}
	pl.buildLoad()
	ed, err := pl.engineDescription()
	if err != nil {
		return nil, err
	}
	pl.buildInfo()
	pl.realtimeInfo()
	pl.viewed = make([]bool, len(d.Populations))
	for i := range d.Recordings {
		pl.noteRecording(&d.Recordings[i])
	}
	if onPrepare != nil {
		onPrepare(pl)
	}
	models := map[string]engine.ModelFactory{}
	for _, n := range neuronModels {
		if n == "Izhikevich" || n == "Izhikevich_cond" {
			cond := n == "Izhikevich_cond"
			models[enginePrefix+n] = func(p *engine.Population) (engine.Model, error) {
				m := newIzh(p, newRingScaleFor(pl.shifts[p.Index], cond))
				m.cond = cond
				m.views = pl.viewed[p.Index]
				pl.rt.izhs[p.Index] = m
				return &counted{Model: m, st: pl.rt, pop: p}, nil
			}
			continue
		}
		cond, delta, dual, alpha := n == "IF_cond_exp", n == "IF_curr_delta", n == "IF_curr_dual_exp", n == "IF_curr_alpha"
		ca2 := n == "IF_curr_exp_ca2_adaptive"
		models[enginePrefix+n] = func(p *engine.Population) (engine.Model, error) {
			m := newLIFKind(p, cond, delta, newRingScaleFor(pl.shifts[p.Index], cond))
			if dual {
				m = newDualLIF(p, newRingScale(pl.shifts[p.Index]))
			}
			if alpha {
				m.alpha = newAlphaState(p.Size)
			}
			if ca2 {
				m.ca2 = newCa2State(p)
			}
			m.views = pl.viewed[p.Index]
			pl.rt.lifs[p.Index] = m
			return &counted{Model: m, st: pl.rt, pop: p}, nil
		}
	}
	models[enginePrefix+"SpikeSourceArray"] = func(p *engine.Population) (engine.Model, error) {
		return &counted{Model: newArraySource(p, pl.rt), st: pl.rt, pop: p}, nil
	}
	models[enginePrefix+"SpikeSourcePoisson"] = func(p *engine.Population) (engine.Model, error) {
		return &counted{Model: newPoissonSource(p), st: pl.rt, pop: p}, nil
	}
	return &system.Plan{Description: ed, Catalog: engineCatalog, Models: models,
		Action: pl.action, Readout: pl.readout, Info: pl.info}, nil
}

// checkDescription refuses what sPyNNaker cannot run, naming it.
func checkDescription(d *network.Description) error {
	for i, p := range d.Populations {
		if userCatalog.Cells[p.CellType] == nil {
			return fmt.Errorf("%s: cell type %s is not available on SpiNNaker (nmp's sPyNNaker runs %v and the sources %v)", d.PopName(i), p.CellType, neuronModels, sourceModels)
		}
	}
	for i, pr := range d.Projections {
		if userCatalog.Synapses[pr.Synapse.Type] == nil {
			return fmt.Errorf("%s: synapse type %s is not available on nmp's SpiNNaker (StaticSynapse and STDPMechanism are)", d.ProjName(i), pr.Synapse.Type)
		}
		if t := pr.Synapse.TimingDependence; t != nil && userCatalog.TimingRules[t.Type] == nil {
			return fmt.Errorf("%s: timing dependence %s is not built on nmp's SpiNNaker yet (SpikePairRule, SpikeNearestPairRule, Vogels2011Rule and PfisterSpikeTripletRule are)", d.ProjName(i), t.Type)
		}
		if w := pr.Synapse.WeightDependence; w != nil && userCatalog.WeightRules[w.Type] == nil {
			return fmt.Errorf("%s: weight dependence %s is not built on nmp's SpiNNaker yet (AdditiveWeightDependence, MultiplicativeWeightDependence and WeightDependenceAdditiveTriplet are)", d.ProjName(i), w.Type)
		}
	}
	for i, cs := range d.CurrentSources {
		if userCatalog.CurrentSources[cs.Type] == nil {
			return fmt.Errorf("current_sources[%d]: %s is not available on SpiNNaker (DCSource, ACSource, StepCurrentSource, NoisyCurrentSource are)", i, cs.Type)
		}
	}
	if d.Simulation.Timestep <= 0 {
		return fmt.Errorf("simulation.timestep: must be positive")
	}
	if us := d.Simulation.Timestep * 1000; math.Abs(us-math.Round(us)) > 1e-6 {
		return fmt.Errorf("simulation.timestep: %g ms is not a whole number of microseconds (the machine time step is set in µs)", d.Simulation.Timestep)
	}
	return network.Validate(d, userCatalog, network.Limits{})
}

// expand draws every projection's connections as the engine would (same
// seeds, same order) and converts the delays to time steps.
func (pl *plan) expand() error {
	d := pl.user
	pl.conns = make([]projConns, len(d.Projections))
	if len(d.Projections) == 0 {
		return nil
	}
	drawn, err := system.DrawConnections(d, pl.dt, func(p network.Population) string {
		ct := p.CellType
		if userCatalog.Cells[ct].Source {
			return "SpikeSourceArray"
		}
		if network.Standard.Cells[ct] == nil {
			// sPyNNaker's own models: the connections do not depend on the
			// model, the weights' signs on its input type
			if userCatalog.Cells[ct].ConductanceBased {
				return "IF_cond_exp"
			}
			return "IF_curr_exp"
		}
		return ct
	}, func(rt string) string {
		if rt == "excitatory2" {
			return "excitatory"
		}
		return rt
	}, "weight", "delay")
	if err != nil {
		return err
	}
	for i := range d.Projections {
		pr := &d.Projections[i]
		pre, post, ws, ds := drawn[i].Pre, drawn[i].Post, drawn[i].Values["weight"], drawn[i].Values["delay"]
		preIDs, postIDs := pl.user.SelectionIDs(pr.Pre, pl.offset), pl.user.SelectionIDs(pr.Post, pl.offset)
		c := projConns{pre: make([]int64, len(pre)), post: make([]int64, len(pre)), preG: make([]int32, len(pre)),
			postG: make([]int32, len(pre)), w: ws, ticks: make([]int32, len(pre)), syn: receptorIndex(pr.ReceptorType)}
		for k := range pre {
			c.pre[k], c.post[k] = int64(pre[k]), int64(post[k])
			c.preG[k], c.postG[k] = int32(preIDs[pre[k]]), int32(postIDs[post[k]])
			t := math.Round(ds[k] / pl.dt)
			if t < 1 {
				t = 1
			}
			if t > maxDelayTicks {
				return fmt.Errorf("%s: delay %g ms is %d time steps; SpiNNaker supports delays of 1 to %d time steps (%g ms at a time step of %g ms): the synaptic row holds up to %d and a delay extension adds up to 8 stages of %d",
					d.ProjName(i), ds[k], int(t), maxDelayTicks, maxDelayTicks*pl.dt, pl.dt, nativeDelayTicks, nativeDelayTicks)
			}
			c.ticks[k] = int32(t)
		}
		if rounded, most := pl.delaysRounded(pr, len(pre)); rounded > 0 {
			pl.changes = append(pl.changes, map[string]any{"what": d.ProjName(i) + ": delays rounded",
				"detail": fmt.Sprintf("%d of %d delays rounded to the %g ms time step, by at most %.4g ms", rounded, len(pre), pl.dt, most)})
		}
		pl.conns[i] = c
	}
	return nil
}

// delaysRounded counts the delays a projection gives that are not whole
// time steps, and the largest rounding, for delays given as one number or
// as explicit connections' values (the engine rounds drawn delays as it
// draws them: those are not counted).
func (pl *plan) delaysRounded(pr *network.Projection, n int) (rounded int, most float64) {
	check := func(x float64, times int) {
		t := max(math.Round(x/pl.dt), 1)
		if diff := math.Abs(t*pl.dt - x); diff > 1e-9*pl.dt {
			rounded += times
			most = math.Max(most, diff)
		}
	}
	if c := pr.Connections; c != nil {
		if v, ok := c.Parameters["delay"]; ok && v.Kind == network.KindArray {
			for _, x := range v.Array.Float64s() {
				check(x, 1)
			}
			return rounded, most
		}
		if v, ok := c.Parameters["delay"]; ok && v.Kind == network.KindScalar {
			check(v.Scalar, n)
			return rounded, most
		}
	}
	if v, ok := pr.Synapse.Parameters["delay"]; ok && v.Kind == network.KindScalar {
		check(v.Scalar, n)
	}
	return rounded, most
}

// popOf returns the population of global neuron g.
func (pl *plan) popOf(g int) int { return int(pl.gPop[g]) }

func (pl *plan) popOpts(i int) PopOptions {
	return pl.opts.Populations[strconv.Itoa(i)]
}

// scaleWeights chooses every population's ring-buffer shifts from the
// statistics of its incoming weights.
// weightScale is the input type's global weight scale of population i:
// 32 for conductance input (input_type_conductance), 1 for current.
func (pl *plan) weightScale(i int) float64 {
	if ct := userCatalog.Cells[pl.user.Populations[i].CellType]; ct != nil && ct.ConductanceBased {
		return 1 << condShift
	}
	return 1
}

// quantiseFor is quantise for a weight onto population i: the word of the
// weight times the input type's scale, and its value in the script's units.
func (pl *plan) quantiseFor(w float64, i, syn int) (uint16, float64) {
	ws := pl.weightScale(i)
	word, v := quantise(w*ws, pl.shifts[i][syn])
	return word, v / ws
}

func (pl *plan) scaleWeights() error {
	d := pl.user
	stats := make([][nSynTypes]inStats, len(d.Populations))
	for i := range d.Projections {
		c := &pl.conns[i]
		if len(c.w) == 0 {
			continue
		}
		// Group by post population (a projection may end on an assembly).
		type acc struct {
			nConn            int
			sum, sum2, maxW  float64
			dsum, dsum2, cnt float64
		}
		// Connections per post neuron, counted in a scratch array.
		if pl.perPost == nil {
			pl.perPost = make([]int32, len(pl.gPop))
		}
		for _, g := range c.postG {
			pl.perPost[g]++
		}
		accs := map[int]*acc{}
		for k := range c.w {
			pp := pl.popOf(int(c.postG[k]))
			a := accs[pp]
			if a == nil {
				a = &acc{}
				accs[pp] = a
			}
			a.nConn = max(a.nConn, int(pl.perPost[c.postG[k]]))
			w := math.Abs(c.w[k])
			a.sum += w
			a.sum2 += w * w
			a.maxW = math.Max(a.maxW, w)
			t := float64(c.ticks[k])
			a.dsum += t
			a.dsum2 += t * t
			a.cnt++
		}
		// A plastic projection's weights may grow to the weight
		// dependence's w_max: sPyNNaker counts that as the largest weight.
		if wd := d.Projections[i].Synapse.WeightDependence; wd != nil {
			wmax := 1.0
			if v, ok := wd.Parameters["w_max"]; ok {
				wmax = maxOf(v, 1)
			}
			for _, a := range accs {
				a.maxW = math.Max(a.maxW, math.Abs(wmax))
			}
		}
		// What the sources send at most: sPyNNaker asks the pre vertex.
		rate, perTick := pl.maxRate(d.Projections[i].Pre)
		for _, g := range c.postG {
			pl.perPost[g] = 0
		}
		for pp, a := range accs {
			nConn := a.nConn
			mean := a.sum / a.cnt
			wVar := math.Max(0, a.sum2/a.cnt-mean*mean)
			dMean := a.dsum / a.cnt
			dVar := math.Max(0, a.dsum2/a.cnt-dMean*dMean)
			// the conductance input type's weights count 32 times
			// larger (get_global_weight_scale), except in the total
			stats[pp][c.syn].add(nConn, mean, wVar, a.maxW, pl.weightScale(pp), dVar, rate, perTick)
		}
	}
	pl.shifts = make([][nSynTypes]uint32, len(d.Populations))
	for i := range d.Populations {
		sigma := pl.opts.RingBufferSigma
		if s := pl.popOpts(i).RingBufferSigma; s > 0 {
			sigma = s
		}
		for r := 0; r < nSynTypes; r++ {
			pl.shifts[i][r] = stats[i][r].shift(pl.dt, sigma, false)
		}
	}
	return nil
}

// maxRate is what the populations of a selection send at most: their
// rate in spikes per second and their spikes per tick.
func (pl *plan) maxRate(sel network.Selection) (float64, float64) {
	d := pl.user
	rate, perTick := 0.0, 0.0
	for _, part := range sel {
		p := &d.Populations[part.Population]
		r, t := pl.opts.SpikesPerSecond, 1.0
		if s := pl.popOpts(part.Population).SpikesPerSecond; s > 0 {
			r = s
		}
		if p.CellType != "SpikeSourcePoisson" && p.CellType != "SpikeSourceArray" {
			t = math.Max(1, r*pl.dt/1000)
		}
		switch p.CellType {
		case "SpikeSourcePoisson":
			mr := maxOf(p.Parameters["rate"], 1)
			if mr > 0 {
				r = mr
			}
			t = poissonMaxPerTick(mr, pl.dt)
		case "SpikeSourceArray":
			t = pl.arrayMaxPerTick(p)
		}
		rate, perTick = math.Max(rate, r), math.Max(perTick, t)
	}
	return rate, perTick
}

// maxOf is the largest value a parameter takes (def when unset, the
// distribution's mean plus a margin for random values).
func maxOf(v network.Value, def float64) float64 {
	switch v.Kind {
	case network.KindScalar:
		return v.Scalar
	case network.KindArray:
		m := math.Inf(-1)
		for _, x := range v.Array.Float64s() {
			m = math.Max(m, x)
		}
		if math.IsInf(m, -1) {
			return def
		}
		return m
	}
	return def
}

func (pl *plan) arrayMaxPerTick(p *network.Population) float64 {
	v, ok := p.Parameters["spike_times"]
	if !ok {
		return 1
	}
	best := 1
	count := func(ts []float64) {
		seen := map[int64]int{}
		for _, t := range ts {
			k := tickOf(t, pl.dt)
			seen[k]++
			best = max(best, seen[k])
		}
	}
	if v.Kind == network.KindRagged {
		for i := 0; i < p.Size; i++ {
			count(v.Seq(i))
		}
	} else {
		count(v.Seq(0))
	}
	return float64(best)
}
