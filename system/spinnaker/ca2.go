package spinnaker

import (
	"math"

	"github.com/nmp-platform/nmp/engine"
)

// ca2State is sPyNNaker's additional_input_ca2_adaptive (the extra model
// IF_curr_exp_ca2_adaptive; Liu & Wang 2001): a calcium current i_ca2
// (s16.15 nA), every tick first decayed by exp_tau_ca2 (an accum times an
// accum) and subtracted from the membrane's input as its external bias,
// raised by i_alpha at every spike. sPyNNaker's core computes
// exp_tau_ca2 with expk at load time; here the host rounds e^(−dt/τ) to
// s16.15, as for the other models' constants (a departure of at most an
// LSB of the factor).
type ca2State struct {
	exp, alpha []int32
	i          []int32
	iF         []float64 // the engine's view of i_ca2
}

func newCa2State(p *engine.Population) *ca2State {
	n := p.Size
	return &ca2State{exp: make([]int32, n), alpha: make([]int32, n), i: make([]int32, n), iF: p.State["i_ca2"]}
}

func (c *ca2State) prepare(dt float64, tau, alpha []float64) {
	for k := range c.exp {
		c.exp[k] = toK(math.Exp(-dt / tau[k]))
		c.alpha[k] = toK(alpha[k])
	}
}

func (c *ca2State) reset(k int) {
	if c.iF != nil {
		c.i[k] = toK(c.iF[k])
	} else {
		c.i[k] = 0
	}
}

// bias is additional_input_get_input_value_as_current: the decayed
// current, negated.
func (c *ca2State) bias(k int) int32 {
	c.i[k] = mulK(c.i[k], c.exp[k])
	return -c.i[k]
}

// spiked is additional_input_has_spiked.
func (c *ca2State) spiked(k int) { c.i[k] += c.alpha[k] }
