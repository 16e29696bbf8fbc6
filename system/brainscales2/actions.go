package brainscales2

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// recState is what is recorded: per population and neuron, the analog
// variable (with its device suffix) and whether spikes are.
type recState struct {
	pl     *plan
	analog []map[int32]string
	spikes []map[int32]bool
}

func newRecState(pl *plan) recState {
	n := len(pl.user.Populations)
	r := recState{pl: pl, analog: make([]map[int32]string, n), spikes: make([]map[int32]bool, n)}
	for i := range r.analog {
		r.analog[i], r.spikes[i] = map[int32]string{}, map[int32]bool{}
	}
	return r
}

func (r *recState) clone() recState {
	c := recState{pl: r.pl, analog: make([]map[int32]string, len(r.analog)), spikes: make([]map[int32]bool, len(r.spikes))}
	for i := range r.analog {
		c.analog[i], c.spikes[i] = map[int32]string{}, map[int32]bool{}
		for k, v := range r.analog[i] {
			c.analog[i][k] = v
		}
		for k, v := range r.spikes[i] {
			c.spikes[i][k] = v
		}
	}
	return c
}

// selectionLocals lists a selection part's neurons.
func selectionLocals(d *network.Description, part network.SelectionPart) []int32 {
	if part.Indices == nil {
		out := make([]int32, d.Populations[part.Population].Size)
		for j := range out {
			out[j] = int32(j)
		}
		return out
	}
	xs, _, _ := part.Indices.Array.Int64s()
	out := make([]int32, len(xs))
	for j, x := range xs {
		out[j] = int32(x)
	}
	return out
}

// apply records rec: with replace, the listed variables become exactly what
// the selection records (a record action); without, they are added (the
// description's recordings). It returns the engine actions that do it.
func (r *recState) apply(rec *network.Recording, replace bool) ([]network.Action, error) {
	d := r.pl.user
	if rec.SamplingInterval != 0 {
		return nil, errors.New("sampling_interval: the chip's ADCs sample at their own rate (MADC about 29.4 MSample/s, CADC the configured period); a sampling interval cannot be set")
	}
	var analog []string
	spikes := false
	for _, v := range rec.Variables {
		if v == "spikes" {
			spikes = true
		} else {
			analog = append(analog, v)
		}
	}
	if len(analog) > 1 {
		return nil, fmt.Errorf("can only set 1 analog record type per neuron: the readout multiplexer of a circuit selects one of membrane, exc_synin, inh_synin and adaptation, and %s were asked for", strings.Join(analog, ", "))
	}
	next := r.clone()
	for _, part := range rec.Selection {
		p := part.Population
		if len(analog) > 0 && !r.pl.hxPop[p] {
			return nil, fmt.Errorf("%s: spike sources have only spikes to record", d.PopName(p))
		}
		for _, j := range selectionLocals(d, part) {
			if replace {
				delete(next.analog[p], j)
				delete(next.spikes[p], j)
			}
			if spikes {
				next.spikes[p][j] = true
			}
			if len(analog) == 1 {
				if old, ok := next.analog[p][j]; ok && old != analog[0] {
					return nil, fmt.Errorf("%s neuron %d: only one source can be recorded per neuron: it already records %s, and %s was asked for", d.PopName(p), j, old, analog[0])
				}
				next.analog[p][j] = analog[0]
			}
		}
	}
	if err := next.checkMADC(); err != nil {
		return nil, err
	}
	*r = next
	if !replace {
		return nil, nil
	}
	var acts []network.Action
	for _, part := range rec.Selection {
		acts = append(acts, r.groupActions(part.Population, selectionLocals(d, part))...)
	}
	return acts, nil
}

// checkMADC refuses what the membrane ADC cannot record in one run: it has
// two channels, one for the even and one for the odd circuits.
func (r *recState) checkMADC() error {
	if r.pl.sweep {
		return nil
	}
	d := r.pl.user
	type site struct {
		pop     int
		neuron  int32
		circuit int
	}
	var byParity [2][]site
	for p := range r.analog {
		for j, v := range r.analog[p] {
			if strings.HasSuffix(v, cadcSuffix) {
				continue
			}
			c := r.pl.mp.circuits[p][j]
			byParity[c%2] = append(byParity[c%2], site{p, j, c})
		}
	}
	for parity, ss := range byParity {
		if len(ss) <= 1 {
			continue
		}
		sort.Slice(ss, func(a, b int) bool { return ss[a].circuit < ss[b].circuit })
		names := make([]string, len(ss))
		for k, s := range ss {
			names[k] = fmt.Sprintf("%s neuron %d (circuit %d)", d.PopName(s.pop), s.neuron, s.circuit)
		}
		kind := []string{"even", "odd"}[parity]
		return fmt.Errorf("the membrane ADC records at most two neurons in a run, one on an even and one on an odd circuit (it has 2 channels), but %d %s circuits are to be recorded: %s; record the others in another run, or through the CADC (device \"cadc\")",
			len(ss), kind, strings.Join(names, ", "))
	}
	return nil
}

// spiking marks the neurons of population p whose spikes are recorded.
func (r *recState) spiking(p int, into []bool) {
	clear(into)
	for j := range r.spikes[p] {
		into[j] = true
	}
}

// observed lists the neurons of population p whose analog nodes are read.
func (r *recState) observed(p int) []int32 {
	var out []int32
	for j := range r.analog[p] {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

func (r *recState) interval(v string) float64 {
	dt := r.pl.dtMs
	if strings.HasSuffix(v, cadcSuffix) {
		return math.Max(1, math.Round(r.pl.opts.CADCPeriodUs/r.pl.opts.TimestepUs)) * dt
	}
	return dt
}

// groupActions returns engine record actions that make the given neurons of
// population p record what the state says, one per group of neurons that
// record the same.
func (r *recState) groupActions(p int, locals []int32) []network.Action {
	var acts []network.Action
	for _, rec := range r.groups(p, locals, true) {
		acts = append(acts, network.Action{Record: rec})
	}
	return acts
}

func (r *recState) groups(p int, locals []int32, withEmpty bool) []*network.Recording {
	type key struct {
		analog string
		spikes bool
	}
	members := map[key][]int64{}
	var keys []key
	for _, j := range locals {
		k := key{r.analog[p][j], r.spikes[p][j]}
		if _, ok := members[k]; !ok {
			keys = append(keys, k)
		}
		members[k] = append(members[k], int64(j))
	}
	var out []*network.Recording
	for _, k := range keys {
		vars := []string{}
		if k.spikes {
			vars = append(vars, "spikes")
		}
		iv := 0.0
		if k.analog != "" {
			vars = append(vars, k.analog)
			iv = r.interval(k.analog)
		}
		if len(vars) == 0 && !withEmpty {
			continue
		}
		idx := network.Ints(members[k])
		out = append(out, &network.Recording{Selection: network.Selection{{Population: p, Indices: &idx}}, Variables: vars, SamplingInterval: iv})
	}
	return out
}

// engineRecordings returns the state as the engine description's recordings.
func (r *recState) engineRecordings() []network.Recording {
	var out []network.Recording
	for p := range r.analog {
		locals := map[int32]bool{}
		for j := range r.analog[p] {
			locals[j] = true
		}
		for j := range r.spikes[p] {
			locals[j] = true
		}
		var ls []int32
		for j := range locals {
			ls = append(ls, j)
		}
		sort.Slice(ls, func(a, b int) bool { return ls[a] < ls[b] })
		for _, g := range r.groups(p, ls, false) {
			out = append(out, *g)
		}
	}
	return out
}

// madcInfo describes the MADC's channels for the plan's info.
func (r *recState) madcInfo() []map[string]any {
	var out []map[string]any
	for p := range r.analog {
		for j, v := range r.analog[p] {
			if strings.HasSuffix(v, cadcSuffix) {
				continue
			}
			c := r.pl.mp.circuits[p][j]
			out = append(out, map[string]any{"channel": c % 2, "population": p, "neuron": j, "circuit": c, "source": v})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a]["channel"].(int) < out[b]["channel"].(int) })
	return out
}

// action translates an action between runs.
func (pl *plan) action(a *network.Action) ([]network.Action, error) {
	switch {
	case a.Run != nil:
		if err := pl.beforeRun(*a.Run); err != nil {
			return nil, err
		}
		return []network.Action{*a}, nil
	case a.Reset:
		pl.xbar.reset()
		pl.rt.clock.Store(0)
		return []network.Action{*a}, nil
	case a.Set != nil:
		return pl.set(a.Set)
	case a.SetSynapses != nil:
		return pl.setSynapses(a.SetSynapses)
	case a.SetCurrentSource != nil:
		return nil, errors.New("set_current_source: the emulated chip has no current sources")
	case a.Record != nil:
		acts, err := pl.rec.apply(a.Record, true)
		if err != nil {
			return nil, err
		}
		for p, m := range pl.rt.neurons {
			m.obs = pl.rec.observed(p)
			pl.rec.spiking(p, m.logSpikes)
		}
		pl.info["madc"] = pl.rec.madcInfo()
		return acts, nil
	}
	return []network.Action{*a}, nil
}

// beforeRun computes the arrivals of all events of the coming run.
func (pl *plan) beforeRun(ms float64) error {
	if len(pl.rt.sources) == 0 {
		return nil
	}
	now := pl.rt.clock.Load()
	steps := int64(math.Round(ms / pl.dtMs))
	stepNs := pl.opts.TimestepUs * 1e3
	t0, t1 := float64(now)*stepNs, float64(now+steps)*stepNs
	var evs []event
	for _, s := range pl.srcs {
		if s != nil {
			evs = s.events(t0, t1, evs)
		}
	}
	slices.SortFunc(evs, func(a, b event) int {
		if a.tNs != b.tNs {
			return cmp.Compare(a.tNs, b.tNs)
		}
		return cmp.Compare(a.src, b.src)
	})
	arr := make([]float64, len(evs))
	pl.xbar.route(evs, func(src int32) uint8 { return pl.mp.busMask[src] }, arr)
	add := make([][]arrival, len(pl.srcs))
	for k, e := range evs {
		if math.IsNaN(arr[k]) {
			continue
		}
		st := max(int64(math.Round(arr[k]/stepNs)), now+1)
		add[e.pop] = append(add[e.pop], arrival{st, e.local})
	}
	for p, s := range pl.rt.sources {
		s.setArrivals(now+1, add[p])
	}
	pl.info["crossbar"] = map[string]any{"events": pl.xbar.events, "dropped": pl.xbar.dropped, "fifo_depth": pl.xbar.fifo}
	return nil
}

// set changes parameters between runs: a source's on the plan's side, an
// HXNeuron's in the engine.
func (pl *plan) set(a *network.SetAction) ([]network.Action, error) {
	d := pl.user
	var acts []network.Action
	pos := 0
	pl.actions++
	for _, part := range a.Selection {
		p := part.Population
		locals := selectionLocals(d, part)
		n := len(locals)
		if pl.hxPop[p] {
			if len(a.InitialValues) > 0 || len(a.State) > 0 {
				return nil, fmt.Errorf("%s: the membrane of an analog neuron circuit cannot be set or initialised", d.PopName(p))
			}
			sub := map[string]network.Value{}
			for name, v := range a.Parameters {
				sub[name] = sliceValue(v, pos, n)
			}
			if err := checkEmulated(d.PopName(p), sub); err != nil {
				return nil, err
			}
			acts = append(acts, network.Action{Set: &network.SetAction{Selection: network.Selection{part}, Parameters: sub}})
		} else {
			s := pl.srcs[p]
			full := s.currentParams()
			for name, v := range a.Parameters {
				ct := userCatalog.Cells[s.kind]
				pd := ct.Param(name)
				if pd == nil {
					return nil, fmt.Errorf("%s: %s has no parameter %q", d.PopName(p), s.kind, name)
				}
				vals := full[name]
				for k, j := range locals {
					if pd.Kind == network.Sequence {
						vals.seqs[j] = seqAt(v, pos+k)
					} else {
						vals.nums[j] = numAt(v, pos+k, rng.Derive(d.Simulation.Seed, domSource, uint64(p), uint64(j), pl.actions))
					}
				}
				full[name] = vals
			}
			s.version++
			if err := s.applyParams(full); err != nil {
				return nil, fmt.Errorf("%s: %w", d.PopName(p), err)
			}
		}
		pos += n
	}
	return acts, nil
}

// paramVals is one parameter of all neurons of a source population.
type paramVals struct {
	nums []float64
	seqs [][]float64
}

func (s *srcPop) currentParams() map[string]paramVals {
	m := map[string]paramVals{}
	switch s.kind {
	case sourceArray:
		seqs := make([][]float64, s.size)
		copy(seqs, s.times)
		m["spike_times"] = paramVals{seqs: seqs}
	case sourcePoisson:
		m["rate"] = paramVals{nums: append([]float64(nil), s.rate...)}
		m["start"] = paramVals{nums: append([]float64(nil), s.start...)}
		m["duration"] = paramVals{nums: append([]float64(nil), s.dur...)}
	case sourceOnChip:
		m["rate"] = paramVals{nums: append([]float64(nil), s.rate...)}
		m["seed"] = paramVals{nums: append([]float64(nil), s.start...)}
	}
	return m
}

func (s *srcPop) applyParams(m map[string]paramVals) error {
	switch s.kind {
	case sourceArray:
		s.times = m["spike_times"].seqs
	case sourcePoisson:
		s.rate, s.start, s.dur = m["rate"].nums, m["start"].nums, m["duration"].nums
	case sourceOnChip:
		rate, sd := m["rate"].nums, m["seed"].nums
		for i := range rate {
			if rate[i] != rate[0] || sd[i] != sd[0] {
				return errors.New("SpikeSourcePoissonOnChip: all neurons of a population share one background generator, so rate and seed must be the same for all")
			}
		}
		s.rate, s.start = rate, sd
		return s.configureGenerator()
	}
	return nil
}

// sliceValue returns the part of v that belongs to n elements from pos on.
func sliceValue(v network.Value, pos, n int) network.Value {
	if v.Kind != network.KindArray || v.Array.Len() <= 1 {
		return v
	}
	xs := v.Array.Float64s()
	return network.Floats(append([]float64(nil), xs[pos:pos+n]...))
}

func numAt(v network.Value, i int, seed uint64) float64 {
	switch v.Kind {
	case network.KindScalar:
		return v.Scalar
	case network.KindArray:
		if v.Array.Len() == 1 {
			return v.Array.Float(0)
		}
		return v.Array.Float(i)
	case network.KindRandom:
		r := rng.New(seed)
		return v.Dist.Draw(&r)
	}
	return 0
}

func seqAt(v network.Value, i int) []float64 {
	switch v.Kind {
	case network.KindScalar:
		return []float64{v.Scalar}
	case network.KindRagged:
		return append([]float64(nil), v.Seq(i)...)
	case network.KindArray:
		return append([]float64(nil), v.Array.Float64s()...)
	}
	return nil
}

// setSynapses changes the weights of a projection between runs. The
// placement stays: a new weight must need as many parallel synapses as the
// old one.
func (pl *plan) setSynapses(a *network.SetSynapsesAction) ([]network.Action, error) {
	d := pl.user
	i := a.Projection
	name := d.ProjName(i)
	conns := pl.mp.conns[i]
	charges := make([]float64, len(conns))
	for pname, v := range a.Parameters {
		switch pname {
		case "weight":
		case "delay":
			return nil, fmt.Errorf("%s.delay: Setting the delay unequal 0 is not supported: the chip's synapses have no delay", name)
		default:
			return nil, fmt.Errorf("%s: StaticSynapse on the chip has only a weight to set, not %q", name, pname)
		}
		if v.Kind == network.KindArray && v.Array.Len() != 1 && v.Array.Len() != len(conns) {
			return nil, fmt.Errorf("%s.weight: %d values for %d connections", name, v.Array.Len(), len(conns))
		}
		inh := d.Projections[i].ReceptorType == "inhibitory"
		pl.actions++
		newW := make([][]int8, len(conns))
		for k := range conns {
			w := math.Round(numAt(v, k, rng.Derive(d.Simulation.Seed, domSynapse, uint64(i), uint64(k), pl.actions)))
			if (inh && w > 0) || (!inh && w < 0) {
				return nil, fmt.Errorf("%s.weight: Weights must be positive for conductance-based and/or excitatory synapses and negative for inhibitory synapses (got %g)", name, w)
			}
			ws := splitWeight(int(w))
			cp := &conns[k]
			if len(ws) != len(cp.weights) {
				return nil, fmt.Errorf("%s.weight: connection %d was placed on %d synapse(s) for its weight; a weight of %g needs %d, which takes a new placement: build the network again with the new weights",
					name, k, len(cp.weights), w, len(ws))
			}
			newW[k] = ws
		}
		for k := range conns {
			conns[k].weights = newW[k]
			charges[k] = synapseCharge(&conns[k], pl.cm)
		}
	}
	return []network.Action{{SetSynapses: &network.SetSynapsesAction{Projection: i, Parameters: map[string]network.Value{"weight": network.Floats(charges)}}}}, nil
}
