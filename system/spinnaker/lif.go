package spinnaker

import (
	"math"

	"github.com/nmp-platform/nmp/engine"
)

// lifModel is sPyNNaker's standard neuron implementation with the LIF
// neuron model (neuron_model_lif_impl), exponential synapse shaping
// (synapse_types_exponential_impl), a current or conductance input type
// and the static threshold, as one core computes it in fixed point.
//
// The engine's Step(n) is the core's timer tick n. Per neuron and tick, in
// sPyNNaker's order:
//
//  1. the ring-buffer slot of this tick (16-bit, saturated) is shifted left
//     by the synapse type's ring_buffer_to_input_left_shift to an s16.15
//     input and added to the synaptic state, scaled by the U0.32 `init`
//     factor (tau/dt · (1 − decay));
//  2. the synaptic state is the input (current types) or is turned into a
//     current with the membrane voltage (conductance types:
//     g_e·(E_e − V) and −g_i·(E_i − V));
//  3. out of refractoriness, the membrane takes the closed-form step
//     α = I·R + V_rest; V = α − exp_TC·(α − V); otherwise the refractory
//     counter counts down;
//  4. V ≥ V_thresh is a spike: V = V_reset, counter = T_refract;
//  5. the synaptic state decays by its U0.32 factor.
//
// The engine delivers a spike of tick m with a delay of d steps into the
// input of Step(m+d), which this model takes in at the start of that step:
// that is the core's ring buffer slot m+d.
type lifModel struct {
	pop  *engine.Population
	cond bool
	// delta: synapse_types_delta and input_type_delta (IF_curr_delta):
	// the tick's input, times 1/dt, for one tick only
	delta bool
	scale int32 // 1/dt in s16.15
	// dual: synapse_types_dual_excitatory_exponential (IF_curr_dual_exp):
	// a second excitatory exponential synapse, state ie2
	dual bool
	ie2  []int32
	k2   []expConst
	// alpha: synapse_types_alpha_impl (IF_curr_alpha), per synapse type
	// the linear, exponential and last-input buffers (alpha.go)
	alpha *alphaState
	// ca2: additional_input_ca2_adaptive (IF_curr_exp_ca2_adaptive, ca2.go)
	ca2 *ca2State
	rb  *ringScale

	// state (s16.15 bits) and refractory counters
	v, ie, ii []int32
	refr      []int32
	// constants of the update
	k []lifConst
	// hom says that all neurons share their constants
	hom bool
	// saturations of the ring buffer (per neuron, summed in provenance)
	sat []uint32

	// float views the engine records, kept up to date while views is set
	// (while some variable of the population is recorded: the engine reads
	// them only to record them)
	vF, eF, iF []float64
	views      bool
}

// lifConst holds one neuron's constants together (one stream of memory).
type lifConst struct {
	vRest, vReset, vThresh, r, expTC, iOff int32
	eRevE, eRevI                           int32
	tRef                                   int32
	decE, decI, initE, initI               uint32
}

// expConst is the decay and init factor of one exponential synapse.
type expConst struct{ dec, init uint32 }

// ringScale is how the engine's arrivals become ring-buffer words for one
// population: the weights the engine holds are the 16-bit words times the
// weight LSB of their synapse type, so arrivals divided by the LSB are the
// saturating sums the core's ring buffers hold.
type ringScale struct {
	shift  [nSynTypes]uint32  // ring_buffer_to_input_left_shift per synapse type
	invLSB [nSynTypes]float64 // 1 / (2^shift / 2^15), times the weight scale
	// gShift is the conductance input type's scaling
	// (input_type_conductance.h): its weights are written 32 times
	// larger (get_global_weight_scale), so the ring buffers and the
	// synaptic state hold 32·g, and the input is the state >> 5; 0 for
	// current input types.
	gShift uint32
}

// condShift is input_type_conductance's >> 5.
const condShift = 5

// Synapse types, in the engine's receptor order: excitatory, inhibitory and
// the dual-exponential model's second excitatory type.
const (
	synExc = iota
	synInh
	synExc2
	nSynTypes
)

// receptorIndex is the synapse type of a receptor name.
func receptorIndex(name string) int {
	switch name {
	case "inhibitory":
		return synInh
	case "excitatory2":
		return synExc2
	}
	return synExc
}

func newRingScale(shifts [nSynTypes]uint32) *ringScale { return newRingScaleFor(shifts, false) }

// newRingScaleFor is the ring scale of a population of a conductance
// (cond) or current input type.
func newRingScaleFor(shifts [nSynTypes]uint32, cond bool) *ringScale {
	r := &ringScale{shift: shifts}
	if cond {
		r.gShift = condShift
	}
	for k, s := range shifts {
		r.invLSB[k] = math.Ldexp(1, 15-int(s)+int(r.gShift))
	}
	return r
}

// toState and fromState convert a synaptic state between the engine's
// units and the core's s16.15 (32·g for conductances); what is recorded
// is the input the state gives, state >> 5 for conductances, as
// neuron_impl_standard.h records total_exc and total_inh.
func (r *ringScale) toState(x float64) int32   { return toK(x * float64(int(1)<<r.gShift)) }
func (r *ringScale) fromState(x int32) float64 { return float64(x>>r.gShift) * (1.0 / kOne) }

func newLIF(p *engine.Population, cond bool, rb *ringScale) *lifModel {
	return newLIFKind(p, cond, false, rb)
}

// newDualLIF builds IF_curr_dual_exp's model.
func newDualLIF(p *engine.Population, rb *ringScale) *lifModel {
	m := newLIFKind(p, false, false, rb)
	m.dual = true
	m.ie2 = make([]int32, p.Size)
	m.k2 = make([]expConst, p.Size)
	return m
}

// newLIFKind builds the LIF of IF_curr_exp, IF_cond_exp (cond) or
// IF_curr_delta (delta).
func newLIFKind(p *engine.Population, cond, delta bool, rb *ringScale) *lifModel {
	n := p.Size
	m := &lifModel{pop: p, cond: cond, delta: delta, rb: rb,
		v: make([]int32, n), ie: make([]int32, n), ii: make([]int32, n), refr: make([]int32, n),
		k: make([]lifConst, n), sat: make([]uint32, n), vF: p.State["v"]}
	if cond {
		m.eF, m.iF = p.State["gsyn_exc"], p.State["gsyn_inh"]
	} else if delta {
		m.eF, m.iF = p.State["gsyn_exc"], p.State["gsyn_inh"]
		if m.eF == nil {
			m.eF, m.iF = make([]float64, n), make([]float64, n)
		}
	} else {
		m.eF, m.iF = p.State["isyn_exc"], p.State["isyn_inh"]
		// gsyn_*, sPyNNaker's names, are the same values.
		if _, ok := p.State["gsyn_exc"]; ok {
			p.State["gsyn_exc"], p.State["gsyn_inh"] = m.eF, m.iF
		}
	}
	return m
}

// Cost: about one LIF neuron of the engine.
func (m *lifModel) Cost() float64 { return 1 }

// Prepare computes the constants the host writes (and the core derives at
// load time) from the parameters, for a time step of dt ms.
func (m *lifModel) Prepare(dt float64) error {
	ps := m.pop.Params
	m.hom = !m.delta && !m.dual && m.alpha == nil && m.ca2 == nil
	if m.alpha != nil {
		m.alpha.prepare(dt, ps["tau_syn_E"], ps["tau_syn_I"])
	}
	if m.ca2 != nil {
		m.ca2.prepare(dt, ps["tau_ca2"], ps["i_alpha"])
	}
	// input_type_delta: kdivk(1.0, time step), the time step as the host
	// writes it (s16.15).
	m.scale = divK(1, fromK(toK(dt)))
	for i := range m.k {
		m.k[i] = lifConstants(dt, ps["v_rest"][i], ps["v_reset"][i], ps["v_thresh"][i], ps["cm"][i], ps["tau_m"][i],
			ps["tau_refrac"][i], ps["i_offset"][i], m.paramOr("tau_syn_E", i, 1), m.paramOr("tau_syn_I", i, 1), m.paramOr("e_rev_E", i, 0), m.paramOr("e_rev_I", i, 0))
		m.hom = m.hom && m.k[i] == m.k[0]
		if m.dual {
			m.k2[i].dec, m.k2[i].init = expDecay(dt, ps["tau_syn_E2"][i])
		}
	}
	return nil
}

// paramOr is a parameter the model may lack (IF_curr_delta has no
// synaptic time constants, current models no reversal potentials).
func (m *lifModel) paramOr(name string, i int, def float64) float64 {
	if xs, ok := m.pop.Params[name]; ok {
		return xs[i]
	}
	return def
}

// lifConstants is neuron_model_initialise and synapse_types_initialise:
// R = tau_m / c_m, exp_TC = e^(−dt/tau_m), T_refract = ceil(tau_refrac/dt),
// and per synapse type decay = e^(−dt/tau) and init = (tau/dt)·(1 − decay).
func lifConstants(dt, vRest, vReset, vThresh, cm, tauM, tauRefrac, iOff, tauE, tauI, eRevE, eRevI float64) lifConst {
	c := lifConst{vRest: toK(vRest), vReset: toK(vReset), vThresh: toK(vThresh), r: divK(tauM, cm),
		expTC: toK(math.Exp(-dt / tauM)), iOff: toK(iOff), eRevE: toK(eRevE), eRevI: toK(eRevI),
		tRef: ceilK(divK(tauRefrac, dt))}
	c.decE, c.initE = expDecay(dt, tauE)
	c.decI, c.initI = expDecay(dt, tauI)
	return c
}

// expDecay is decay_and_init of exp_synapse_utils.h.
func expDecay(dt, tau float64) (decay, init uint32) {
	decay = toU032(math.Exp(-dt / tau))
	inv := math.MaxUint32 - decay // 1.0ulr saturates to the largest fraction
	return decay, u032MulK(divK(tau, dt), inv)
}

// Reset takes the initial values (the engine has copied them into the
// float state) and clears the refractory counters.
func (m *lifModel) Reset() {
	for i := range m.v {
		m.v[i] = toK(m.vF[i])
		m.ie[i] = m.rb.toState(m.eF[i])
		m.ii[i] = m.rb.toState(m.iF[i])
		m.refr[i] = 0
		if m.dual {
			m.ie2[i] = 0
		}
		if m.alpha != nil {
			m.alpha.reset(i)
		}
		if m.ca2 != nil {
			m.ca2.reset(i)
		}
	}
}

// resync takes the float state of neurons [lo, hi) as the start of a run
// (tick 0): initial values set after a reset are in it, not yet in the
// fixed-point state Reset read.
func (m *lifModel) resync(lo, hi int) {
	for i := lo; i < hi; i++ {
		m.v[i], m.ie[i], m.ii[i] = toK(m.vF[i]), m.rb.toState(m.eF[i]), m.rb.toState(m.iF[i])
		if m.ca2 != nil {
			m.ca2.reset(i)
		}
	}
}

// Step is one timer tick of neurons [lo, hi).
func (m *lifModel) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	k := m.k[lo:hi]
	v, ie, ii, refr := m.v[lo:hi], m.ie[lo:hi], m.ii[lo:hi], m.refr[lo:hi]
	v, ie, ii, refr = v[:len(k)], ie[:len(k)], ii[:len(k)], refr[:len(k)]
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	inE, inI = inE[:len(k)], inI[:len(k)]
	vF, eF, iF := m.vF[lo:hi], m.eF[lo:hi], m.iF[lo:hi]
	vF, eF, iF = vF[:len(k)], eF[:len(k)], iF[:len(k)]
	var iext []float64
	if in.I != nil {
		iext = in.I[lo:hi]
		iext = iext[:len(k)]
	}
	sE, sI := m.rb.shift[0], m.rb.shift[1]
	lE, lI := m.rb.invLSB[0], m.rb.invLSB[1]
	cond, delta, dual, scale := m.cond, m.delta, m.dual, m.scale
	views := m.views
	if m.hom && iext == nil && !views && !forcePlain {
		m.stepHom(lo, v, ie, ii, refr, inE, inI, out)
		return
	}
	for i := range k {
		c := &k[i]
		// The ring-buffer words of this tick (most ticks bring none). The
		// words are magnitudes: the synapse type gives the sign, and the
		// engine holds inhibitory weights of current-based cells negative,
		// as PyNN writes them.
		e, h := ie[i], ii[i]
		if inE[i] != 0 || inI[i] != 0 {
			we, wi := int64(math.Abs(inE[i])*lE), int64(math.Abs(inI[i])*lI)
			inE[i], inI[i] = 0, 0
			if we > 0xFFFF || wi > 0xFFFF {
				we, wi = m.saturate(lo+i, we, wi)
			}
			if a := m.alpha; a != nil {
				a.add(lo+i, int32(we)<<sE, int32(wi)<<sI)
			} else if delta {
				e += int32(we) << sE
				h += int32(wi) << sI
			} else {
				e += decayK(int32(we)<<sE, c.initE)
				h += decayK(int32(wi)<<sI, c.initI)
			}
		}
		var e2 int32
		if dual {
			e2 = m.ie2[lo+i]
			if x := in.Syn[synExc2][lo+i]; x != 0 {
				w := int64(math.Abs(x) * m.rb.invLSB[synExc2])
				in.Syn[synExc2][lo+i] = 0
				if w > 0xFFFF {
					w = 0xFFFF
					m.sat[lo+i]++
				}
				e2 += decayK(int32(w)<<m.rb.shift[synExc2], m.k2[lo+i].init)
			}
		}
		vi := v[i]
		exc, inh := e+e2, h
		// What neuron_impl_standard.h records as gsyn: the input of this
		// tick, before the synapses' shaping (the readout dates it to
		// this tick).
		re, rh := exc, inh
		if a := m.alpha; a != nil {
			exc, inh = a.response(lo + i)
			re, rh = exc, inh
		} else if cond {
			g := m.rb.gShift
			exc = mulK(e>>g, c.eRevE-vi)
			inh = mulK(-(h >> g), c.eRevI-vi)
		} else if delta {
			exc, inh = mulK(e, scale), mulK(h, scale)
		}
		// additional_input_get_input_value_as_current, every tick
		var bias int32
		if ca := m.ca2; ca != nil {
			bias = ca.bias(lo + i)
		}
		if r := refr[i]; r <= 0 {
			input := exc - inh + bias + c.iOff
			if iext != nil {
				input += toK(iext[i])
			}
			alpha := mulK(input, c.r) + c.vRest
			vi = alpha - mulK(c.expTC, alpha-vi)
		} else {
			refr[i] = r - 1
		}
		if vi >= c.vThresh {
			vi = c.vReset
			refr[i] = c.tRef
			out.Add(lo + i)
			if ca := m.ca2; ca != nil {
				ca.spiked(lo + i)
			}
		}
		v[i] = vi
		if ca := m.ca2; ca != nil && views && ca.iF != nil {
			ca.iF[lo+i] = fromK(ca.i[lo+i])
		}
		if delta {
			if views {
				// sPyNNaker records a delta synapse's input of the tick.
				eF[i], iF[i] = float64(e)*(1.0/kOne), float64(h)*(1.0/kOne)
			}
			e, h = 0, 0 // the input lasts one tick
		} else if a := m.alpha; a != nil {
			a.shape(lo + i)
			e, h = a.response(lo + i)
		} else {
			e = decayK(e, c.decE)
			h = decayK(h, c.decI)
		}
		ie[i], ii[i] = e, h
		if dual {
			e2 = decayK(e2, m.k2[lo+i].dec)
			m.ie2[lo+i] = e2
		}
		if views {
			vF[i] = float64(vi) * (1.0 / kOne)
			if !delta {
				eF[i] = m.rb.fromState(re)
				iF[i] = m.rb.fromState(rh)
			}
		}
	}
}

// stepHom is Step for a population whose neurons share their constants,
// without current sources and with nothing but spikes recorded: the same
// operations in the same order, the constants held in registers.
func (m *lifModel) stepHom(lo int, v, ie, ii, refr []int32, inE, inI []float64, out *engine.Spikes) {
	c := m.k[0]
	sE, sI := m.rb.shift[0], m.rb.shift[1]
	lE, lI := m.rb.invLSB[0], m.rb.invLSB[1]
	initE, initI, decE, decI := int64(c.initE), int64(c.initI), int64(c.decE), int64(c.decI)
	eRevE, eRevI, iOff, r, vRest, expTC := c.eRevE, c.eRevI, c.iOff, int64(c.r), c.vRest, int64(c.expTC)
	vThresh, vReset, tRef := c.vThresh, c.vReset, c.tRef
	n := len(v)
	ie, ii, refr, inE, inI = ie[:n], ii[:n], refr[:n], inE[:n], inI[:n]
	cond, g := m.cond, m.rb.gShift
	for i := 0; i < n; i++ {
		e, h := ie[i], ii[i]
		if inE[i] != 0 || inI[i] != 0 {
			we, wi := int64(math.Abs(inE[i])*lE), int64(math.Abs(inI[i])*lI)
			inE[i], inI[i] = 0, 0
			if we > 0xFFFF || wi > 0xFFFF {
				we, wi = m.saturate(lo+i, we, wi)
			}
			e += int32((int64(int32(we)<<sE) * initE) >> 32)
			h += int32((int64(int32(wi)<<sI) * initI) >> 32)
		}
		vi := v[i]
		exc, inh := e, h
		if cond {
			exc = int32((int64(e>>g) * int64(eRevE-vi)) >> 15)
			inh = int32((int64(-(h >> g)) * int64(eRevI-vi)) >> 15)
		}
		if rf := refr[i]; rf <= 0 {
			alpha := int32((int64(exc-inh+iOff)*r)>>15) + vRest
			vi = alpha - int32((expTC*int64(alpha-vi))>>15)
		} else {
			refr[i] = rf - 1
		}
		if vi >= vThresh {
			vi = vReset
			refr[i] = tRef
			out.Add(lo + i)
		}
		v[i] = vi
		ie[i] = int32((int64(e) * decE) >> 32)
		ii[i] = int32((int64(h) * decI) >> 32)
	}
}

// forcePlain makes Step take its general loop; tests set it to hold the
// homogeneous one against it.
var forcePlain = false

// saturate clips words to 16 bits and counts the saturations.
func (m *lifModel) saturate(i int, we, wi int64) (int64, int64) {
	if we > 0xFFFF {
		we = 0xFFFF
		m.sat[i]++
	}
	if wi > 0xFFFF {
		wi = 0xFFFF
		m.sat[i]++
	}
	return we, wi
}

// saturations is the ring-buffer saturations counted so far.
func (m *lifModel) saturations() uint64 {
	var s uint64
	for _, x := range m.sat {
		s += uint64(x)
	}
	return s
}
