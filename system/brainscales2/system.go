package brainscales2

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync/atomic"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// System is the emulated BrainScaleS-2 chip. Its zero value is the system
// nmp registers.
type System struct {
	// onPrepare, when set, sees every plan Prepare makes: tests reach the
	// emulated circuits through it.
	onPrepare func(*plan)
}

func init() { system.Register(System{}) }

// Name is "brainscales2".
func (System) Name() string { return "brainscales2" }

// Catalog is what a description for the chip may use: HXNeuron, the three
// spike sources and the static 6-bit synapse.
func (System) Catalog() *network.Catalog { return userCatalog }

// runState is shared between the plan and the engine models it creates.
type runState struct {
	// clock is the engine's step, as the models last saw it.
	clock   atomic.Int64
	neurons map[int]*hxModel
	sources map[int]*hxSource
}

// plan is a description prepared for the chip.
type plan struct {
	user   *network.Description
	opts   Options
	cm     *chipMismatch
	mp     *mapping
	rt     *runState
	srcs   []*srcPop // by population; nil for HXNeuron populations
	hxPop  []bool
	offset []int // global id of each population's first neuron
	xbar   crossbar
	rec    recState
	dtMs   float64
	info   map[string]any
	// positions holds each projection's connections as positions in its
	// pre and post selections.
	positions [][2][]int64
	// actions counts the actions that drew random values, to key their streams.
	actions uint64
	// cadcX is the CADC's mismatch (cadc.go), once needed.
	cadcX *cadcMismatch
	// sweep lifts the membrane ADC's limit of two recorded neurons per run:
	// set by Hardware (hw.go), whose MADC records the neurons one after
	// another as calix's recorder does.
	sweep bool
}

// Prepare checks d against the chip, maps it and returns the engine plan.
func (s System) Prepare(d *network.Description) (*system.Plan, error) {
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
	pl := &plan{user: d, opts: opts, cm: mismatchOf(opts.Chip, opts.Mismatch),
		rt:   &runState{neurons: map[int]*hxModel{}, sources: map[int]*hxSource{}},
		dtMs: opts.TimestepUs * 1e-3}
	pl.xbar.fifo = opts.CrossbarFIFO
	if err := pl.placeNeurons(); err != nil {
		return nil, err
	}
	if err := pl.prepareSources(); err != nil {
		return nil, err
	}
	specs, err := pl.expandConnections()
	if err != nil {
		return nil, err
	}
	pl.mp.generators = map[int]int{}
	for _, s := range pl.srcs {
		if s != nil && s.kind == sourceOnChip {
			pl.mp.generators[s.index] = s.gen
		}
	}
	constrain := func(src int32) int {
		p := pl.popOf(int(src))
		if s := pl.srcs[p]; s != nil && s.kind == sourceOnChip {
			return s.gen % padiBusesPerHemi
		}
		return -1
	}
	srcName := func(src int32) string {
		p := pl.popOf(int(src))
		return fmt.Sprintf("neuron %d of %s", int(src)-pl.offset[p], d.PopName(p))
	}
	if err := pl.mp.placeSynapses(specs, constrain, d.ProjName, srcName); err != nil {
		return nil, err
	}
	pl.rec = newRecState(pl)
	for i := range d.Recordings {
		if _, err := pl.rec.apply(&d.Recordings[i], false); err != nil {
			return nil, fmt.Errorf("recordings[%d]: %w", i, err)
		}
	}
	ed, err := pl.engineDescription(specs)
	if err != nil {
		return nil, err
	}
	pl.buildInfo()
	models := map[string]engine.ModelFactory{
		hxNeuron: func(p *engine.Population) (engine.Model, error) {
			m := newHXModel(p, pl.mp.circuits[p.Index], &pl.opts, pl.cm, pl.rt)
			m.obs = pl.rec.observed(p.Index)
			pl.rec.spiking(p.Index, m.logSpikes)
			pl.rt.neurons[p.Index] = m
			return m, nil
		},
		engineSourceType: func(p *engine.Population) (engine.Model, error) {
			s := newHXSource(p.Size, pl.rt)
			pl.rt.sources[p.Index] = s
			return s, nil
		},
	}
	if s.onPrepare != nil {
		s.onPrepare(pl)
	}
	return &system.Plan{Description: ed, Catalog: engineCatalog, Models: models,
		Action: pl.action, Readout: pl.readout, Info: pl.info}, nil
}

// checkDescription checks what the chip refuses beyond the catalog.
func checkDescription(d *network.Description) error {
	for i := range d.Projections {
		pr := &d.Projections[i]
		check := func(v network.Value, ok bool) error {
			if !ok {
				return nil
			}
			nonzero := false
			switch v.Kind {
			case network.KindScalar:
				nonzero = v.Scalar != 0
			case network.KindArray:
				for _, x := range v.Array.Float64s() {
					nonzero = nonzero || x != 0
				}
			default:
				nonzero = true
			}
			if nonzero {
				return fmt.Errorf("%s.delay: Setting the delay unequal 0 is not supported: the chip's synapses have no delay (events arrive after the fixed latency of the event path)", d.ProjName(i))
			}
			return fmt.Errorf("%s.delay: omit the delay: the chip's synapses have none, and a description for the chip gives no delays", d.ProjName(i))
		}
		dv, ok := pr.Synapse.Parameters["delay"]
		if err := check(dv, ok); err != nil {
			return err
		}
		if pr.Connections != nil {
			dv, ok := pr.Connections.Parameters["delay"]
			if err := check(dv, ok); err != nil {
				return err
			}
		}
	}
	if len(d.CurrentSources) > 0 {
		return fmt.Errorf("current_sources: the emulated chip has no current sources (use HXNeuron's constant_current_* parameters for a DC stimulus)")
	}
	if err := network.Validate(d, userCatalog, network.Limits{}); err != nil {
		return err
	}
	for i := range d.Populations {
		p := &d.Populations[i]
		if p.CellType != hxNeuron {
			continue
		}
		if len(p.InitialValues) > 0 {
			return fmt.Errorf("%s.initial_values: the membrane of an analog neuron circuit cannot be set; it starts wherever its dynamics have brought it", d.PopName(i))
		}
		if err := checkEmulated(d.PopName(i), p.Parameters); err != nil {
			return err
		}
	}
	return nil
}

// notEmulated are HXNeuron settings that couple circuits (multi-compartment
// neurons, shared spike logic) or drive plasticity pulses: the emulation
// refuses them rather than ignore them. Each must keep its default.
var notEmulated = []string{
	"multicompartment_connect_right", "multicompartment_connect_soma", "multicompartment_connect_soma_right",
	"multicompartment_connect_vertical", "multicompartment_enable_conductance",
	"bayesian_operation", "bayesian_connect_fire_vertical", "bayesian_connect_fire_to_right",
	"bayesian_connect_fire_from_right", "bayesian_enable_master", "bayesian_enable_slave",
	"event_routing_enable_post_overwrite",
}

func checkEmulated(pop string, params map[string]network.Value) error {
	for _, name := range notEmulated {
		v, ok := params[name]
		if !ok {
			continue
		}
		def := userCatalog.Cells[hxNeuron].Param(name).Default
		same := true
		switch v.Kind {
		case network.KindScalar:
			same = v.Scalar == def
		case network.KindArray:
			for _, x := range v.Array.Float64s() {
				same = same && x == def
			}
		default:
			same = false
		}
		if !same {
			return fmt.Errorf("%s.parameters.%s: not emulated: nmp's chip runs single-circuit neurons without coupled spike logic or plasticity pulses (keep the default, %g)", pop, name, def)
		}
	}
	return nil
}

// placeNeurons assigns circuits to the HXNeurons.
func (pl *plan) placeNeurons() error {
	d := pl.user
	perm := pl.opts.NeuronPermutation
	if perm == nil {
		perm = make([]int, numCircuits)
		for i := range perm {
			perm[i] = i
		}
	}
	pl.mp = &mapping{circuits: map[int][]int{}}
	pl.hxPop = make([]bool, len(d.Populations))
	pl.offset = make([]int, len(d.Populations)+1)
	next := 0
	for i := range d.Populations {
		p := &d.Populations[i]
		pl.offset[i+1] = pl.offset[i] + p.Size
		if p.CellType != hxNeuron {
			continue
		}
		pl.hxPop[i] = true
		if next+p.Size > len(perm) {
			total := 0
			for j := range d.Populations {
				if d.Populations[j].CellType == hxNeuron {
					total += d.Populations[j].Size
				}
			}
			what := "the chip has 512 neuron circuits"
			if pl.opts.NeuronPermutation != nil {
				what = fmt.Sprintf("the neuron permutation lists %d circuits", len(perm))
			}
			return fmt.Errorf("%s: %d HXNeurons do not fit: the network has %d HXNeurons in all, and %s", d.PopName(i), p.Size, total, what)
		}
		pl.mp.circuits[i] = append([]int(nil), perm[next:next+p.Size]...)
		next += p.Size
	}
	return nil
}

// popOf returns the population of global neuron id g.
func (pl *plan) popOf(g int) int {
	return sort.Search(len(pl.offset)-1, func(i int) bool { return pl.offset[i+1] > g })
}

// prepareSources reads the spike sources' parameters and assigns the
// background generators.
func (pl *plan) prepareSources() error {
	d := pl.user
	pl.srcs = make([]*srcPop, len(d.Populations))
	gens := 0
	var genUsers []string
	for i := range d.Populations {
		p := &d.Populations[i]
		if p.CellType == hxNeuron {
			continue
		}
		s := &srcPop{index: i, kind: p.CellType, size: p.Size, offset: pl.offset[i],
			seed: deriveSeed(d.Simulation.Seed, domSource, uint64(i))}
		if err := s.setParams(p.Parameters, d.Simulation.Seed, 0); err != nil {
			return fmt.Errorf("%s: %w", d.PopName(i), err)
		}
		if s.kind == sourceOnChip {
			if gens >= numBackground {
				return fmt.Errorf("%s: SpikeSourcePoissonOnChip needs one of the chip's %d background spike generators, and all are taken (by %v)", d.PopName(i), numBackground, genUsers)
			}
			if p.Size > 256 {
				return fmt.Errorf("%s: a background spike generator serves at most 256 sources (its 8-bit label mask); this population has %d", d.PopName(i), p.Size)
			}
			s.gen = gens
			gens++
			genUsers = append(genUsers, d.PopName(i))
			if err := s.configureGenerator(); err != nil {
				return fmt.Errorf("%s: %w", d.PopName(i), err)
			}
		}
		pl.srcs[i] = s
	}
	return nil
}

// setParams reads a source's parameters (at build or from a set action).
func (s *srcPop) setParams(ps map[string]network.Value, seed uint64, version uint64) error {
	get := func(name string) *network.Value {
		if v, ok := ps[name]; ok {
			return &v
		}
		return nil
	}
	pseed := deriveSeed(seed, domSource, uint64(s.index), 1<<32+version)
	switch s.kind {
	case sourceArray:
		s.times = fillSeqs(get("spike_times"), s.size)
	case sourcePoisson:
		s.rate = fillNumbers(get("rate"), s.size, 1, pseed)
		s.start = fillNumbers(get("start"), s.size, 0, pseed+1)
		s.dur = fillNumbers(get("duration"), s.size, 1e10, pseed+2)
	case sourceOnChip:
		rate := fillNumbers(get("rate"), s.size, 1, pseed)
		sd := fillNumbers(get("seed"), s.size, 0, pseed+1)
		for i := range rate {
			if rate[i] != rate[0] || sd[i] != sd[0] {
				return errors.New("SpikeSourcePoissonOnChip: all neurons of a population share one background generator, so rate and seed must be the same for all")
			}
		}
		s.rate, s.start = rate, sd
	}
	return nil
}

func (s *srcPop) configureGenerator() error {
	period, rate8, ok := backgroundConfig(s.rate[0], s.size)
	if !ok {
		return fmt.Errorf("the chosen Poisson rate can not be realized on hardware. The product of rate and number of neurons is too high in this population (%g Hz x %d neurons exceeds the background generators' clock of %g MHz)", s.rate[0], s.size, backgroundHz/1e6)
	}
	s.period, s.rate8 = period, rate8
	s.genSeed = deriveSeed(uint64(s.start[0]), domSource, uint64(s.gen))
	return nil
}

// expandConnections draws every projection's connections as the engine
// would (same seeds, same order) and returns them as synapse specs.
func (pl *plan) expandConnections() ([][]connSpec, error) {
	d := pl.user
	total := 0.0
	for i := range d.Projections {
		total += d.EstimateSynapses(i)
		if total > 4*numCircuits*rowsPerSynram {
			return nil, fmt.Errorf("%s: the network asks for about %.0f connections by here; the chip has %d synapses", d.ProjName(i), total, numHemispheres*rowsPerSynram*numColumns)
		}
	}
	if len(d.Projections) == 0 {
		return nil, nil
	}
	drawn, err := system.DrawConnections(d, 0.1, func(p network.Population) string {
		if p.CellType == hxNeuron {
			return "IF_curr_exp"
		}
		return "SpikeSourceArray"
	}, nil, "weight")
	if err != nil {
		return nil, err
	}
	specs := make([][]connSpec, len(d.Projections))
	pl.positions = make([][2][]int64, len(d.Projections))
	for i := range d.Projections {
		pr := &d.Projections[i]
		pre, post, ws := drawn[i].Pre, drawn[i].Post, drawn[i].Values["weight"]
		preIDs, postIDs := pl.user.SelectionIDs(pr.Pre, pl.offset), pl.user.SelectionIDs(pr.Post, pl.offset)
		rec := int8(modeExc)
		if pr.ReceptorType == "inhibitory" {
			rec = modeInh
		}
		cs := make([]connSpec, len(pre))
		pos := [2][]int64{make([]int64, len(pre)), make([]int64, len(pre))}
		for k := range pre {
			pos[0][k], pos[1][k] = int64(pre[k]), int64(post[k])
			w := math.Round(ws[k])
			if math.Abs(w) > maxSynapseWeight*rowsPerSynram {
				return nil, fmt.Errorf("%s: weight %g cannot be realised: it would take %d synapses in parallel, and a column has %d rows", d.ProjName(i), w, int(math.Ceil(math.Abs(w)/maxSynapseWeight)), rowsPerSynram)
			}
			g := postIDs[post[k]]
			pp := pl.popOf(g)
			cs[k] = connSpec{src: int32(preIDs[pre[k]]), circuit: pl.mp.circuits[pp][g-pl.offset[pp]], weight: int(w), receptor: rec}
		}
		specs[i] = cs
		pl.positions[i] = pos
	}
	return specs, nil
}

// engineDescription builds what the engine runs.
func (pl *plan) engineDescription(specs [][]connSpec) (*network.Description, error) {
	d := pl.user
	ed := &network.Description{Format: d.Format, Version: d.Version, Annotations: d.Annotations,
		Simulation: network.Simulation{Timestep: pl.dtMs, MinDelay: pl.dtMs, MaxDelay: pl.dtMs, Seed: d.Simulation.Seed, Threads: d.Simulation.Threads}}
	ic := pl.opts.InitialConfig
	for i, p := range d.Populations {
		if !pl.hxPop[i] {
			ed.Populations = append(ed.Populations, network.Population{Label: p.Label, Size: p.Size, CellType: engineSourceType})
			continue
		}
		params := map[string]network.Value{}
		for k, v := range p.Parameters {
			params[k] = v
		}
		if ic != nil {
			for name, xs := range ic.Neurons {
				if _, given := params[name]; given {
					continue
				}
				vals := make([]float64, p.Size)
				for j, c := range pl.mp.circuits[i] {
					vals[j] = xs[c]
				}
				params[name] = network.Floats(vals)
			}
		}
		ed.Populations = append(ed.Populations, network.Population{Label: p.Label, Size: p.Size, CellType: hxNeuron, Parameters: params, Annotations: p.Annotations})
	}
	for i, pr := range d.Projections {
		pre, post, err := pl.connectionPositions(i)
		if err != nil {
			return nil, err
		}
		charges := make([]float64, len(specs[i]))
		for k := range charges {
			charges[k] = synapseCharge(&pl.mp.conns[i][k], pl.cm)
		}
		ed.Projections = append(ed.Projections, network.Projection{Label: pr.Label, Pre: pr.Pre, Post: pr.Post, ReceptorType: pr.ReceptorType,
			Synapse: network.Synapse{Type: "StaticSynapse"},
			Connections: &network.Connections{Pre: network.Ints(pre), Post: network.Ints(post),
				Parameters: map[string]network.Value{"weight": network.Floats(charges), "delay": network.Scalar(pl.dtMs)}}})
	}
	ed.Recordings = pl.rec.engineRecordings()
	return ed, nil
}

// connectionPositions returns projection i's connections as positions in
// its pre and post selections (the expansion's order).
func (pl *plan) connectionPositions(i int) ([]int64, []int64, error) {
	if pl.positions == nil {
		return nil, nil, errors.New("internal: connection positions missing")
	}
	return pl.positions[i][0], pl.positions[i][1], nil
}

func deriveSeed(seed uint64, keys ...uint64) uint64 {
	return rng.Derive(seed, keys...)
}
