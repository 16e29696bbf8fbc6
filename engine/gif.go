package engine

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
)

// GIF_cond_exp: the generalised integrate-and-fire model of Mensi et al.
// (2012) and Pozzorini et al. (2015), as NEST's gif_cond_exp:
//
//	c_m dV/dt = -g_L (V - v_rest) - g_e (V - e_rev_E) - g_i (V - e_rev_I) - eta(t) + I
//	eta(t) = sum_k eta_k(t),  each eta_k decaying with tau_eta[k], growing by a_eta[k] (nA) at a spike
//	v_t(t) = v_t_star + sum_k gamma_k(t),  each decaying with tau_gamma[k], growing by a_gamma[k] (mV)
//	lambda(t) = lambda0 exp((V - v_t)/delta_v)
//
// with g_L = c_m/tau_m. Spiking is stochastic: at the end of each step that
// is not refractory, the neuron fires with probability 1 - exp(-lambda dt),
// from V and v_t at that time, drawing one uniform number from its own
// stream. The streams derive from the population's seed and the neuron's
// index, so results do not depend on the thread count. After a spike V is set
// to v_reset and held there for round(tau_refrac/dt) steps.
//
// The membrane is integrated as IF_cond_exp's (cond.go): the conductances and
// eta are frozen at their exact mid-step values, which makes the equation
// linear, and its exact solution is taken with the (2,2) Pade approximant.
// The eta and gamma elements and the conductances decay exactly. The number
// of elements may differ between neurons.

func init() {
	registerModel("GIF_cond_exp", newGIF)
}

type gif struct {
	dt                                                                              float64
	vRest, cm, tauM, tauRef, tauE, tauI, eE, eI, vReset, iOff, deltaV, vTStar, lam0 []float64
	tauEta, tauGamma, aEta, aGamma                                                  [][]float64
	v, vt, ieta, ge, gi                                                             []float64
	refr                                                                            []int32
	streams                                                                         []rng.Stream
	// The elements of neuron i are eta[etaOff[i]:etaOff[i+1]] and
	// gam[gamOff[i]:gamOff[i+1]], with their decays per step (etaP, gamP),
	// per half step (etaH) and jumps at a spike (etaQ, gamQ).
	etaOff, gamOff                  []int
	eta, etaP, etaH, etaQ           []float64
	gam, gamP, gamQ                 []float64
	gL, gLvr, dtc, pe, pi, peh, pih []float64
	refSteps                        []int32
}

func newGIF(p *Population) (Model, error) {
	n := p.Size
	m := &gif{
		vRest: p.param("v_rest"), cm: p.param("cm"), tauM: p.param("tau_m"), tauRef: p.param("tau_refrac"),
		tauE: p.param("tau_syn_E"), tauI: p.param("tau_syn_I"), eE: p.param("e_rev_E"), eI: p.param("e_rev_I"),
		vReset: p.param("v_reset"), iOff: p.param("i_offset"), deltaV: p.param("delta_v"), vTStar: p.param("v_t_star"),
		lam0:   p.param("lambda0"),
		tauEta: p.Seqs["tau_eta"], tauGamma: p.Seqs["tau_gamma"], aEta: p.Seqs["a_eta"], aGamma: p.Seqs["a_gamma"],
		v: p.state("v"), vt: p.state("v_t"), ieta: p.state("i_eta"), ge: p.state("gsyn_exc"), gi: p.state("gsyn_inh"),
		refr: make([]int32, n), streams: make([]rng.Stream, n),
		gL: make([]float64, n), gLvr: make([]float64, n), dtc: make([]float64, n), pe: make([]float64, n), pi: make([]float64, n),
		peh: make([]float64, n), pih: make([]float64, n), refSteps: make([]int32, n),
	}
	for i := range m.streams {
		m.streams[i].Seed(rng.Derive(p.Seed, domainNeuron, uint64(i)))
	}
	return m, nil
}

func (m *gif) Prepare(dt float64) error {
	m.dt = dt
	n := len(m.v)
	etaOff, gamOff := make([]int, n+1), make([]int, n+1)
	for i := 0; i < n; i++ {
		if len(m.tauEta[i]) != len(m.aEta[i]) {
			return fmt.Errorf("neuron %d: tau_eta has %d values but a_eta has %d; they must pair up", i, len(m.tauEta[i]), len(m.aEta[i]))
		}
		if len(m.tauGamma[i]) != len(m.aGamma[i]) {
			return fmt.Errorf("neuron %d: tau_gamma has %d values but a_gamma has %d; they must pair up", i, len(m.tauGamma[i]), len(m.aGamma[i]))
		}
		etaOff[i+1] = etaOff[i] + len(m.tauEta[i])
		gamOff[i+1] = gamOff[i] + len(m.tauGamma[i])
	}
	// Keep the elements' values across a parameter change unless the number
	// of elements changed.
	if !equalInts(etaOff, m.etaOff) {
		m.etaOff, m.eta = etaOff, make([]float64, etaOff[n])
		m.etaP, m.etaH, m.etaQ = make([]float64, etaOff[n]), make([]float64, etaOff[n]), make([]float64, etaOff[n])
	}
	if !equalInts(gamOff, m.gamOff) {
		m.gamOff, m.gam = gamOff, make([]float64, gamOff[n])
		m.gamP, m.gamQ = make([]float64, gamOff[n]), make([]float64, gamOff[n])
	}
	for i := 0; i < n; i++ {
		m.gL[i] = m.cm[i] / m.tauM[i]
		m.gLvr[i] = m.gL[i] * m.vRest[i]
		m.dtc[i] = dt / m.cm[i]
		m.pe[i] = math.Exp(-dt / m.tauE[i])
		m.pi[i] = math.Exp(-dt / m.tauI[i])
		m.peh[i] = math.Exp(-dt / (2 * m.tauE[i]))
		m.pih[i] = math.Exp(-dt / (2 * m.tauI[i]))
		m.refSteps[i] = int32(steps(m.tauRef[i], dt))
		for k, tau := range m.tauEta[i] {
			j := m.etaOff[i] + k
			m.etaP[j] = math.Exp(-dt / tau)
			m.etaH[j] = math.Exp(-dt / (2 * tau))
			m.etaQ[j] = m.aEta[i][k]
		}
		for k, tau := range m.tauGamma[i] {
			j := m.gamOff[i] + k
			m.gamP[j] = math.Exp(-dt / tau)
			m.gamQ[j] = m.aGamma[i][k]
		}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Reset clears the refractory counters and the eta and gamma elements. i_eta
// and v_t are what the elements make them (0 and v_t_star): like NEST, which
// does not let them be set, nmp derives them and ignores their initial values.
func (m *gif) Reset() {
	clear(m.refr)
	clear(m.eta)
	clear(m.gam)
	for i := range m.v {
		m.ieta[i] = 0
		m.vt[i] = m.vTStar[i]
	}
}

func (m *gif) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	dt := m.dt
	for i := lo; i < hi; i++ {
		e0, e1 := m.etaOff[i], m.etaOff[i+1]
		g0, g1 := m.gamOff[i], m.gamOff[i+1]
		refractory := m.refr[i] > 0
		if refractory {
			m.refr[i]--
			m.v[i] = m.vReset[i]
		} else {
			gem := m.ge[i] * m.peh[i]
			gim := m.gi[i] * m.pih[i]
			etaMid := 0.0
			for j := e0; j < e1; j++ {
				etaMid += m.eta[j] * m.etaH[j]
			}
			I := m.iOff[i] - etaMid
			if in.I != nil {
				I += in.I[i]
			}
			if in.Gap != nil {
				I += in.Gap[i]
			}
			a := (m.gL[i] + gem + gim) * m.dtc[i]
			num := m.gLvr[i] + gem*m.eE[i] + gim*m.eI[i] + I
			m.v[i] = pade(m.v[i], a, m.dtc[i]*num)
		}
		for j := e0; j < e1; j++ {
			m.eta[j] *= m.etaP[j]
		}
		for j := g0; j < g1; j++ {
			m.gam[j] *= m.gamP[j]
		}
		m.ge[i] = m.ge[i]*m.pe[i] + inE[i]
		m.gi[i] = m.gi[i]*m.pi[i] + inI[i]
		inE[i], inI[i] = 0, 0
		vt := m.vTStar[i]
		for j := g0; j < g1; j++ {
			vt += m.gam[j]
		}
		if !refractory && m.lam0[i] > 0 {
			// lambda0 is in Hz, time in ms.
			lam := m.lam0[i] / 1000 * math.Exp((m.v[i]-vt)/m.deltaV[i])
			if m.streams[i].Float64() < -math.Expm1(-lam*dt) {
				out.Add(i)
				m.v[i] = m.vReset[i]
				m.refr[i] = m.refSteps[i]
				for j := e0; j < e1; j++ {
					m.eta[j] += m.etaQ[j]
				}
				for j := g0; j < g1; j++ {
					m.gam[j] += m.gamQ[j]
					vt += m.gamQ[j]
				}
			}
		}
		ie := 0.0
		for j := e0; j < e1; j++ {
			ie += m.eta[j]
		}
		m.ieta[i], m.vt[i] = ie, vt
	}
}

// Cost is relative to a LIF neuron (stochastic escape and eta/gamma kernels: about 80 ns per neuron-step, BenchmarkModels).
func (m *gif) Cost() float64 { return 14 }
