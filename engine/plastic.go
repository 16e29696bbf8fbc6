package engine

import (
	"fmt"

	"github.com/nmp-platform/nmp/network"
)

// PlasticRule is the plasticity of a synapse type that a system computes
// in its own arithmetic (system/spinnaker: sPyNNaker's fixed-point STDP),
// registered with RegisterPlasticity. The engine calls it from the thread
// that owns part k (the synapses whose targets are in that thread's
// neurons), so a rule keeps its state per part and needs no locks.
type PlasticRule interface {
	// Pre handles a spike of presynaptic row r (the row's position in
	// the projection's presynaptic range) emitted at stamp s, that is at
	// the end of step s-1, and returns the weights the row's synapses of
	// part k transmit, in the part's order. The engine adds them to the
	// ring at s + each synapse's delay; the slice may be reused by the rule.
	Pre(k, r int, s int64) []float64
	// Post handles a spike of neuron g (global index) emitted at stamp s;
	// g is one of part k's thread's neurons, whether or not the
	// projection reaches it. Within a step, the engine calls Pre for the
	// step's presynaptic spikes before Post for its postsynaptic ones.
	Post(k int, g int32, s int64)
	// Reset forgets traces and histories (PyNN's reset), keeping weights.
	Reset()
	// Weights returns part k's current weights in the part's order.
	Weights(k int) []float64
}

// PlasticPart is one thread's share of a projection's synapses: the
// synapses of presynaptic row r are Row[r] to Row[r+1]-1, with their
// targets (global neuron indices, in [Lo, Hi)), given weights and delays
// (in steps).
type PlasticPart struct {
	Row    []int64
	Target []uint32
	Weight []float64
	Delay  []int
	Lo, Hi int
}

// PlasticFactory builds the rule of one projection at time step dt (ms).
type PlasticFactory func(pr *network.Projection, dt float64, parts []PlasticPart) (PlasticRule, error)

// RegisterPlasticity makes the plastic synapse type name (of the catalog
// the system's plan gives the engine) run with the rules f builds. Systems
// call it in init, with names of their own.
func RegisterPlasticity(name string, f PlasticFactory) {
	if _, dup := synapseDynamics[name]; dup {
		panic("engine: synapse dynamics registered twice: " + name)
	}
	synapseDynamics[name] = func(s *Simulator, pj *projRT) (dynamics, error) {
		if !pj.typ.Plastic {
			return nil, fmt.Errorf("synapse type %s: a system's plasticity needs a plastic synapse type", name)
		}
		// A system's rule keeps its own state: an initial state given for
		// the engine's rule (Kplus) would be silently ignored.
		for _, st := range pj.typ.State {
			if givenParam(pj, 0, st) {
				return nil, fmt.Errorf("synapse type %s: this system's plasticity does not take an initial %s", name, st)
			}
		}
		parts := make([]PlasticPart, len(pj.parts))
		for k, c := range pj.parts {
			d := make([]int, c.len())
			for j := range d {
				d[j] = c.delayAt(int64(j))
			}
			parts[k] = PlasticPart{Row: c.rowPtr, Target: c.target, Weight: c.extra[weight64], Delay: d,
				Lo: s.bounds[k], Hi: s.bounds[k+1]}
		}
		r, err := f(pj.desc, s.dt, parts)
		if err != nil {
			return nil, err
		}
		return &systemPlastic{name: name, r: r}, nil
	}
}

// systemPlastic delivers through a system's PlasticRule.
type systemPlastic struct {
	name string
	r    PlasticRule
}

func (d *systemPlastic) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	w := d.r.Pre(k, r, s)
	for j := a; j < b; j++ {
		dl.add(c, j, s, w[j-a])
	}
}

func (d *systemPlastic) post(k int, _ *csr, g int32, n int64) { d.r.Post(k, g, n+1) }

func (d *systemPlastic) reset() { d.r.Reset() }

func (d *systemPlastic) values(pj *projRT, name string) ([]float64, bool) {
	if name != "weight" {
		return nil, false
	}
	return gather(pj, d.r.Weights), true
}

func (d *systemPlastic) setValues(_ *projRT, name string, _ []float64) (bool, error) {
	if name == "weight" || name == "delay" {
		return true, fmt.Errorf("the %ss of synapse type %s are the system's plastic state and cannot be set", name, d.name)
	}
	return false, nil
}
