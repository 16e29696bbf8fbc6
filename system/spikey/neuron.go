package spikey

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/system/spikey/calib"
)

// The neuron circuit as the engine runs it, in biological units:
//
//	cm dV/dt = g_L (E_L - V) + g_E (E_E - V) + g_I (E_I - V) + noise
//
// with cm = 0.2 nF, E_E = 0 mV. Each line driver turns a presynaptic spike
// into a conductance time course of its own shape: a rise with tau_rise and
// a fall with tau_fall (set by drvirise and drvifall), peaking at the
// synapse's weight times the driver's amplitude (drviout). Drivers of the
// same shape share two state variables per neuron (x, the rising part, and
// g), so a neuron carries one pair per distinct shape, not per driver.
//
// In step n the arrivals of the step are added to x, x and g advance with
// their exact propagators, and V relaxes towards the conductances' balance
// point with its time constant over the step, the conductances held at their
// values at the step's start (exponential Euler, with (1-e^-a)/a as a
// polynomial where a = dt/tau <= 0.6); above threshold the
// neuron spikes, is reset and held for its refractory time. Temporal noise
// is added to V each step, as a random walk with the membrane's leak.
//
// Plastic synapse rows (STDP) reach the model on channels of their own
// (one per row, an arrival of 1 per presynaptic spike), so that the model
// sees the spikes of each plastic row at each neuron and keeps, per
// synapse, the digital weight, the causal and acausal correlation
// "capacitors" and the times of the last pre- and postsynaptic spikes. The
// reduced symmetric nearest-neighbour pairing adds exp(-|Δt|/2.5 ms) to a
// capacitor when a postsynaptic spike follows a presynaptic one with no
// other spike of either in between (causal), or the other way round
// (acausal). The controller visits the plastic rows one after the other,
// stdp_row_ms apart; at a visit a synapse whose capacitor has crossed its
// threshold gets its weight from the causal or acausal look-up table and
// the capacitors are cleared.
type model struct {
	n    int
	dt   float64
	hw   []int
	v    []float64
	refr []int32
	// per neuron
	gL, eL, vReset, vTh, eI, refSteps []float64
	// per shape k: x[k], g[k] over neurons; its propagators; sign
	x, g                [][]float64
	ge, gi              []float64 // scratch: the conductances of a step
	pxx, pgg, pgx, jump []float64
	inh                 []bool
	shapes              int
	// plastic rows
	prows    []*prow // by global plastic row; nil where the row feeds no neuron here
	lastPost []int64
	posts    [][4]int64 // the last postsynaptic spikes, newest first
	delay    int64      // the synaptic delay in steps
	lut      [2][16]int
	rowSteps int64
	// noise
	noise    bool
	noiseAmp []float64
	r        []rng.Stream // one per neuron: results do not depend on threads
}

type prow struct {
	m       int
	shape   int
	w       []float64 // the state variable w_p<m>: digital weights, NaN where not connected
	lsb     []float64 // µS per LSB
	thr     []float64
	caus    []float64
	acaus   []float64
	lastPre []int64 // emission of the last presynaptic event
	paired  []bool  // whether it has paired causally
}

func (pl *plan) newModel(p *engine.Population) (engine.Model, error) {
	pp := pl.pops[p.Index]
	if pp == nil {
		return nil, fmt.Errorf("internal: population %d has no placement", p.Index)
	}
	m := &model{n: p.Size, hw: pp.hw, v: p.State["v"], refr: make([]int32, p.Size), shapes: len(pl.shapes)}
	for _, xs := range []*[]float64{&m.gL, &m.eL, &m.vReset, &m.vTh, &m.eI, &m.refSteps, &m.noiseAmp} {
		*xs = make([]float64, p.Size)
	}
	m.noise = on(pl.opts.TemporalNoise)
	m.r = make([]rng.Stream, p.Size)
	for j := range m.r {
		m.r[j] = rng.New(rng.Derive(pl.user.Simulation.Seed, domNoise, uint64(p.Index), uint64(j)))
	}
	drift := rng.New(rng.Derive(pl.user.Simulation.Seed, domNoise, 1<<30))
	leakDrift, thrDrift := 1.0, 0.0
	if m.noise {
		leakDrift = math.Exp(sdDrift * drift.Normal())
		thrDrift = sdThrDrift * drift.Normal()
	}
	for j, h := range pp.hw {
		blk, par := h/neuronsPerBlock, h%2
		// what is programmed: the wanted values, through the calibration
		// unless the run is raw
		gl, vr, vs, vt, ei := pl.gL[h], pl.vrest[h], pl.vreset[h], pl.vth[h], pl.erevI[h]
		if !pl.raw {
			if on(pl.opts.CalibTauMem) {
				gl = pl.cal.GLeak(h, gl)
			}
			vr = pl.cal.Program(blk, par, calib.VRest, vr)
			vs = pl.cal.Program(blk, par, calib.VReset, vs)
			vt = pl.cal.Program(blk, par, calib.VThresh, vt)
			ei = pl.cal.Program(blk, par, calib.ERevI, ei)
		}
		// what the circuits make of it
		m.gL[j] = gl * pl.chip.leak[h] * 1e-3 * leakDrift // nS -> µS
		m.eL[j] = pl.chip.cellOut(blk, par, calib.VRest, vr)
		m.vReset[j] = pl.chip.cellOut(blk, par, calib.VReset, vs)
		m.eI[j] = pl.chip.cellOut(blk, par, calib.ERevI, ei)
		th := pl.chip.cellOut(blk, par, calib.VThresh, vt) + pl.chip.thresh[h] + thrDrift
		if !pl.raw && on(pl.opts.CalibVthresh) {
			th -= pl.cal.Thresh[h]
		}
		if pl.opts.AvoidSpikes {
			th = math.Inf(1) // the 2.0 V threshold is above anything the membrane reaches
		}
		m.vTh[j] = th
		m.refSteps[j] = pl.refr[h] * (icbBase / pl.opts.Icb) * pl.chip.refrac[h]
	}
	m.x, m.g = make([][]float64, m.shapes), make([][]float64, m.shapes)
	m.ge, m.gi = make([]float64, p.Size), make([]float64, p.Size)
	m.pxx, m.pgg, m.pgx, m.jump = make([]float64, m.shapes), make([]float64, m.shapes), make([]float64, m.shapes), make([]float64, m.shapes)
	m.inh = make([]bool, m.shapes)
	for k, sh := range pl.shapes {
		m.x[k], m.g[k] = make([]float64, p.Size), make([]float64, p.Size)
		m.inh[k] = sh.inh
		tr, tf := sh.tauRise, sh.tauFa
		if math.Abs(tr-tf) < 1e-9 {
			tf *= 1 + 1e-6
		}
		m.pxx[k] = math.Exp(-timestep / tr)
		m.pgg[k] = math.Exp(-timestep / tf)
		// g' = x/tr - g/tf, x' = -x/tr: over a step g gains x times
		// (tf/(tf-tr)) (e^(-dt/tf) - e^(-dt/tr)).
		m.pgx[k] = tf / (tf - tr) * (m.pgg[k] - m.pxx[k])
		// An arrival w raises x by w*jump so that g peaks at w.
		tp := math.Log(tf/tr) * tr * tf / (tf - tr)
		peak := tf / (tf - tr) * (math.Exp(-tp/tf) - math.Exp(-tp/tr))
		m.jump[k] = 1 / peak
	}
	lastPost := make([]int64, p.Size)
	for j := range lastPost {
		lastPost[j] = math.MinInt64 / 2
	}
	m.lastPost = lastPost
	m.prows = make([]*prow, len(pl.plastic))
	for mm, in := range pp.plastic {
		du := pl.plastic[mm]
		w := p.State[fmt.Sprintf("w_p%d", mm)]
		m.prows[mm] = &prow{m: mm, shape: du.shape, w: w, lsb: in.lsb, thr: in.thr,
			caus: make([]float64, p.Size), acaus: make([]float64, p.Size), lastPre: make([]int64, p.Size), paired: make([]bool, p.Size)}
	}
	m.posts = make([][4]int64, p.Size)
	m.delay = int64(math.Round(synDelay / timestep))
	m.Reset()
	for i := 0; i < 16; i++ {
		m.lut[0][i] = min(i+1, 15) // causal: +1
		m.lut[1][i] = max(i-1, 0)  // acausal: -1
	}
	if pl.opts.CausalLUT != nil {
		copy(m.lut[0][:], pl.opts.CausalLUT)
	}
	if pl.opts.AcausalLUT != nil {
		copy(m.lut[1][:], pl.opts.AcausalLUT)
	}
	m.rowSteps = int64(math.Round(pl.opts.STDPRowMs / timestep))
	if m.rowSteps < 1 {
		m.rowSteps = 1
	}
	return m, nil
}

func (m *model) Prepare(dt float64) error {
	m.dt = dt
	for j := range m.v {
		tau := cmNF / m.gL[j]
		// The membrane noise: a leaky random walk whose stationary SD is
		// sdMembrane (triangular increments of variance 1/6, scaled).
		m.noiseAmp[j] = sdMembrane * math.Sqrt(2*dt/tau) * math.Sqrt(6)
		m.refSteps[j] = math.Round(m.refSteps[j] / dt)
	}
	return nil
}

func (m *model) Reset() {
	clear(m.refr)
	for j := range m.lastPost {
		m.lastPost[j] = math.MinInt64 / 2
		m.posts[j] = [4]int64{math.MinInt64 / 2, math.MinInt64 / 2, math.MinInt64 / 2, math.MinInt64 / 2}
	}
	for _, r := range m.prows {
		if r == nil {
			continue
		}
		clear(r.caus)
		clear(r.acaus)
		clear(r.paired)
		for j := range r.lastPre {
			r.lastPre[j] = math.MinInt64 / 2
		}
	}
	for k := range m.x {
		clear(m.x[k])
		clear(m.g[k])
	}
	for j := range m.v {
		m.v[j] = m.eL[j]
	}
}

// phi returns (1-exp(-a))/a for a >= 0: its series to within 5e-8
// relative for a <= 0.6 (membrane time constants down to 1.7 steps), exact
// beyond.
func phi(a float64) float64 {
	if a > 0.6 {
		return -math.Expm1(-a) / a
	}
	return 1 - a*(1.0/2-a*(1.0/6-a*(1.0/24-a*(1.0/120-a*(1.0/720-a*(1.0/5040-a*(1.0/40320)))))))
}

func (m *model) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	S := m.shapes
	dt := m.dt
	t1 := n + 1
	// plastic arrivals: presynaptic events emitted delay steps ago. The
	// synapse pairs spikes by their times at the chip: the presynaptic
	// event's, not its arrival at the driver's ramp.
	for _, r := range m.prows {
		if r == nil {
			continue
		}
		arr := in.Syn[S+r.m]
		for j := lo; j < hi; j++ {
			if arr[j] == 0 {
				continue
			}
			arr[j] = 0
			w := r.w[j]
			if math.IsNaN(w) {
				continue
			}
			if w > 0 {
				m.x[r.shape][j] += w * r.lsb[j] * m.jump[r.shape]
			}
			te := t1 - m.delay
			hist := m.posts[j]
			// the latest postsynaptic spike at or before te pairs
			// acausally, if no presynaptic event came between; the
			// earliest after te (it happened while the event travelled)
			// pairs causally.
			var before, after int64 = math.MinInt64 / 2, math.MaxInt64
			for _, tp := range hist {
				if tp <= te && tp > before {
					before = tp
				}
				if tp > te && tp < after {
					after = tp
				}
			}
			if before > r.lastPre[j] {
				r.acaus[j] += math.Exp(-float64(te-before) * dt / stdpTau)
			}
			r.paired[j] = after != math.MaxInt64
			if r.paired[j] {
				r.caus[j] += math.Exp(-float64(after-te) * dt / stdpTau)
			}
			r.lastPre[j] = te
		}
	}
	// the conductances at the step's start, shape by shape
	ges, gis := m.ge[lo:hi], m.gi[lo:hi]
	clear(ges)
	clear(gis)
	for k := 0; k < S; k++ {
		acc := ges
		if m.inh[k] {
			acc = gis
		}
		syn, x, g := in.Syn[k][lo:hi], m.x[k][lo:hi], m.g[k][lo:hi]
		syn, x, g = syn[:len(acc)], x[:len(acc)], g[:len(acc)]
		pxx, pgg, pgx, jump := m.pxx[k], m.pgg[k], m.pgx[k], m.jump[k]
		for i := range acc {
			xi, gk := x[i]+syn[i]*jump, g[i]
			syn[i] = 0
			acc[i] += gk
			g[i] = pgg*gk + pgx*xi
			x[i] = pxx * xi
		}
	}
	for j := lo; j < hi; j++ {
		ge, gi := m.ge[j], m.gi[j]
		if m.refr[j] > 0 {
			m.refr[j]--
			continue
		}
		// v relaxes towards (sum g E)/gt with time constant cm/gt:
		// v + (sum g E - gt v) (dt/cm) phi(gt dt/cm), phi(a) = (1-e^-a)/a.
		gt := m.gL[j] + ge + gi
		v := m.v[j]
		v += (m.gL[j]*m.eL[j] + ge*eRevE + gi*m.eI[j] - gt*v) * (dt / cmNF) * phi(gt*dt/cmNF)
		if m.noise {
			u := m.r[j].Uint64()
			tri := float64(u>>32)*(1.0/4294967296.0) + float64(u&0xffffffff)*(1.0/4294967296.0) - 1
			v += m.noiseAmp[j] * tri
		}
		if v >= m.vTh[j] {
			out.Add(j)
			v = m.vReset[j]
			m.refr[j] = int32(m.refSteps[j])
			for _, r := range m.prows {
				if r == nil || math.IsNaN(r.w[j]) {
					continue
				}
				if lp := r.lastPre[j]; lp > m.lastPost[j] && !r.paired[j] {
					r.caus[j] += math.Exp(-float64(t1-lp) * dt / stdpTau)
					r.paired[j] = true
				}
			}
			m.lastPost[j] = t1
			h := &m.posts[j]
			copy(h[1:], h[:len(h)-1])
			h[0] = t1
		}
		m.v[j] = v
	}
	// the controller visits plastic row k at the end of steps
	// (q*R + k + 1)*rowSteps
	if R := int64(len(m.prows)); R > 0 && t1%m.rowSteps == 0 {
		r := m.prows[(t1/m.rowSteps-1)%R]
		for j := lo; r != nil && j < hi; j++ {
			w := r.w[j]
			if math.IsNaN(w) {
				continue
			}
			c, a := r.caus[j] >= r.thr[j], r.acaus[j] >= r.thr[j]
			switch {
			case c && !a:
				r.w[j] = float64(m.lut[0][int(w)])
			case a && !c:
				r.w[j] = float64(m.lut[1][int(w)])
			}
			if c || a {
				r.caus[j], r.acaus[j] = 0, 0
			}
		}
	}
}
