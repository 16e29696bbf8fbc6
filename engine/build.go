package engine

import (
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"

	"github.com/nmp-platform/nmp/network"
)

// Options configure a Simulator.
type Options struct {
	// Threads is the number of threads; 0 means the description's hint, or
	// all cores.
	Threads int
	// Catalog and Models are the cell types a system offers and their
	// implementations; nil means PyNN's standard library.
	Catalog *network.Catalog
	Models  map[string]ModelFactory
	// Limits bound what the description may ask for.
	Limits network.Limits
	Logger *slog.Logger
	// Validated tells New that the description has passed network.Validate
	// with Catalog and Limits already, so that it is not checked twice.
	Validated bool
	// Plain makes the models take their plain per-neuron loops even where
	// a fast path applies, so that tests can hold the fast paths against them.
	Plain bool
}

// popRT is a population at run time.
type popRT struct {
	*Population
	model Model
	// chans maps the model's receptor index to a ring channel.
	chans []int
	// iext holds the external current (nil: no current source feeds it).
	iext []float64
	// gap holds the gap-junction current (nil: no electrical synapse).
	gap []float64
}

// projRT is a projection at run time.
type projRT struct {
	index   int
	name    string
	desc    *network.Projection
	typ     *network.SynapseType
	channel int
	pre     []int32 // global index of each pre-selection position
	post    []int32
	preLo   int32
	nrows   int
	parts   []*csr // one per thread, split by target
	n       int
	dyn     dynamics // nil for static synapses
	sv      *synValues
}

// dynamics is what non-static synapse types add to spike delivery.
type dynamics interface {
	// deliver handles a presynaptic spike of row r of part k, emitted at
	// stamp n+1, adding the transmitted weights to the ring.
	deliver(k int, c *csr, r int, n int64, dl *delivery)
	// post handles a spike at stamp n+1 of the postsynaptic neuron g, which
	// belongs to part k's thread.
	post(k int, c *csr, g int32, n int64)
	// reset clears the dynamic state (but not plastic weights).
	reset()
}

// delivery is where a thread puts arrivals.
type delivery struct {
	ring  []float64 // the projection's channel
	n     int       // neurons
	slots int64
}

// Simulator runs one network.
type Simulator struct {
	desc    *network.Description
	cat     *network.Catalog
	log     *slog.Logger
	dt      float64
	threads int
	n       int // neurons in all populations
	pops    []*popRT
	projs   []*projRT
	gaps    *gapJunctions
	currs   []*currentSource
	// ring holds per channel the arrivals, [slot][neuron]; slots is its length.
	ring     [][]float64
	channels []string
	slots    int64
	bounds   []int // thread k owns neurons [bounds[k], bounds[k+1])
	th       []*threadState
	step     int64
	segments []*Segment
	recs     *recording
	// For delivery: where each population ends, the static projections
	// each population feeds, the projections with dynamics.
	popEnd     []int
	staticFrom [][]*projRT
	dynProjs   []*projRT
}

// New compiles a description into a simulator. It validates the
// description against the catalog (unless opts.Validated says that was
// done) and checks what only the build can see (drawn values, delays
// against the ring); errors name the population or projection.
func New(d *network.Description, opts Options) (*Simulator, error) {
	cat := opts.Catalog
	if cat == nil {
		cat = network.Standard
	}
	models := opts.Models
	if models == nil {
		models = StandardModels
	}
	if !opts.Validated {
		if err := network.Validate(d, cat, opts.Limits); err != nil {
			return nil, err
		}
	}
	threads := opts.Threads
	if threads == 0 {
		threads = d.Simulation.Threads
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{desc: d, cat: cat, log: log, dt: d.Simulation.Timestep}
	offset := 0
	for i := range d.Populations {
		p := &d.Populations[i]
		ct := cat.Cells[p.CellType]
		f, ok := models[p.CellType]
		if !ok {
			return nil, fmt.Errorf("%s: cell type %s has no implementation in this system", d.PopName(i), p.CellType)
		}
		pop := newPopulation(d, i, offset, ct)
		pop.Plain = opts.Plain
		m, err := f(pop)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.PopName(i), err)
		}
		s.pops = append(s.pops, &popRT{Population: pop, model: m})
		offset += p.Size
	}
	s.n = offset
	s.popEnd = make([]int, len(s.pops))
	for i, p := range s.pops {
		s.popEnd[i] = p.Offset + p.Size
	}
	if int64(s.n) > math.MaxInt32 {
		return nil, fmt.Errorf("the network has %d neurons, more than this engine can index (%d)", s.n, math.MaxInt32)
	}
	threads = max(1, min(threads, s.n))
	s.threads = threads
	s.partition()
	// Receptor channels: one ring per receptor name used by any model.
	chanOf := map[string]int{}
	for _, p := range s.pops {
		p.chans = make([]int, len(p.Type.Receptors))
		for r, name := range p.Type.Receptors {
			c, ok := chanOf[name]
			if !ok {
				c = len(s.channels)
				chanOf[name] = c
				s.channels = append(s.channels, name)
			}
			p.chans[r] = c
		}
	}
	for i := range d.Projections {
		if err := s.buildProjection(i, chanOf); err != nil {
			return nil, err
		}
	}
	s.indexProjections()
	maxD := 1
	for _, pj := range s.projs {
		for _, c := range pj.parts {
			maxD = max(maxD, c.maxDelay())
		}
	}
	if md := d.Simulation.MaxDelay; md > 0 {
		maxD = max(maxD, delaySteps(md, s.dt))
	}
	s.slots = int64(maxD + 1)
	s.ring = make([][]float64, len(s.channels))
	for c := range s.ring {
		s.ring[c] = make([]float64, int(s.slots)*s.n)
	}
	for i := range d.CurrentSources {
		if err := s.buildCurrentSource(i); err != nil {
			return nil, err
		}
	}
	for _, p := range s.pops {
		if err := p.model.Prepare(s.dt); err != nil {
			return nil, fmt.Errorf("%s: %w", d.PopName(p.Index), err)
		}
		p.model.Reset()
	}
	s.th = make([]*threadState, threads)
	for k := range s.th {
		s.th[k] = s.newThreadState(k)
	}
	s.recs = newRecording(s)
	for i := range d.Recordings {
		if err := s.recs.apply(&d.Recordings[i]); err != nil {
			return nil, fmt.Errorf("recordings[%d]: %w", i, err)
		}
	}
	s.segments = []*Segment{s.newSegment(0)}
	return s, nil
}

// partition splits the neurons into contiguous ranges of about equal cost.
func (s *Simulator) partition() {
	cost := make([]float64, len(s.pops))
	total := 0.0
	for i, p := range s.pops {
		c := 1.0
		if p.Type.Source {
			c = 0.25
		}
		if cm, ok := p.model.(Coster); ok {
			c = cm.Cost()
		}
		cost[i] = c
		total += c * float64(p.Size)
	}
	s.bounds = []int{0}
	acc, k := 0.0, 1
	for i, p := range s.pops {
		for j := 0; j < p.Size; j++ {
			acc += cost[i]
			if k < s.threads && acc >= total*float64(k)/float64(s.threads) {
				s.bounds = append(s.bounds, p.Offset+j+1)
				k++
			}
		}
	}
	for len(s.bounds) < s.threads {
		s.bounds = append(s.bounds, s.n)
	}
	s.bounds = append(s.bounds, s.n)
}

// selection returns the global indices of a selection, in its order.
func (s *Simulator) selection(sel network.Selection) ([]int32, error) {
	var out []int32
	for _, part := range sel {
		p := s.pops[part.Population]
		if part.Indices == nil {
			for j := 0; j < p.Size; j++ {
				out = append(out, int32(p.Offset+j))
			}
			continue
		}
		xs, _, _ := part.Indices.Array.Int64s()
		for _, x := range xs {
			out = append(out, int32(p.Offset)+int32(x))
		}
	}
	sorted := slices.Clone(out)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			pop, local := s.locate(sorted[i])
			return nil, fmt.Errorf("neuron %d of %s is selected twice", local, s.desc.PopName(pop))
		}
	}
	return out, nil
}

// locate returns the population and local index of global neuron g.
func (s *Simulator) locate(g int32) (pop, local int) {
	if g < 0 || int(g) >= s.n {
		return -1, -1
	}
	pop = s.popOf(g)
	return pop, int(g) - s.pops[pop].Offset
}

func (s *Simulator) buildProjection(i int, chanOf map[string]int) error {
	d := s.desc
	pr := &d.Projections[i]
	name := d.ProjName(i)
	pre, err := s.selection(pr.Pre)
	if err != nil {
		return fmt.Errorf("%s.pre: %w", name, err)
	}
	post, err := s.selection(pr.Post)
	if err != nil {
		return fmt.Errorf("%s.post: %w", name, err)
	}
	typ := s.cat.Synapses[pr.Synapse.Type]
	if typ.Electrical {
		return s.buildGap(i, pre, post)
	}
	receptor := pr.ReceptorType
	if receptor == "" {
		receptor = "excitatory"
	}
	pj := &projRT{index: i, name: name, desc: pr, typ: typ, channel: chanOf[receptor], pre: pre, post: post}
	sv, err := s.synValues(pr, typ)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	pj.sv = sv
	whole, err := buildConnections(d, i, pre, post, sv, s.threads)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	pj.preLo, pj.nrows, pj.n = whole.preLo, whole.rows(), whole.len()
	pj.parts = whole.split(s.bounds)
	if err := s.attachDynamics(pj); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.projs = append(s.projs, pj)
	return nil
}

// synValues reads where the per-connection values of a projection come from.
func (s *Simulator) synValues(pr *network.Projection, typ *network.SynapseType) (*synValues, error) {
	get := func(name string) *network.Value {
		if pr.Connections != nil {
			if v, ok := pr.Connections.Parameters[name]; ok {
				return &v
			}
		}
		if v, ok := pr.Synapse.Parameters[name]; ok {
			return &v
		}
		return nil
	}
	sv := &synValues{dt: s.dt, maxDelaySteps: maxDelaySteps}
	if md := s.desc.Simulation.MaxDelay; md > 0 {
		sv.maxDelaySteps = min(maxDelaySteps, delaySteps(md, s.dt))
	}
	sv.weight = newValueSource(get("weight"), 0)
	sv.delay = newValueSource(get("delay"), s.minDelay())
	if pr.Connector != nil {
		for _, vs := range []*valueSource{&sv.weight, &sv.delay} {
			if vs.kind == network.KindArray {
				return nil, fmt.Errorf("per-connection weight or delay arrays need an explicit connection list, not a %s", pr.Connector.Type)
			}
		}
	}
	if sv.delay.homogeneous() {
		ds := delaySteps(sv.delay.c, s.dt)
		if ds > sv.maxDelaySteps {
			return nil, fmt.Errorf("delay %g ms is above the maximum %g ms", sv.delay.c, float64(sv.maxDelaySteps)*s.dt)
		}
		sv.delay0 = uint16(ds)
	} else {
		sv.hetDelay = true
	}
	if sv.weight.kind == network.KindRandom {
		// PyNN's sign rule, checked as values are drawn.
		receptor := pr.ReceptorType
		cond := false
		for _, part := range pr.Post {
			cond = cond || s.pops[part.Population].Type.ConductanceBased
		}
		switch {
		case cond || receptor == "" || receptor == "excitatory":
			sv.weightSign = 1
		case receptor == "inhibitory":
			sv.weightSign = -1
		}
	}
	for _, prm := range typ.Params {
		if prm.Name == "weight" || prm.Name == "delay" {
			continue
		}
		v := get(prm.Name)
		if v == nil || !v.IsSet() {
			continue
		}
		vs := newValueSource(v, prm.Default)
		if vs.homogeneous() {
			continue
		}
		if pr.Connector != nil && vs.kind == network.KindArray {
			return nil, fmt.Errorf("a per-connection %s array needs an explicit connection list", prm.Name)
		}
		sv.extras = append(sv.extras, prm.Name)
		sv.extraSrc = append(sv.extraSrc, vs)
	}
	if typ.Plastic {
		// Plastic weights evolve in double precision from the exact given
		// values, not from their single-precision copy.
		sv.extras = append(sv.extras, weight64)
		sv.extraSrc = append(sv.extraSrc, valueSource{ownWeight: true})
	}
	return sv, nil
}

// weight64 names the extra column holding plastic weights in double precision.
const weight64 = "weight64"

// minDelay is the default delay: min_delay, or the timestep.
func (s *Simulator) minDelay() float64 {
	if md := s.desc.Simulation.MinDelay; md > 0 {
		return md
	}
	return s.dt
}

// synParam returns the homogeneous value of a synapse parameter of a
// projection (its default if not given), looked up as synValues does: the
// connection list first, then the synapse, a one-element array counting as
// a number.
func synParam(pr *network.Projection, typ *network.SynapseType, name string) float64 {
	def := 0.0
	if p := typ.Param(name); p != nil {
		def = p.Default
	}
	var v *network.Value
	if pr.Connections != nil {
		if x, ok := pr.Connections.Parameters[name]; ok {
			v = &x
		}
	}
	if v == nil {
		if x, ok := pr.Synapse.Parameters[name]; ok {
			v = &x
		}
	}
	vs := newValueSource(v, def)
	if vs.homogeneous() {
		return vs.c
	}
	return def
}

// attachDynamics gives non-static synapse types their delivery.
func (s *Simulator) attachDynamics(pj *projRT) error {
	f, ok := synapseDynamics[pj.typ.Name]
	if !ok {
		if pj.typ.Name == "StaticSynapse" {
			return nil
		}
		// Running a dynamic synapse type as a static one would give
		// plausible but wrong results.
		return fmt.Errorf("synapse type %s has no implementation in this system", pj.typ.Name)
	}
	dyn, err := f(s, pj)
	if err != nil {
		return err
	}
	pj.dyn = dyn
	return nil
}

// synapseDynamics builds the delivery of non-static synapse types, by name.
var synapseDynamics = map[string]func(s *Simulator, pj *projRT) (dynamics, error){}
