package spinnaker

import (
	"math"

	"github.com/nmp-platform/nmp/engine"
)

// izhModel is sPyNNaker's Izhikevich neuron (IzkCurrExp:
// neuron_model_izh_impl with exponential current synapses and a static
// threshold of 30 mV), in the core's fixed point. Per tick, after the
// synaptic input as in lifModel: I = exc − inh + i_offset + currents; the
// midpoint (RK2) step of length h (the time step, or 1.85 time steps in the
// tick after a spike: sPyNNaker's threshold correction):
//
//	pre = 140 + I − U
//	α = pre + (5 + M·V)·V              (M = 0.040008544921875, one ULP above 0.04)
//	η = V + ½(h·α)
//	β = ½((h·(b·V − U))·a)
//	V += h·(pre − β + (5 + M·η)·η)
//	U += (a·h)·(−U − β + b·η)
//
// every product an accum product (rounded half up), in that order; V ≥ 30
// is a spike: V = c, U += d, and the next step is 1.85 time steps long.
type izhModel struct {
	pop *engine.Population
	rb  *ringScale
	// cond: IzkCondExp (extra_models.Izhikevich_cond): the synaptic state
	// is a conductance, the input g_e·(E_e − V) + g_i·(E_i − V) from the
	// membrane at the start of the tick (input_type_conductance.h)
	cond bool

	v, u, ie, ii, h []int32
	k               []izhConst
	sat             []uint32
	views           bool
	dt              int32 // the time step, s16.15
	vF, uF, eF, iF  []float64
}

type izhConst struct {
	a, b, c, d, iOff         int32
	eRevE, eRevI             int32
	decE, decI, initE, initI uint32
}

// The constants of neuron_model_izh_impl.h, as s16.15.
var (
	izhMagic  = toK(0.040008544921875)
	izh140    = toK(140)
	izh5      = toK(5)
	izhHalf   = toK(0.5)
	izhThresh = toK(30)
	izhTQ     = toK(1.85) // SIMPLE_TQ_OFFSET
)

func newIzh(p *engine.Population, rb *ringScale) *izhModel {
	n := p.Size
	return &izhModel{pop: p, rb: rb, v: make([]int32, n), u: make([]int32, n), ie: make([]int32, n), ii: make([]int32, n),
		h: make([]int32, n), k: make([]izhConst, n), sat: make([]uint32, n),
		vF: p.State["v"], uF: p.State["u"], eF: p.State["gsyn_exc"], iF: p.State["gsyn_inh"]}
}

// Cost: two midpoint half-steps, about twice a LIF neuron.
func (m *izhModel) Cost() float64 { return 2 }

func (m *izhModel) Prepare(dt float64) error {
	ps := m.pop.Params
	for i := range m.k {
		c := izhConst{a: toK(ps["a"][i]), b: toK(ps["b"][i]), c: toK(ps["c"][i]), d: toK(ps["d"][i]), iOff: toK(ps["i_offset"][i])}
		if m.cond {
			c.eRevE, c.eRevI = toK(ps["e_rev_E"][i]), toK(ps["e_rev_I"][i])
		}
		c.decE, c.initE = expDecay(dt, ps["tau_syn_E"][i])
		c.decI, c.initI = expDecay(dt, ps["tau_syn_I"][i])
		m.k[i] = c
	}
	m.dt = toK(dt)
	return nil
}

func (m *izhModel) Reset() {
	for i := range m.v {
		m.v[i], m.u[i] = toK(m.vF[i]), toK(m.uF[i])
		m.ie[i], m.ii[i] = m.rb.toState(m.eF[i]), m.rb.toState(m.iF[i])
		m.h[i] = m.dt
	}
}

// resync takes the float state of neurons [lo, hi) as the start of a run
// (lifModel.resync).
func (m *izhModel) resync(lo, hi int) {
	for i := lo; i < hi; i++ {
		m.v[i], m.u[i] = toK(m.vF[i]), toK(m.uF[i])
		m.ie[i], m.ii[i] = m.rb.toState(m.eF[i]), m.rb.toState(m.iF[i])
	}
}

// izhStep is one neuron's midpoint step: it returns the new V and U.
func izhStep(v, u, h, input int32, c *izhConst) (int32, int32) {
	pre := izh140 + input - u
	alpha := pre + mulK(izh5+mulK(izhMagic, v), v)
	eta := v + mulK(mulK(h, alpha), izhHalf)
	beta := mulK(mulK(mulK(h, mulK(c.b, v)-u), c.a), izhHalf)
	nv := v + mulK(h, pre-beta+mulK(izh5+mulK(izhMagic, eta), eta))
	nu := u + mulK(mulK(c.a, h), -u-beta+mulK(c.b, eta))
	return nv, nu
}

func (m *izhModel) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	sE, sI := m.rb.shift[0], m.rb.shift[1]
	lE, lI := m.rb.invLSB[0], m.rb.invLSB[1]
	inE, inI := in.Syn[0], in.Syn[1]
	for i := lo; i < hi; i++ {
		c := &m.k[i]
		e, h := m.ie[i], m.ii[i]
		if inE[i] != 0 || inI[i] != 0 {
			we, wi := int64(math.Abs(inE[i])*lE), int64(math.Abs(inI[i])*lI)
			inE[i], inI[i] = 0, 0
			if we > 0xFFFF {
				we = 0xFFFF
				m.sat[i]++
			}
			if wi > 0xFFFF {
				wi = 0xFFFF
				m.sat[i]++
			}
			e += decayK(int32(we)<<sE, c.initE)
			h += decayK(int32(wi)<<sI, c.initI)
		}
		exc, inh := e, h
		re, rh := e, h // recorded as gsyn: this tick's input, before shaping
		if m.cond {
			g := m.rb.gShift
			exc, inh = mulK(e>>g, c.eRevE-m.v[i]), mulK(-(h>>g), c.eRevI-m.v[i])
		}
		input := exc - inh + c.iOff
		if in.I != nil {
			input += toK(in.I[i])
		}
		v, u := izhStep(m.v[i], m.u[i], m.h[i], input, c)
		m.h[i] = m.dt
		if v >= izhThresh {
			v = c.c
			u += c.d
			m.h[i] = mulK(m.dt, izhTQ)
			out.Add(i)
		}
		m.v[i], m.u[i] = v, u
		e, h = decayK(e, c.decE), decayK(h, c.decI)
		m.ie[i], m.ii[i] = e, h
		if m.views {
			m.vF[i], m.uF[i] = fromK(v), fromK(u)
			m.eF[i], m.iF[i] = m.rb.fromState(re), m.rb.fromState(rh)
		}
	}
}
