package engine

import "math"

// Conductance-based leaky integrate-and-fire models.
//
// The conductances decay exactly. With the conductances frozen at their
// values in the middle of the step, the membrane equation is linear in V:
// c_m dV/dt = num - g_tot V, with num = g_L V_rest + g_e E_e + g_i E_i + I.
// Its exact step V' = V_inf + (V - V_inf) e^(-a), a = h g_tot / c_m, is taken
// with the (2,2) Pade approximant of e^(-a), which is A-stable, accurate to
// about a^5/7200 (1e-8 at typical loads), and needs one division and no
// exponential: V' = (V P + (h/c_m) num) / Q with P, Q = 1 -+ a/2 + a^2/12.
// Tests hold the traces against a fine-step reference.

func init() {
	registerModel("IF_cond_exp", func(p *Population) (Model, error) { return newLIFCond(p, synExp, false), nil })
	registerModel("IF_cond_alpha", func(p *Population) (Model, error) { return newLIFCond(p, synAlpha, false), nil })
	registerModel("IF_cond_exp_gsfa_grr", func(p *Population) (Model, error) { return newLIFCond(p, synExp, true), nil })
	registerModel("IF_facets_hardware1", newFacets)
}

// lifCond is IF_cond_exp, IF_cond_alpha and IF_cond_exp_gsfa_grr.
type lifCond struct {
	shape                                                              synShape
	adapt                                                              bool
	dt                                                                 float64
	vRest, cm, tauM, tauRef, iOff, vReset, vThresh, tauE, tauI, eE, eI []float64
	v, ge, gi                                                          []float64
	ye, yi                                                             []float64
	refr                                                               []int32
	// spike-frequency adaptation and relative refractoriness (gsfa_grr), conductances in nS
	gs, gr, tauS, tauR, eS, eR, qS, qR []float64
	pS, pR, pSh, pRh                   []float64

	gL, gLvr, dtc, pe, pi, peh, pih, jumpE, jumpI []float64
	refSteps                                      []int32
	// hom is set when every parameter is the same for all neurons; the
	// Step then takes the fast path with the values held in h.
	hom bool
	h   condConst
	// plain keeps to the per-neuron loops (Options.Plain).
	plain bool
}

// condConst is the per-neuron constants of lifCond for one neuron.
type condConst struct {
	gL, gLvr, dtc, pe, pi, peh, pih, eE, eI, iOff, vThresh, vReset float64
	refSteps                                                       int32
}

func newLIFCond(p *Population, shape synShape, adapt bool) *lifCond {
	m := &lifCond{shape: shape, adapt: adapt, plain: p.Plain,
		vRest: p.param("v_rest"), cm: p.param("cm"), tauM: p.param("tau_m"), tauRef: p.param("tau_refrac"),
		iOff: p.param("i_offset"), vReset: p.param("v_reset"), vThresh: p.param("v_thresh"),
		tauE: p.param("tau_syn_E"), tauI: p.param("tau_syn_I"), eE: p.param("e_rev_E"), eI: p.param("e_rev_I"),
		v: p.state("v"), ge: p.state("gsyn_exc"), gi: p.state("gsyn_inh"),
	}
	m.alloc(p.Size)
	if adapt {
		m.gs, m.gr = p.state("g_s"), p.state("g_r")
		m.tauS, m.tauR, m.eS, m.eR, m.qS, m.qR = p.param("tau_sfa"), p.param("tau_rr"), p.param("e_rev_sfa"), p.param("e_rev_rr"), p.param("q_sfa"), p.param("q_rr")
		n := p.Size
		m.pS, m.pR, m.pSh, m.pRh = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	}
	return m
}

func (m *lifCond) alloc(n int) {
	m.refr = make([]int32, n)
	m.gL, m.gLvr, m.dtc = make([]float64, n), make([]float64, n), make([]float64, n)
	m.pe, m.pi, m.peh, m.pih = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	m.refSteps = make([]int32, n)
	if m.shape == synAlpha {
		m.ye, m.yi = make([]float64, n), make([]float64, n)
		m.jumpE, m.jumpI = make([]float64, n), make([]float64, n)
	}
}

// newFacets builds IF_facets_hardware1: IF_cond_exp with c_m = 0.2 nF,
// tau_refrac = 1 ms and e_rev_E = 0 mV fixed, and the leak given as a
// conductance in nS.
func newFacets(p *Population) (Model, error) {
	n := p.Size
	m := &lifCond{shape: synExp,
		vRest: p.param("v_rest"), vReset: p.param("v_reset"), vThresh: p.param("v_thresh"),
		tauE: p.param("tau_syn_E"), tauI: p.param("tau_syn_I"), eI: p.param("e_rev_I"),
		v: p.state("v"), ge: p.state("gsyn_exc"), gi: p.state("gsyn_inh"),
		cm: make([]float64, n), tauM: make([]float64, n), tauRef: make([]float64, n), iOff: make([]float64, n), eE: make([]float64, n),
	}
	m.alloc(n)
	gLeak := p.param("g_leak")
	return &facets{lifCond: m, gLeak: gLeak}, nil
}

type facets struct {
	*lifCond
	gLeak []float64
}

func (f *facets) Prepare(dt float64) error {
	for i := range f.cm {
		f.cm[i] = 0.2
		f.tauRef[i] = 1
		f.tauM[i] = 0.2 / (f.gLeak[i] / 1000) // nF / uS = ms
	}
	return f.lifCond.Prepare(dt)
}

func (m *lifCond) Prepare(dt float64) error {
	m.dt = dt
	for i := range m.v {
		m.gL[i] = m.cm[i] / m.tauM[i] // nF/ms = uS
		m.gLvr[i] = m.gL[i] * m.vRest[i]
		m.dtc[i] = dt / m.cm[i]
		m.pe[i] = math.Exp(-dt / m.tauE[i])
		m.pi[i] = math.Exp(-dt / m.tauI[i])
		m.peh[i] = math.Exp(-dt / (2 * m.tauE[i]))
		m.pih[i] = math.Exp(-dt / (2 * m.tauI[i]))
		m.refSteps[i] = int32(steps(m.tauRef[i], dt))
		if m.shape == synAlpha {
			m.jumpE[i] = math.E / m.tauE[i]
			m.jumpI[i] = math.E / m.tauI[i]
		}
		if m.adapt {
			m.pS[i] = math.Exp(-dt / m.tauS[i])
			m.pR[i] = math.Exp(-dt / m.tauR[i])
			m.pSh[i] = math.Exp(-dt / (2 * m.tauS[i]))
			m.pRh[i] = math.Exp(-dt / (2 * m.tauR[i]))
		}
	}
	m.hom = !m.adapt && m.shape == synExp && allSame(m.gL, m.gLvr, m.dtc, m.pe, m.pi, m.peh, m.pih, m.eE, m.eI, m.iOff, m.vThresh, m.vReset) && allSame32(m.refSteps)
	if m.hom && len(m.v) > 0 {
		m.h = condConst{gL: m.gL[0], gLvr: m.gLvr[0], dtc: m.dtc[0], pe: m.pe[0], pi: m.pi[0], peh: m.peh[0], pih: m.pih[0],
			eE: m.eE[0], eI: m.eI[0], iOff: m.iOff[0], vThresh: m.vThresh[0], vReset: m.vReset[0], refSteps: m.refSteps[0]}
	}
	return nil
}

// allSame reports whether each slice holds one value throughout.
func allSame(xss ...[]float64) bool {
	for _, xs := range xss {
		for _, x := range xs {
			if x != xs[0] {
				return false
			}
		}
	}
	return true
}

func allSame32(xs []int32) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}

func (m *lifCond) Reset() {
	clear(m.refr)
	clear(m.ye)
	clear(m.yi)
}

func (m *lifCond) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	switch {
	case m.adapt:
		m.stepAdapt(lo, hi, in, out)
	case m.shape == synAlpha:
		m.stepAlpha(lo, hi, in, out)
	case m.hom && !m.plain:
		m.stepExpHom(lo, hi, in, out)
	default:
		m.stepExp(lo, hi, in, out)
	}
}

func (m *lifCond) stepExp(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, ge, gi, refr := m.v, m.ge, m.gi, m.refr
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			refr[i]--
			v[i] = m.vReset[i]
		} else {
			gem := ge[i] * m.peh[i]
			gim := gi[i] * m.pih[i]
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			a := (m.gL[i] + gem + gim) * m.dtc[i]
			num := m.gLvr[i] + gem*m.eE[i] + gim*m.eI[i] + I
			v[i] = pade(v[i], a, m.dtc[i]*num)
		}
		ge[i] = ge[i]*m.pe[i] + inE[i]
		gi[i] = gi[i]*m.pi[i] + inI[i]
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
// TestCondFastPath holds it bit-identical to stepExp.
func (m *lifCond) stepExpHom(lo, hi int, in *Input, out *Spikes) {
	if haveSIMD {
		m.stepExpHomSIMD(lo, hi, in, out)
		return
	}
	m.stepExpHomScalar(lo, hi, in, out)
}

func (m *lifCond) stepExpHomScalar(lo, hi int, in *Input, out *Spikes) {
	h := m.h
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	v, ge, gi, refr := m.v[lo:hi], m.ge[lo:hi], m.gi[lo:hi], m.refr[lo:hi]
	ge, gi, refr = ge[:len(v)], gi[:len(v)], refr[:len(v)]
	inE, inI = inE[:len(v)], inI[:len(v)]
	iext, gap := in.external(lo, hi)
	for i := range v {
		vi := v[i]
		if refr[i] > 0 {
			refr[i]--
			vi = h.vReset
		} else {
			gem := ge[i] * h.peh
			gim := gi[i] * h.pih
			I := h.iOff
			if iext != nil {
				I += iext[i]
			}
			if gap != nil {
				I += gap[i]
			}
			a := (h.gL + gem + gim) * h.dtc
			num := h.gLvr + gem*h.eE + gim*h.eI + I
			vi = pade(vi, a, h.dtc*num)
		}
		ge[i] = ge[i]*h.pe + inE[i]
		gi[i] = gi[i]*h.pi + inI[i]
		inE[i], inI[i] = 0, 0
		if vi >= h.vThresh {
			out.Add(lo + i)
			vi = h.vReset
			refr[i] = h.refSteps
		}
		v[i] = vi
	}
}

func (m *lifCond) stepAlpha(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, ge, gi, ye, yi, refr := m.v, m.ge, m.gi, m.ye, m.yi, m.refr
	dt := m.dt
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			refr[i]--
			v[i] = m.vReset[i]
		} else {
			// g(t) = e^(-t/tau) (g + t y) at the midpoint.
			gem := m.peh[i] * (ge[i] + 0.5*dt*ye[i])
			gim := m.pih[i] * (gi[i] + 0.5*dt*yi[i])
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			a := (m.gL[i] + gem + gim) * m.dtc[i]
			num := m.gLvr[i] + gem*m.eE[i] + gim*m.eI[i] + I
			v[i] = pade(v[i], a, m.dtc[i]*num)
		}
		ge[i] = m.pe[i] * (ge[i] + dt*ye[i])
		ye[i] = m.pe[i]*ye[i] + m.jumpE[i]*inE[i]
		gi[i] = m.pi[i] * (gi[i] + dt*yi[i])
		yi[i] = m.pi[i]*yi[i] + m.jumpI[i]*inI[i]
		inE[i], inI[i] = 0, 0
		if v[i] >= m.vThresh[i] {
			out.Add(i)
			v[i] = m.vReset[i]
			refr[i] = m.refSteps[i]
		}
	}
}

func (m *lifCond) stepAdapt(lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	v, ge, gi, gs, gr, refr := m.v, m.ge, m.gi, m.gs, m.gr, m.refr
	for i := lo; i < hi; i++ {
		if refr[i] > 0 {
			refr[i]--
			v[i] = m.vReset[i]
		} else {
			gem := ge[i] * m.peh[i]
			gim := gi[i] * m.pih[i]
			gsm := gs[i] * m.pSh[i] / 1000 // nS -> uS
			grm := gr[i] * m.pRh[i] / 1000
			I := m.iOff[i]
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			a := (m.gL[i] + gem + gim + gsm + grm) * m.dtc[i]
			num := m.gLvr[i] + gem*m.eE[i] + gim*m.eI[i] + gsm*m.eS[i] + grm*m.eR[i] + I
			v[i] = pade(v[i], a, m.dtc[i]*num)
		}
		ge[i] = ge[i]*m.pe[i] + inE[i]
		gi[i] = gi[i]*m.pi[i] + inI[i]
		gs[i] *= m.pS[i]
		gr[i] *= m.pR[i]
		inE[i], inI[i] = 0, 0
		if v[i] >= m.vThresh[i] {
			out.Add(i)
			v[i] = m.vReset[i]
			refr[i] = m.refSteps[i]
			gs[i] += m.qS[i]
			gr[i] += m.qR[i]
		}
	}
}

// pade returns V after a step of c_m dV/dt = num - g V, given a = h g/c_m
// and b = h num/c_m: V' = (V P + b)/Q, the (2,2) Pade form of
// V_inf + (V - V_inf) e^(-a).
func pade(v, a, b float64) float64 {
	a2 := a * a * (1.0 / 12)
	return (v*(1-0.5*a+a2) + b) / (1 + 0.5*a + a2)
}
