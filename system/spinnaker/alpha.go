package spinnaker

import "math"

// alphaState is sPyNNaker's alpha synapse (synapse_types_alpha_impl.h) for
// IF_curr_alpha, per neuron and synapse type (0 excitatory, 1 inhibitory),
// s16.15 state:
//
//   - an input x > 0 (the tick's ring-buffer word << shift) sets q = x,
//     exp = decay(exp) + 1, lin = (lin + x·dt/τ²)·(1 − 1/exp);
//   - the synaptic current is lin·exp;
//   - after the neuron's update, lin += q·dt/τ² and exp = decay(exp).
//
// A single input x at tick 0 gives about the current x·(t/τ²)·e^(−t/τ),
// whose peak is x/(e·τ) at t = τ and whose charge is x (nA·ms): sPyNNaker
// writes the weights as they are (synapse_type_alpha.py has no weight
// scale), so its PSCs are e·τ times smaller than PyNN's definition of
// IF_curr_alpha (peak w at t = τ, charge w·e·τ). q is never cleared, so lin
// keeps growing while exp decays; both are the core's behaviour.
type alphaState struct {
	lin, exp, q [2][]int32
	dec         [2][]uint32
	dtt         [2][]int32 // dt/τ², s16.15
}

func newAlphaState(n int) *alphaState {
	a := &alphaState{}
	for t := 0; t < 2; t++ {
		a.lin[t], a.exp[t], a.q[t] = make([]int32, n), make([]int32, n), make([]int32, n)
		a.dec[t], a.dtt[t] = make([]uint32, n), make([]int32, n)
	}
	return a
}

// prepare computes get_alpha_state's constants on the host (in double
// precision, rounded to the nearest LSB, as the other models' constants:
// docs/spinnaker.md's departure).
func (a *alphaState) prepare(dt float64, tauE, tauI []float64) {
	for i := range a.dec[0] {
		for t, tau := range [2]float64{tauE[i], tauI[i]} {
			a.dec[t][i] = toU032(math.Exp(-dt / tau))
			a.dtt[t][i] = toK(dt / (tau * tau))
		}
	}
}

func (a *alphaState) reset(i int) {
	for t := 0; t < 2; t++ {
		a.lin[t][i], a.exp[t][i], a.q[t][i] = 0, 0, 0
	}
}

// kdivk is accum division as sPyNNaker's cores do it: (a << 15) / b with
// a 64-bit dividend, truncated toward zero (positive operands here).
func kdivk(a, b int32) int32 { return int32((int64(a) << 15) / int64(b)) }

// add is synapse_types_add_neuron_input for both types (words > 0 only).
func (a *alphaState) add(i int, xe, xi int32) {
	for t, x := range [2]int32{xe, xi} {
		if x <= 0 {
			continue
		}
		a.q[t][i] = x
		e := decayK(a.exp[t][i], a.dec[t][i]) + kOne
		a.exp[t][i] = e
		a.lin[t][i] = mulK(a.lin[t][i]+mulK(x, a.dtt[t][i]), kOne-kdivk(kOne, e))
	}
}

// response is the excitatory and inhibitory current, lin·exp.
func (a *alphaState) response(i int) (exc, inh int32) {
	return mulK(a.lin[0][i], a.exp[0][i]), mulK(a.lin[1][i], a.exp[1][i])
}

// shape is synapse_types_shape_input.
func (a *alphaState) shape(i int) {
	for t := 0; t < 2; t++ {
		a.lin[t][i] += mulK(a.q[t][i], a.dtt[t][i])
		a.exp[t][i] = decayK(a.exp[t][i], a.dec[t][i])
	}
}
