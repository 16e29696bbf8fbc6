package engine

import "math"

// HH_cond_exp: a single-compartment Hodgkin-Huxley neuron with Traub and
// Miles' (1991) sodium and potassium kinetics and exponentially decaying
// synaptic conductances, as NEST's hh_cond_exp_traub and pyNN.brian2 define
// it:
//
//	c_m dV/dt = -gbar_Na m^3 h (V - e_rev_Na) - gbar_K n^4 (V - e_rev_K)
//	            - g_leak (V - e_rev_leak) - g_e (V - e_rev_E) - g_i (V - e_rev_I) + I
//	dx/dt = alpha_x(u) (1 - x) - beta_x(u) x,  x in m, h, n,  u = V - v_offset
//
// with the rates of the Traub-Miles model (in 1/ms, u in mV):
//
//	alpha_m = 0.32 (13 - u)/(e^((13-u)/4) - 1)   beta_m = 0.28 (u - 40)/(e^((u-40)/5) - 1)
//	alpha_h = 0.128 e^((17-u)/18)                beta_h = 4/(1 + e^((40-u)/5))
//	alpha_n = 0.032 (15 - u)/(e^((15-u)/5) - 1)  beta_n = 0.5 e^((10-u)/40)
//
// All six state variables are integrated with the adaptive Dormand-Prince
// scheme of ode.go; at the end of the step the conductances are set to their
// exact values and the arrivals are added.
//
// The model has no threshold; spikes are detected as NEST does: a spike is
// reported at the end of a step in which V ends at or above v_offset + 30 mV
// and lower than it started (the action potential has peaked), unless a
// spike was reported in the previous 2 ms (NEST's default t_ref, which PyNN
// does not expose). Nothing is reset.

func init() {
	registerModel("HH_cond_exp", func(p *Population) (Model, error) { return newHH(p), nil })
}

// hhDeadTime is the time after a spike in which no other is detected, ms.
const hhDeadTime = 2.0

// hhInvTol holds the inverses of the absolute error tolerances of HH
// substeps: V in mV, m, h, n, conductances in uS.
var hhInvTol = odeVec{1 / 1e-4, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7, 1 / 1e-7}

type hh struct {
	dt                                                           float64
	gNa, gK, gL, cm, vOff, eNa, eK, eL, eE, eI, tauE, tauI, iOff []float64
	v, m, h, n, ge, gi                                           []float64
	refr                                                         []int32
	sub                                                          []float64
	pe, pi                                                       []float64
	deadSteps                                                    int32
}

func newHH(p *Population) *hh {
	n := p.Size
	return &hh{
		gNa: p.param("gbar_Na"), gK: p.param("gbar_K"), gL: p.param("g_leak"), cm: p.param("cm"), vOff: p.param("v_offset"),
		eNa: p.param("e_rev_Na"), eK: p.param("e_rev_K"), eL: p.param("e_rev_leak"), eE: p.param("e_rev_E"), eI: p.param("e_rev_I"),
		tauE: p.param("tau_syn_E"), tauI: p.param("tau_syn_I"), iOff: p.param("i_offset"),
		v: p.state("v"), m: p.state("m"), h: p.state("h"), n: p.state("n"), ge: p.state("gsyn_exc"), gi: p.state("gsyn_inh"),
		refr: make([]int32, n), sub: make([]float64, n), pe: make([]float64, n), pi: make([]float64, n),
	}
}

func (m *hh) Prepare(dt float64) error {
	m.dt = dt
	m.deadSteps = int32(steps(hhDeadTime, dt))
	for i := range m.v {
		m.pe[i] = math.Exp(-dt / m.tauE[i])
		m.pi[i] = math.Exp(-dt / m.tauI[i])
		if m.sub[i] <= 0 || m.sub[i] > dt {
			m.sub[i] = dt
		}
	}
	return nil
}

func (m *hh) Reset() {
	clear(m.refr)
	for i := range m.sub {
		m.sub[i] = m.dt
	}
}

// hhCell is one neuron's constants during its step.
type hhCell struct {
	gNa, gK, gL, eNa, eK, eL, eE, eI, vOff, rcm, rtauE, rtauI, I float64
}

// xOverExpm1 returns x/(e^x - 1), with its limit 1 at x = 0.
func xOverExpm1(x float64) float64 {
	if math.Abs(x) < 1e-4 {
		return 1 - x/2 + x*x/12
	}
	return x / (math.Exp(x) - 1)
}

// rhs sets dy = f(y) for the state V, m, h, n, g_e, g_i.
func (c *hhCell) rhs(y, dy *odeVec) {
	V, mm, hh, nn, ge, gi := y[0], y[1], y[2], y[3], y[4], y[5]
	n2 := nn * nn
	I := -c.gNa*mm*mm*mm*hh*(V-c.eNa) - c.gK*n2*n2*(V-c.eK) - c.gL*(V-c.eL) - ge*(V-c.eE) - gi*(V-c.eI) + c.I
	dy[0] = I * c.rcm
	u := V - c.vOff
	am := 1.28 * xOverExpm1((13-u)/4) // 0.32 (13-u)/(e^((13-u)/4) - 1)
	// beta_m and beta_h share e^((40-u)/5).
	e40 := math.Exp((40 - u) / 5)
	var bm float64 // 0.28 (u-40)/(e^((u-40)/5) - 1)
	if x := (u - 40) / 5; math.Abs(x) < 1e-4 {
		bm = 1.4 * (1 - x/2 + x*x/12)
	} else {
		bm = 1.4 * x * e40 / (1 - e40)
	}
	bh := 4 / (1 + e40)
	ah := 0.128 * math.Exp((17-u)/18)
	an := 0.16 * xOverExpm1((15-u)/5) // 0.032 (15-u)/(e^((15-u)/5) - 1)
	bn := 0.5 * math.Exp((10-u)/40)
	dy[1] = am - (am+bm)*mm
	dy[2] = ah - (ah+bh)*hh
	dy[3] = an - (an+bn)*nn
	dy[4] = -ge * c.rtauE
	dy[5] = -gi * c.rtauI
}

func (m *hh) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	dt := m.dt
	hmin := dt * 1e-7
	var wk odeWork
	for i := lo; i < hi; i++ {
		c := hhCell{gNa: m.gNa[i], gK: m.gK[i], gL: m.gL[i], eNa: m.eNa[i], eK: m.eK[i], eL: m.eL[i], eE: m.eE[i], eI: m.eI[i],
			vOff: m.vOff[i], rcm: 1 / m.cm[i], rtauE: 1 / m.tauE[i], rtauI: 1 / m.tauI[i], I: m.iOff[i]}
		if in.I != nil {
			c.I += in.I[i]
		}
		if in.Gap != nil {
			c.I += in.Gap[i]
		}
		v0, ge0, gi0 := m.v[i], m.ge[i], m.gi[i]
		wk.y = odeVec{v0, m.m[i], m.h[i], m.n[i], ge0, gi0}
		sub := m.sub[i]
		c.rhs(&wk.y, &wk.k[0])
		t := 0.0
		for t < dt {
			h, last := sub, false
			if h >= dt-t {
				h, last = dt-t, true
			}
			for s := 1; s < 7; s++ {
				wk.stage(s, 6, h)
				c.rhs(&wk.yt, &wk.k[s])
			}
			e := wk.errNorm(6, h, &hhInvTol)
			if e > 1 && h > hmin {
				sub = math.Max(nextStep(h, e), hmin)
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
		v := wk.y[0]
		m.v[i], m.m[i], m.h[i], m.n[i] = v, wk.y[1], wk.y[2], wk.y[3]
		m.ge[i] = ge0*m.pe[i] + inE[i]
		m.gi[i] = gi0*m.pi[i] + inI[i]
		inE[i], inI[i] = 0, 0
		if m.refr[i] > 0 {
			m.refr[i]--
		} else if v >= c.vOff+30 && v < v0 {
			out.Add(i)
			m.refr[i] = m.deadSteps
		}
	}
}

// Cost is relative to a LIF neuron (adaptive Dormand-Prince steps of six variables: about 1.3 us per neuron-step, BenchmarkModels).
func (m *hh) Cost() float64 { return 200 }
