package engine

import (
	"fmt"
	"math"
)

// Adaptive exponential integrate-and-fire models (Brette and Gerstner 2005):
// EIF_cond_exp_isfa_ista and EIF_cond_alpha_isfa_ista, as NEST's aeif_cond_exp
// and aeif_cond_alpha.
//
//	c_m dV/dt = -g_L (V - v_rest) + g_L delta_T exp((V - v_thresh)/delta_T)
//	            - g_e (V - e_rev_E) - g_i (V - e_rev_I) - w + I
//	tau_w dw/dt = a (V - v_rest) - w
//
// with g_L = c_m/tau_m. V, w and the conductances are integrated together with
// the adaptive Dormand-Prince scheme of ode.go. In the right-hand side V is
// capped at the spike threshold (v_spike, or v_thresh when delta_T is 0), as
// in NEST, so the exponential cannot overflow. When a substep ends at or above
// the threshold, the crossing is located inside the substep (cubic Hermite
// interpolation), the state is integrated to it, and there V is reset to
// v_reset and w grows by b; the spike is reported at the end of the step.
// After a spike V is held at v_reset (w and the conductances go on) for the
// rest of the step and round(tau_refrac/dt) further steps; with tau_refrac
// rounding to 0 steps the neuron is never held and may fire again in the same
// step. At the end of the step the conductances are set to their exact values
// and the arrivals are added.

func init() {
	registerModel("EIF_cond_exp_isfa_ista", func(p *Population) (Model, error) { return newAdEx(p, synExp), nil })
	registerModel("EIF_cond_alpha_isfa_ista", func(p *Population) (Model, error) { return newAdEx(p, synAlpha), nil })
}

// adexInvTol holds the inverses of the absolute error tolerances of AdEx
// substeps, per component: V in mV, w in nA, conductances in uS.
var adexInvTol = odeVec{1 / 1e-4, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7}

type adex struct {
	shape synShape
	dt    float64
	// parameters (shared with the Population)
	cm, tauRef, vSpike, vReset, vRest, tauM, iOff, a, b, deltaT, tauW, vThresh, eE, tauE, eI, tauI []float64
	// state
	v, w, ge, gi []float64
	ye, yi       []float64 // alpha: the conductances' derivative variables
	refr         []int32
	sub          []float64 // each neuron's substep length, ms
	// derived
	gL, thr, pe, pi, jumpE, jumpI []float64
	refSteps                      []int32
}

func newAdEx(p *Population, shape synShape) *adex {
	n := p.Size
	m := &adex{shape: shape,
		cm: p.param("cm"), tauRef: p.param("tau_refrac"), vSpike: p.param("v_spike"), vReset: p.param("v_reset"),
		vRest: p.param("v_rest"), tauM: p.param("tau_m"), iOff: p.param("i_offset"), a: p.param("a"), b: p.param("b"),
		deltaT: p.param("delta_T"), tauW: p.param("tau_w"), vThresh: p.param("v_thresh"),
		eE: p.param("e_rev_E"), tauE: p.param("tau_syn_E"), eI: p.param("e_rev_I"), tauI: p.param("tau_syn_I"),
		v: p.state("v"), w: p.state("w"), ge: p.state("gsyn_exc"), gi: p.state("gsyn_inh"),
		refr: make([]int32, n), sub: make([]float64, n),
		gL: make([]float64, n), thr: make([]float64, n), pe: make([]float64, n), pi: make([]float64, n),
		refSteps: make([]int32, n),
	}
	if shape == synAlpha {
		m.ye, m.yi = make([]float64, n), make([]float64, n)
		m.jumpE, m.jumpI = make([]float64, n), make([]float64, n)
	}
	return m
}

func (m *adex) Prepare(dt float64) error {
	m.dt = dt
	for i := range m.v {
		m.gL[i] = m.cm[i] / m.tauM[i]
		m.thr[i] = m.vSpike[i]
		if m.deltaT[i] == 0 {
			m.thr[i] = m.vThresh[i]
		} else {
			// NEST's checks: a spike cut-off below the threshold, or so far
			// above it that the exponential overflows, makes no model.
			if m.vSpike[i] < m.vThresh[i] {
				return fmt.Errorf("neuron %d: v_spike (%g mV) must not be below v_thresh (%g mV)", i, m.vSpike[i], m.vThresh[i])
			}
			if (m.vSpike[i]-m.vThresh[i])/m.deltaT[i] >= 700 {
				return fmt.Errorf("neuron %d: (v_spike - v_thresh)/delta_T = %g overflows the exponential; raise delta_T or lower v_spike", i, (m.vSpike[i]-m.vThresh[i])/m.deltaT[i])
			}
		}
		if m.vReset[i] >= m.thr[i] {
			return fmt.Errorf("neuron %d: v_reset (%g mV) must be below the spike cut-off (%g mV)", i, m.vReset[i], m.thr[i])
		}
		m.pe[i] = math.Exp(-dt / m.tauE[i])
		m.pi[i] = math.Exp(-dt / m.tauI[i])
		m.refSteps[i] = int32(steps(m.tauRef[i], dt))
		if m.shape == synAlpha {
			m.jumpE[i] = math.E / m.tauE[i]
			m.jumpI[i] = math.E / m.tauI[i]
		}
		if m.sub[i] <= 0 || m.sub[i] > dt {
			m.sub[i] = dt
		}
	}
	return nil
}

func (m *adex) Reset() {
	clear(m.refr)
	clear(m.ye)
	clear(m.yi)
	for i := range m.sub {
		m.sub[i] = m.dt
	}
}

// adexCell is one neuron's constants during its step.
// Rates are kept as reciprocals (1/c_m, 1/tau, 1/delta_T) to spare the
// divisions in the right-hand side.
type adexCell struct {
	gL, eL, dT, rdT, vT, thr, rcm, aS, rtauW, eE, eI, rtauE, rtauI, I float64
	vReset                                                            float64
}

// rhs sets dy = f(y). The state is V, w, g_e, g_i and, for alpha synapses,
// y_e, y_i. While clamped (refractory) V is held at v_reset.
func (c *adexCell) rhs(y, dy *odeVec, alpha, clamp bool) {
	V := y[0]
	if clamp {
		V = c.vReset
	} else if V > c.thr {
		V = c.thr
	}
	ge, gi := y[2], y[3]
	if clamp {
		dy[0] = 0
	} else {
		I := -c.gL*(V-c.eL) - ge*(V-c.eE) - gi*(V-c.eI) - y[1] + c.I
		if c.dT > 0 {
			I += c.gL * c.dT * math.Exp((V-c.vT)*c.rdT)
		}
		dy[0] = I * c.rcm
	}
	dy[1] = (c.aS*(V-c.eL) - y[1]) * c.rtauW
	dy[2] = -ge * c.rtauE
	dy[3] = -gi * c.rtauI
	if alpha {
		dy[2] += y[4]
		dy[3] += y[5]
		dy[4] = -y[4] * c.rtauE
		dy[5] = -y[5] * c.rtauI
	}
}

func (m *adex) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	alpha := m.shape == synAlpha
	dim := 4
	if alpha {
		dim = 6
	}
	dt := m.dt
	hmin := dt * 1e-7
	var wk odeWork
	for i := lo; i < hi; i++ {
		c := adexCell{gL: m.gL[i], eL: m.vRest[i], dT: m.deltaT[i], vT: m.vThresh[i], thr: m.thr[i], rcm: 1 / m.cm[i],
			aS: m.a[i] / 1000, rtauW: 1 / m.tauW[i], eE: m.eE[i], eI: m.eI[i], rtauE: 1 / m.tauE[i], rtauI: 1 / m.tauI[i],
			I: m.iOff[i], vReset: m.vReset[i]}
		if c.dT > 0 {
			c.rdT = 1 / c.dT
		}
		if in.I != nil {
			c.I += in.I[i]
		}
		if in.Gap != nil {
			c.I += in.Gap[i]
		}
		ge0, gi0 := m.ge[i], m.gi[i]
		wk.y = odeVec{m.v[i], m.w[i], ge0, gi0}
		var ye0, yi0 float64
		if alpha {
			ye0, yi0 = m.ye[i], m.yi[i]
			wk.y[4], wk.y[5] = ye0, yi0
		}
		clamp := m.refr[i] > 0
		if clamp {
			m.refr[i]--
			wk.y[0] = c.vReset
		}
		sub := m.sub[i]
		c.rhs(&wk.y, &wk.k[0], alpha, clamp)
		t := 0.0
		for t < dt {
			h, last := sub, false
			if h >= dt-t {
				h, last = dt-t, true
			}
			for s := 1; s < 7; s++ {
				wk.stage(s, dim, h)
				c.rhs(&wk.yt, &wk.k[s], alpha, clamp)
			}
			e := wk.errNorm(dim, h, &adexInvTol)
			if e > 1 && h > hmin {
				sub = math.Max(nextStep(h, e), hmin)
				continue
			}
			if !clamp && wk.yt[0] >= c.thr {
				// Integrate to the crossing, reset there, and go on.
				th := hermiteCross(wk.y[0], wk.yt[0], wk.k[0][0], wk.k[6][0], h, c.thr)
				if th < 1 {
					hc := th * h
					for s := 1; s < 7; s++ {
						wk.stage(s, dim, hc)
						c.rhs(&wk.yt, &wk.k[s], alpha, clamp)
					}
					h = hc
				}
				t += h
				wk.y = wk.yt
				wk.y[0] = c.vReset
				wk.y[1] += m.b[i]
				out.Add(i)
				if m.refSteps[i] > 0 {
					clamp = true
					m.refr[i] = m.refSteps[i]
				}
				c.rhs(&wk.y, &wk.k[0], alpha, clamp)
				continue
			}
			t += h
			wk.y = wk.yt
			wk.k[0] = wk.k[6]
			if !last || h >= sub {
				sub = math.Min(nextStep(h, e), dt)
			}
		}
		m.sub[i] = sub
		m.v[i], m.w[i] = wk.y[0], wk.y[1]
		if alpha {
			pe, pi := m.pe[i], m.pi[i]
			m.ge[i] = pe * (ge0 + dt*ye0)
			m.gi[i] = pi * (gi0 + dt*yi0)
			m.ye[i] = pe*ye0 + m.jumpE[i]*inE[i]
			m.yi[i] = pi*yi0 + m.jumpI[i]*inI[i]
		} else {
			m.ge[i] = ge0*m.pe[i] + inE[i]
			m.gi[i] = gi0*m.pi[i] + inI[i]
		}
		inE[i], inI[i] = 0, 0
	}
}

// Cost is relative to a LIF neuron (adaptive Dormand-Prince steps: about 400 ns per neuron-step, BenchmarkModels).
func (m *adex) Cost() float64 { return 60 }
