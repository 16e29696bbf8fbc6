package engine

import "math"

// Current-based leaky integrate-and-fire models, integrated exactly.
//
// In step n: if the neuron is not refractory, V advances with the synaptic
// currents and the external current held at their values at t_n; the synaptic
// currents decay; the arrivals of t_(n+1) are added; V at or above v_thresh
// is a spike at t_(n+1), after which V is held at v_reset for
// round(tau_refrac/dt) steps. This is NEST's iaf_psc_* scheme.

func init() {
	registerModel("IF_curr_exp", func(p *Population) (Model, error) { return newLIFCurr(p, synExp), nil })
	registerModel("IF_curr_alpha", func(p *Population) (Model, error) { return newLIFCurr(p, synAlpha), nil })
	registerModel("IF_curr_delta", func(p *Population) (Model, error) { return newLIFCurr(p, synDelta), nil })
}

type synShape int

const (
	synExp synShape = iota
	synAlpha
	synDelta
)

// lifCurr is IF_curr_exp, IF_curr_alpha and IF_curr_delta.
type lifCurr struct {
	shape synShape
	dt    float64
	// parameters (shared with the Population)
	vRest, cm, tauM, tauRef, iOff, vReset, vThresh, tauE, tauI []float64
	// state
	v, ie, ii []float64
	// alpha synapses: the derivative variables (nA/ms)
	ye, yi []float64
	refr   []int32
	// propagators, per neuron
	p22, p20, p11e, p11i, p21e, p21i, p31e, p31i, jumpE, jumpI []float64
	refSteps                                                   []int32
	// hom is set when all neurons share their parameters; exp synapses then
	// take the fast path with the constants in h.
	hom bool
	h   currConst
	// plain keeps to the per-neuron loops (Options.Plain).
	plain bool
}

// currConst is the constants of one IF_curr_exp neuron.
type currConst struct {
	vRest, p22, p20, p11e, p11i, p21e, p21i, iOff, vThresh, vReset float64
	refSteps                                                       int32
}

func newLIFCurr(p *Population, shape synShape) *lifCurr {
	m := &lifCurr{shape: shape, plain: p.Plain,
		vRest: p.param("v_rest"), cm: p.param("cm"), tauM: p.param("tau_m"), tauRef: p.param("tau_refrac"),
		iOff: p.param("i_offset"), vReset: p.param("v_reset"), vThresh: p.param("v_thresh"),
		v: p.state("v"), refr: make([]int32, p.Size),
	}
	n := p.Size
	m.p22, m.p20, m.refSteps = make([]float64, n), make([]float64, n), make([]int32, n)
	if shape != synDelta {
		m.tauE, m.tauI = p.param("tau_syn_E"), p.param("tau_syn_I")
		m.ie, m.ii = p.state("isyn_exc"), p.state("isyn_inh")
		m.p11e, m.p11i, m.p21e, m.p21i = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	}
	if shape == synAlpha {
		// The derivative variables are hidden state, initially zero.
		m.ye, m.yi = make([]float64, n), make([]float64, n)
		m.p31e, m.p31i, m.jumpE, m.jumpI = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	}
	return m
}

func (m *lifCurr) Prepare(dt float64) error {
	m.dt = dt
	for i := range m.v {
		m.p22[i] = math.Exp(-dt / m.tauM[i])
		m.p20[i] = PropConst(dt, m.tauM[i], m.cm[i])
		m.refSteps[i] = int32(steps(m.tauRef[i], dt))
		if m.shape == synDelta {
			continue
		}
		m.p11e[i] = math.Exp(-dt / m.tauE[i])
		m.p11i[i] = math.Exp(-dt / m.tauI[i])
		m.p21e[i] = PropExp(dt, m.tauM[i], m.tauE[i], m.cm[i])
		m.p21i[i] = PropExp(dt, m.tauM[i], m.tauI[i], m.cm[i])
		if m.shape == synAlpha {
			m.p31e[i] = PropAlpha(dt, m.tauM[i], m.tauE[i], m.cm[i])
			m.p31i[i] = PropAlpha(dt, m.tauM[i], m.tauI[i], m.cm[i])
			// A weight w is the current's peak, reached tau after the spike.
			m.jumpE[i] = math.E / m.tauE[i]
			m.jumpI[i] = math.E / m.tauI[i]
		}
	}
	m.prepareFast()
	return nil
}

func (m *lifCurr) prepareFast() {
	m.hom = m.shape == synExp && len(m.v) > 0 &&
		allSame(m.vRest, m.p22, m.p20, m.p11e, m.p11i, m.p21e, m.p21i, m.iOff, m.vThresh, m.vReset) && allSame32(m.refSteps)
	if m.hom {
		m.h = currConst{vRest: m.vRest[0], p22: m.p22[0], p20: m.p20[0], p11e: m.p11e[0], p11i: m.p11i[0],
			p21e: m.p21e[0], p21i: m.p21i[0], iOff: m.iOff[0], vThresh: m.vThresh[0], vReset: m.vReset[0], refSteps: m.refSteps[0]}
	}
}

func (m *lifCurr) Reset() {
	clear(m.refr)
	clear(m.ye)
	clear(m.yi)
}

func (m *lifCurr) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	switch {
	case m.hom && !m.plain:
		m.stepExpHom(lo, hi, in, out)
	case m.shape == synExp:
		m.stepExp(lo, hi, in, out)
	case m.shape == synAlpha:
		m.stepAlpha(lo, hi, in, out)
	default:
		m.stepDelta(lo, hi, in, out)
	}
}

func (m *lifCurr) stepExp(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, ie, ii, refr := m.v, m.ie, m.ii, m.refr
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			refr[i]--
		} else {
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			v[i] = m.vRest[i] + m.p22[i]*(v[i]-m.vRest[i]) + m.p21e[i]*ie[i] + m.p21i[i]*ii[i] + m.p20[i]*I
		}
		ie[i] = m.p11e[i]*ie[i] + inE[i]
		ii[i] = m.p11i[i]*ii[i] + inI[i]
		inE[i], inI[i] = 0, 0
		if v[i] >= m.vThresh[i] {
			out.Add(i)
			v[i] = m.vReset[i]
			refr[i] = m.refSteps[i]
		}
	}
}

// stepExpHom is stepExp for populations with homogeneous parameters: the
// same arithmetic in the same order, with the constants in registers.
func (m *lifCurr) stepExpHom(lo, hi int, in *Input, out *Spikes) {
	if haveSIMD {
		m.stepExpHomSIMD(lo, hi, in, out)
		return
	}
	m.stepExpHomScalar(lo, hi, in, out)
}

func (m *lifCurr) stepExpHomScalar(lo, hi int, in *Input, out *Spikes) {
	h := m.h
	v, ie, ii, refr := m.v[lo:hi], m.ie[lo:hi], m.ii[lo:hi], m.refr[lo:hi]
	ie, ii, refr = ie[:len(v)], ii[:len(v)], refr[:len(v)]
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	inE, inI = inE[:len(v)], inI[:len(v)]
	iext, gap := in.external(lo, hi)
	for i := range v {
		vi := v[i]
		if refr[i] > 0 {
			refr[i]--
		} else {
			I := h.iOff
			if iext != nil {
				I += iext[i]
			}
			if gap != nil {
				I += gap[i]
			}
			vi = h.vRest + h.p22*(vi-h.vRest) + h.p21e*ie[i] + h.p21i*ii[i] + h.p20*I
		}
		ie[i] = h.p11e*ie[i] + inE[i]
		ii[i] = h.p11i*ii[i] + inI[i]
		inE[i], inI[i] = 0, 0
		if vi >= h.vThresh {
			out.Add(lo + i)
			vi = h.vReset
			refr[i] = h.refSteps
		}
		v[i] = vi
	}
}

func (m *lifCurr) stepAlpha(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, ie, ii, ye, yi, refr := m.v, m.ie, m.ii, m.ye, m.yi, m.refr
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			refr[i]--
		} else {
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			v[i] = m.vRest[i] + m.p22[i]*(v[i]-m.vRest[i]) +
				m.p21e[i]*ie[i] + m.p31e[i]*ye[i] + m.p21i[i]*ii[i] + m.p31i[i]*yi[i] + m.p20[i]*I
		}
		// (y, I) of an alpha synapse: y' = -y/tau, I' = y - I/tau.
		h := m.p11e[i]
		ie[i] = h * (ie[i] + m.dt*ye[i])
		ye[i] = h*ye[i] + m.jumpE[i]*inE[i]
		h = m.p11i[i]
		ii[i] = h * (ii[i] + m.dt*yi[i])
		yi[i] = h*yi[i] + m.jumpI[i]*inI[i]
		inE[i], inI[i] = 0, 0
		if v[i] >= m.vThresh[i] {
			out.Add(i)
			v[i] = m.vReset[i]
			refr[i] = m.refSteps[i]
		}
	}
}

func (m *lifCurr) stepDelta(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, refr := m.v, m.refr
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			// Input arriving during the refractory period is lost, as in NEST's iaf_psc_delta.
			refr[i]--
		} else {
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			v[i] = m.vRest[i] + m.p22[i]*(v[i]-m.vRest[i]) + m.p20[i]*I + inE[i] + inI[i]
		}
		inE[i], inI[i] = 0, 0
		if v[i] >= m.vThresh[i] {
			out.Add(i)
			v[i] = m.vReset[i]
			refr[i] = m.refSteps[i]
		}
	}
}
