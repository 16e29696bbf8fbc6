package spinnaker

import (
	"fmt"
	"math"
	"slices"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

// Memory per core (bytes), as sPyNNaker's resource estimates count it, in
// round figures: the neuron and synapse state of a LIF neuron in DTCM, the
// ring buffers (16 delay slots × 2 synapse types × 16 bits per neuron,
// rounded up to a power of two of neurons), and what the core's code keeps
// besides (stack, heap, the master population table's cache).
const (
	dtcmPerNeuron   = 64
	dtcmFixed       = 12 * 1024
	sdramCoreFixed  = 16 * 1024
	sdramPerNeuron  = 96
	rowHeaderWords  = 3
	bytesPerWord    = 4
	sdramPerSource  = 32
	recordingBuffer = 1 << 20 // minimum recording buffer of a core
)

// mapNetwork partitions, places and routes the network.
func (pl *plan) mapNetwork() error {
	d := pl.user
	mp := &mapping{}
	pl.mp = mp
	// Outgoing delays beyond the row's range need a delay-extension vertex.
	needsExt := make([]bool, len(d.Populations))
	for i := range pl.conns {
		c := &pl.conns[i]
		for k, t := range c.ticks {
			if t > nativeDelayTicks {
				needsExt[pl.popOf(int(c.preG[k]))] = true
			}
		}
	}
	for i, p := range d.Populations {
		atoms := maxAtomsPerCoreDef
		if a, ok := pl.opts.MaxAtomsPerCore[p.CellType]; ok {
			atoms = a
		}
		if a := pl.popOpts(i).MaxAtomsPerCore; a > 0 {
			atoms = a
		}
		mp.vertices = append(mp.vertices, vertex{pop: i, name: d.PopName(i), size: p.Size, atoms: atoms,
			neuron: !userCatalog.Cells[p.CellType].Source})
	}
	for i, p := range d.Populations {
		if needsExt[i] {
			mp.vertices = append(mp.vertices, vertex{pop: i, name: d.PopName(i) + " (delay extension)", size: p.Size,
				atoms: mp.vertices[i].atoms, delayExt: true})
		}
	}
	// Incoming synapses per population, for the synaptic matrices' size:
	// total connections and the longest row (per pre neuron).
	inSyn := make([]int64, len(d.Populations))
	for i := range pl.conns {
		for _, g := range pl.conns[i].postG {
			inSyn[pl.popOf(int(g))]++
		}
	}
	fits := func(v *vertex, n int) (int, int, bool) {
		if v.delayExt {
			return dtcmFixed + n*8, sdramCoreFixed + n*8*16, true
		}
		if !v.neuron {
			s := sdramCoreFixed + n*sdramPerSource
			return dtcmFixed + n*16, s, true
		}
		ring := 1
		for ring < n {
			ring <<= 1
		}
		dtcm := dtcmFixed + n*dtcmPerNeuron + nativeDelayTicks*2*ring*2
		// The synaptic matrix of a slice is about its share of the
		// population's synapses, plus a row header per pre neuron.
		p := &d.Populations[v.pop]
		syn := int(float64(inSyn[v.pop]) * float64(n) / float64(p.Size) * bytesPerWord)
		sdram := sdramCoreFixed + n*sdramPerNeuron + syn + recordingBuffer
		return dtcm, sdram, dtcm <= dtcmBytes && sdram <= sdramPerChip
	}
	if err := mp.partition(fits); err != nil {
		return err
	}
	pl.gSlice = make([]int32, len(pl.gPop))
	for g, p := range pl.gPop {
		pl.gSlice[g] = int32(mp.sliceOf(int(p), g-pl.offset[p]))
	}
	m, err := pl.machine(len(mp.slices))
	if err != nil {
		return err
	}
	mp.m = m
	if err := mp.place(); err != nil {
		return err
	}
	if err := mp.allocateKeys(); err != nil {
		return err
	}
	pl.targets()
	return mp.route()
}

// machine is the machine the job runs on: the file's, the board the
// options name, the boards setup() asked for, or as many boards of the
// large machine as the partitioned network needs (the HBP portal's
// estimate).
func (pl *plan) machine(cores int) (*Machine, error) {
	o := &pl.opts
	boards := o.Boards
	if boards == 0 {
		perBoard := 808 // application cores of a 48-chip board
		boards = max(1, (cores+perBoard-1)/perBoard)
	}
	if o.Machine != nil {
		return o.Machine.Build(boards)
	}
	if o.Version != 0 && o.Boards == 0 {
		return NewBoard(o.Version)
	}
	return NewMachine(boards)
}

// sliceOf returns the slice of vertex v that holds atom a.
func (mp *mapping) sliceOf(v, a int) int {
	vx := &mp.vertices[v]
	return vx.slices[a/vx.atoms]
}

// targets computes, for every slice, the slices its packets must reach.
func (pl *plan) targets() {
	mp := pl.mp
	ext := map[int]int{} // population -> its delay-extension vertex
	for vi, v := range mp.vertices {
		if v.delayExt {
			ext[v.pop] = vi
		}
	}
	pairs := make([]uint64, 0, pl.nConns())
	for i := range pl.conns {
		c := &pl.conns[i]
		for k := range c.preG {
			src, dst := uint64(pl.gSlice[c.preG[k]]), uint64(pl.gSlice[c.postG[k]])
			if c.ticks[k] > nativeDelayTicks {
				pp := pl.popOf(int(c.preG[k]))
				e := uint64(mp.sliceOf(ext[pp], int(c.preG[k])-pl.offset[pp]))
				pairs = append(pairs, src<<32|e, e<<32|dst)
				continue
			}
			pairs = append(pairs, src<<32|dst)
		}
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	for _, x := range pairs {
		s := int(x >> 32)
		mp.slices[s].targets = append(mp.slices[s].targets, int(x&0xFFFFFFFF))
	}
}

// nConns is the number of connections of all projections.
func (pl *plan) nConns() int {
	n := 0
	for i := range pl.conns {
		n += len(pl.conns[i].preG)
	}
	return n
}

// buildLoad prepares the real-time cost model: every neuron's cost on the
// cores its synapses are on, and the chips its packets pass.
func (pl *plan) buildLoad() {
	mp := pl.mp
	d := pl.user
	n := pl.offset[len(d.Populations)]
	chipIndex := map[*Chip]int{}
	for _, c := range mp.m.Chips() {
		chipIndex[c] = len(chipIndex)
	}
	// Row lengths per (pre neuron, post slice): the pairs sorted, runs counted.
	keys := make([]uint64, 0, pl.nConns())
	for i := range pl.conns {
		c := &pl.conns[i]
		for k := range c.preG {
			keys = append(keys, uint64(c.preG[k])<<32|uint64(pl.gSlice[c.postG[k]]))
		}
	}
	slices.Sort(keys)
	tickCycles := int64(math.Round(pl.dt * 1e-3 * pl.tsf * clockHz))
	tickSec := pl.dt * 1e-3 * pl.tsf
	l := newLoad(len(mp.slices), len(chipIndex), tickCycles, int64(routerPacketsPerSecond*tickSec), int64(reinjectPerSecond*tickSec))
	l.fanStart = make([]int32, n+1)
	l.chipStart = make([]int32, n+1)
	ki := 0
	for g := 0; g < n; g++ {
		l.fanStart[g] = int32(len(l.fanCore))
		for ki < len(keys) && int(keys[ki]>>32) == g {
			k0 := ki
			for ki < len(keys) && keys[ki] == keys[k0] {
				ki++
			}
			l.fanCore = append(l.fanCore, int32(keys[k0]&0xFFFFFFFF))
			l.fanCycles = append(l.fanCycles, cyclesPerRow+cyclesPerSynapse*int64(ki-k0))
		}
		l.chipStart[g] = int32(len(l.chipOf))
		for _, c := range mp.tree[pl.gSlice[g]] {
			l.chipOf = append(l.chipOf, int32(chipIndex[c]))
		}
	}
	l.fanStart[n] = int32(len(l.fanCore))
	l.chipStart[n] = int32(len(l.chipOf))
	for si := range mp.slices {
		s := &mp.slices[si]
		v := &mp.vertices[s.vertex]
		per := int64(cyclesPerSourceAtom)
		if v.neuron {
			per = cyclesPerNeuron(d.Populations[v.pop].CellType)
		}
		l.base[si] = cyclesTickOverhead + per*int64(s.hi-s.lo)
	}
	pl.rt.load = l
}

// engineDescription builds what the engine runs: the same populations
// under the machine's models, every projection as its explicit
// connections with the weights as the 16-bit words represent them and the
// delays in whole time steps.
func (pl *plan) engineDescription() (*network.Description, error) {
	d := pl.user
	ed := &network.Description{Format: d.Format, Version: d.Version, Annotations: d.Annotations,
		Simulation: network.Simulation{Timestep: pl.dt, MinDelay: pl.dt, Seed: d.Simulation.Seed, Threads: d.Simulation.Threads},
		Recordings: d.Recordings, CurrentSources: d.CurrentSources, Schedule: nil}
	for _, p := range d.Populations {
		q := p
		q.CellType = enginePrefix + p.CellType
		ed.Populations = append(ed.Populations, q)
	}
	maxT := int32(1)
	for i, pr := range d.Projections {
		c := &pl.conns[i]
		ws := make([]float64, len(c.w))
		ds := make([]float64, len(c.w))
		r := c.syn
		changed, saturated, most := 0, 0, 0.0
		for k, w := range c.w {
			qp := pl.popOf(int(c.postG[k]))
			word, v := pl.quantiseFor(w, qp, r)
			ws[k] = v
			if v != w {
				changed++
				most = math.Max(most, math.Abs(v-w))
				if word == math.MaxUint16 {
					saturated++
				}
			}
			ds[k] = float64(c.ticks[k]) * pl.dt
			maxT = max(maxT, c.ticks[k])
		}
		if changed > 0 {
			detail := fmt.Sprintf("%d of %d weights changed to the 16-bit words' values, by at most %.4g", changed, len(c.w), most)
			if saturated > 0 {
				detail += fmt.Sprintf(" (%d at the largest word)", saturated)
			}
			pl.changes = append(pl.changes, map[string]any{"what": d.ProjName(i) + ": weights quantised", "detail": detail})
		}
		syn, err := pl.engineSynapse(i)
		if err != nil {
			return nil, err
		}
		ed.Projections = append(ed.Projections, network.Projection{Label: pr.Label, Pre: pr.Pre, Post: pr.Post,
			ReceptorType: pr.ReceptorType, Synapse: syn,
			Connections: &network.Connections{Pre: network.Ints(c.pre), Post: network.Ints(c.post),
				Parameters: map[string]network.Value{"weight": network.Floats(ws), "delay": network.Floats(ds)}}})
	}
	ed.Simulation.MaxDelay = float64(maxT) * pl.dt
	return ed, nil
}

// engineSynapse is projection i's synapse type for the engine: static, or
// the script's STDPMechanism with its rules (the weight and delay of each
// connection are in its explicit connections).
func (pl *plan) engineSynapse(i int) (network.Synapse, error) {
	sy := pl.user.Projections[i].Synapse
	if sy.Type != "STDPMechanism" {
		return network.Synapse{Type: "StaticSynapse"}, nil
	}
	params := map[string]network.Value{}
	for k, v := range sy.Parameters {
		if k != "weight" && k != "delay" {
			params[k] = v
		}
	}
	// The weights are 16-bit words in the target's ring-buffer scale: one
	// scale, so one target population (or populations of equal shifts).
	c := &pl.conns[i]
	shift, ws := -1, 1.0
	for _, g := range c.postG {
		q := pl.popOf(int(g))
		s := int(pl.shifts[q][c.syn])
		if shift >= 0 && (s != shift || pl.weightScale(q) != ws) {
			return network.Synapse{}, fmt.Errorf("%s: a plastic projection onto populations of different weight scales (ring-buffer shifts %d and %d) is not built on nmp's SpiNNaker; project onto each population separately", pl.user.ProjName(i), shift, s)
		}
		shift, ws = s, pl.weightScale(q)
	}
	params["ring_buffer_shift"] = network.Scalar(float64(max(shift, 0)))
	params["weight_scale"] = network.Scalar(ws)
	return network.Synapse{Type: stdpSynapse, Parameters: params, TimingDependence: sy.TimingDependence, WeightDependence: sy.WeightDependence}, nil
}

// counted wraps a model to charge its spikes to the cost model and to
// close each tick's accounts.
type counted struct {
	engine.Model
	st  *runState
	pop *engine.Population
}

func (c *counted) Cost() float64 {
	if k, ok := c.Model.(engine.Coster); ok {
		return k.Cost()
	}
	return 1
}

func (c *counted) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	l := c.st.load
	first := c.pop.Index == 0 && lo == 0
	if first && n > 0 {
		// All of tick n−1's spikes are in (the engine's barrier), and
		// none of tick n+1's can be: close tick n−1.
		l.fold(n - 1)
	}
	if n == 0 {
		// A run from the start: initial values set after the reset are
		// in the engine's float state only.
		if r, ok := c.Model.(interface{ resync(lo, hi int) }); ok {
			r.resync(lo, hi)
		}
	}
	k := len(out.IDs)
	c.Model.Step(n, lo, hi, in, out)
	for _, g := range out.IDs[k:] {
		l.spike(int(g), n)
	}
	if first {
		c.st.tick.Store(n + 1) // ticks run since the start or the last reset
	}
}

// action translates the script's actions: sPyNNaker's rules of
// "Simulation execution", and the virtual board.
func (pl *plan) action(a *network.Action) ([]network.Action, error) {
	if a.Run != nil && pl.virtual {
		return nil, fmt.Errorf("virtual_board: the machine is virtual: the network was mapped and routed (see the mapping) but nothing runs")
	}
	if a.SetSynapses != nil {
		return nil, fmt.Errorf("set_synapses: nmp's SpiNNaker does not change weights or delays once the network is mapped (sPyNNaker does not between run() and reset(); re-quantising them after the mapping is not built): set them before the first run")
	}
	// Neuron parameters set between runs take effect at the next run, the
	// state going on: today's sPyNNaker writes them to the cores before it
	// resumes (its integration tests set tau_syn_E between run(2) and
	// run(3)); the guidebook's 2019 rule against it no longer holds.
	if a.Run != nil {
		// Close the ticks of the previous run before a new one starts.
		pl.finishTicks()
	}
	if a.Reset {
		// The engine starts again at tick 0: the counts go on.
		pl.finishTicks()
		if l := pl.rt.load; l != nil {
			l.lastFolded = -1
		}
		pl.rt.tick.Store(0)
	}
	if a.Record != nil {
		pl.noteRecording(a.Record)
	}
	return []network.Action{*a}, nil
}

// finishTicks closes the last ticks of a run.
func (pl *plan) finishTicks() {
	l := pl.rt.load
	if l == nil {
		return
	}
	// Every tick but the last was closed as the run went; close the last.
	for k := max(l.lastFolded+1, pl.rt.tick.Load()-1); k < pl.rt.tick.Load(); k++ {
		l.fold(k)
	}
}

// inputOfTick dates a recorded synaptic input to the tick that used it.
// neuron_impl_standard.h records, in tick n, the voltage before the tick's
// update and the input the update uses (the ring buffer's arrivals of tick
// n included); the engine samples after each step, so the voltage after
// step n−1 is already the voltage at the start of tick n, but the input
// the models keep for recording (the input of step n) is sampled at n+1:
// one step earlier is its time. The sample at the segment's start (the
// initial value, which no tick used) goes; a run of n ticks then has n
// samples of its inputs, as on the machine, and n+1 of the rest. Sampling
// intervals other than the time step are left as they are.
func (pl *plan) inputOfTick(sig *engine.Signal) *engine.Signal {
	switch sig.Variable {
	case "gsyn_exc", "gsyn_inh", "isyn_exc", "isyn_inh":
	default:
		return sig
	}
	if sig.Times != nil || math.Abs(sig.Interval-pl.dt) > 1e-9*pl.dt {
		return sig
	}
	ns := *sig
	ns.TStart -= pl.dt
	if ns.TStart < -pl.dt/2 {
		ns.TStart += sig.Interval
		if n := len(sig.Indices); len(ns.Data) >= n {
			ns.Data = ns.Data[n:]
		}
	}
	return &ns
}

// readout reports spikes at their tick's time (sPyNNaker records a spike
// of tick n at n·dt; the engine's grid puts it at the end of the step),
// and adds the run's real-time figures to the mapping's info.
func (pl *plan) readout(segs []*engine.Segment) ([]*engine.Segment, error) {
	pl.finishTicks()
	out := make([]*engine.Segment, len(segs))
	for i, seg := range segs {
		ns := *seg
		ns.Spikes = make([]engine.PopSpikes, len(seg.Spikes))
		for p, ps := range seg.Spikes {
			ts := make([]float64, len(ps.Times))
			for k, t := range ps.Times {
				ts[k] = math.Max(0, t-pl.dt)
			}
			ns.Spikes[p] = engine.PopSpikes{Recorded: ps.Recorded, IDs: ps.IDs, Times: ts}
		}
		ns.Signals = make([]*engine.Signal, len(seg.Signals))
		for k, sig := range seg.Signals {
			ns.Signals[k] = pl.inputOfTick(sig)
		}
		out[i] = &ns
	}
	return out, nil
}
