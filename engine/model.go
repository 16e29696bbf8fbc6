package engine

import (
	"fmt"
	"hash/fnv"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/network"
)

// Model advances the neurons of one population. The engine calls Step once
// per step for each thread's share of the population, so a model's hot loop
// runs over a range of neurons without interface calls per neuron.
type Model interface {
	// Prepare computes what derives from the parameters (propagators, step
	// counts). It is called after the build and after every parameter change.
	Prepare(dt float64) error
	// Reset clears hidden state (refractory counters, source cursors) after
	// the engine has copied the initial values into the state variables.
	Reset()
	// Step advances neurons [lo, hi) of the population from step n to n+1,
	// consuming the arrivals in in.Syn and reporting spikes to out.
	Step(n int64, lo, hi int, in *Input, out *Spikes)
}

// Coster is implemented by models that cost much more (or less) per neuron
// and step than a leaky integrate-and-fire neuron, whose cost is 1; the
// engine balances its threads by it. Models without it count as 1 (spike
// sources as 0.25).
type Coster interface {
	Cost() float64
}

// Input is what a population receives over one step.
type Input struct {
	// Syn holds, per receptor type of the model (in its catalog order), the
	// arrivals at the end of the step: population-local slices that Step
	// must read and zero.
	Syn [][]float64
	// I holds the external current of current sources in nA, constant over
	// the step; nil when no source feeds the population.
	I []float64
	// Gap holds the current of electrical synapses in nA; nil when none.
	Gap []float64
}

// external returns the external and gap-junction currents of neurons
// [lo, hi), each nil where absent and otherwise exactly hi-lo long, so that
// a loop over hi-lo neurons needs no bounds checks on them.
func (in *Input) external(lo, hi int) (iext, gap []float64) {
	if in.I != nil {
		iext = in.I[lo:hi:hi]
	}
	if in.Gap != nil {
		gap = in.Gap[lo:hi:hi]
	}
	return iext, gap
}

// Spikes collects the spikes of a step as global neuron indices.
type Spikes struct {
	IDs  []int32
	base int32
}

// Add records a spike of local neuron i.
func (s *Spikes) Add(i int) { s.IDs = append(s.IDs, s.base+int32(i)) }

// Population is what a model is built from: the population's parameters and
// state as flat per-neuron slices. Models keep the slices they need; the
// engine changes parameters in place and then calls Prepare.
type Population struct {
	Index  int
	Label  string
	Type   *network.CellType
	Offset int
	Size   int
	// Params holds one value per neuron for each Number parameter.
	Params map[string][]float64
	// Seqs holds one sequence per neuron for each Sequence parameter.
	Seqs map[string][][]float64
	// State holds the state variables; Initial their initial values.
	State   map[string][]float64
	Initial map[string][]float64
	// Seed derives the population's random streams.
	Seed uint64
	// Plain asks the model for its plain per-neuron loops, not its fast
	// paths (Options.Plain).
	Plain bool
}

// ModelFactory builds a Model for a population.
type ModelFactory func(p *Population) (Model, error)

// StandardModels are the engine's implementations of PyNN's standard cell
// types, by name.
var StandardModels = map[string]ModelFactory{}

func registerModel(name string, f ModelFactory) {
	if _, dup := StandardModels[name]; dup {
		panic("engine: model registered twice: " + name)
	}
	StandardModels[name] = f
}

// Stream domains keep the random streams of different uses apart.
const (
	domainParam uint64 = iota + 1
	domainConnect
	domainSource
	domainNoise
	domainSynapse
	domainNeuron
)

func nameKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// fillNumber sets dst (one value per element) from v, drawing random values
// from the stream named by key.
func fillNumber(dst []float64, v *network.Value, def float64, seed uint64) {
	switch {
	case v == nil || !v.IsSet():
		for i := range dst {
			dst[i] = def
		}
	case v.Kind == network.KindScalar:
		for i := range dst {
			dst[i] = v.Scalar
		}
	case v.Kind == network.KindArray:
		xs := v.Array.Float64s()
		if len(xs) == 1 {
			for i := range dst {
				dst[i] = xs[0]
			}
		} else {
			copy(dst, xs)
		}
	case v.Kind == network.KindRandom:
		r := rng.New(seed)
		for i := range dst {
			dst[i] = v.Dist.Draw(&r)
		}
	}
}

// fillSeqs sets one sequence per element from v.
func fillSeqs(n int, v *network.Value, def []float64) [][]float64 {
	out := make([][]float64, n)
	switch {
	case v == nil || !v.IsSet():
		for i := range out {
			out[i] = def
		}
	case v.Kind == network.KindRagged:
		for i := range out {
			out[i] = v.Seq(i)
		}
	default:
		s := v.Seq(0)
		for i := range out {
			out[i] = s
		}
	}
	return out
}

// newPopulation builds the parameter and state arrays of population i.
func newPopulation(d *network.Description, i, offset int, ct *network.CellType) *Population {
	p := &d.Populations[i]
	pop := &Population{
		Index: i, Label: p.Label, Type: ct, Offset: offset, Size: p.Size,
		Params: map[string][]float64{}, Seqs: map[string][][]float64{},
		State: map[string][]float64{}, Initial: map[string][]float64{},
		Seed: rng.Derive(d.Simulation.Seed, domainNeuron, uint64(i)),
	}
	for _, pd := range ct.Params {
		v, ok := p.Parameters[pd.Name]
		var vp *network.Value
		if ok {
			vp = &v
		}
		if pd.Kind == network.Sequence {
			pop.Seqs[pd.Name] = fillSeqs(p.Size, vp, pd.DefaultSeq)
			continue
		}
		xs := make([]float64, p.Size)
		fillNumber(xs, vp, pd.Default, rng.Derive(d.Simulation.Seed, domainParam, uint64(i), nameKey(pd.Name)))
		pop.Params[pd.Name] = xs
	}
	for _, sd := range ct.State {
		v, ok := p.InitialValues[sd.Name]
		var vp *network.Value
		if ok {
			vp = &v
		}
		xs := make([]float64, p.Size)
		fillNumber(xs, vp, sd.Default, rng.Derive(d.Simulation.Seed, domainParam, uint64(i), nameKey("init:"+sd.Name)))
		pop.Initial[sd.Name] = xs
		pop.State[sd.Name] = append([]float64(nil), xs...)
	}
	return pop
}

// param returns the parameter slice name or panics: a model asking for a
// parameter its catalog entry lacks is a programming error.
func (p *Population) param(name string) []float64 {
	xs, ok := p.Params[name]
	if !ok {
		panic(fmt.Sprintf("engine: %s has no parameter %q", p.Type.Name, name))
	}
	return xs
}

func (p *Population) state(name string) []float64 {
	xs, ok := p.State[name]
	if !ok {
		panic(fmt.Sprintf("engine: %s has no state variable %q", p.Type.Name, name))
	}
	return xs
}

// locals returns the local indices of the neurons that part (of a
// selection of this population) names, in its order.
func (p *Population) locals(part network.SelectionPart) []int {
	if part.Indices == nil {
		out := make([]int, p.Size)
		for j := range out {
			out[j] = j
		}
		return out
	}
	xs, _, _ := part.Indices.Array.Int64s()
	out := make([]int, len(xs))
	for k, x := range xs {
		out[k] = int(x)
	}
	return out
}

// resetState copies the initial values into the state.
func (p *Population) resetState() {
	for k, init := range p.Initial {
		copy(p.State[k], init)
	}
}
