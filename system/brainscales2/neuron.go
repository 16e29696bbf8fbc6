package brainscales2

import (
	"math"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// hxModel is the engine model of HXNeuron populations: each neuron is one
// circuit at its placed position, with the chip's mismatch there.
//
// Per step of dt (hardware time), with the synaptic line deflections held
// from the start of the step: the membrane follows the leak OTA (or, while
// the reset is active, the reset OTA) exactly; the lines decay and take the
// events that arrive at the end of the step; a membrane at or above the
// threshold while not refractory is a spike at the end of the step, which
// starts the refractory counter and the reset. This is the exact scheme of
// the engine's IF_curr_exp applied to the circuit's parameters; with COBA
// inputs, the exponential term, adaptation or bypass the step is
// exponential Euler with the nonlinear currents held over the step.
type hxModel struct {
	pop      *engine.Population
	circuits []int // circuit of each neuron
	opts     *Options
	cm       *chipMismatch
	st       *runState
	dt       float64 // µs

	v, exc, inh, ad []float64 // state the engine records (V)
	w               []float64 // adaptation current (µA)

	phys   []phys
	k      []hxConst
	kr     []hxReset
	jit    []jitter
	linear bool // no neuron needs the general step
	obs    []int32
	runs   uint64

	// pre-roll scratch
	zero [2][]float64
	spk  engine.Spikes

	// crossings[lo] logs, for the thread whose range starts at lo, where
	// within their steps the spikes of the neurons in logSpikes happened
	// (those whose spikes are recorded), for the readout's times.
	crossings [][]crossing
	logSpikes []bool
}

// crossing is a spike placed within its step: at the end of step stamp-1
// minus (1-frac) steps.
type crossing struct {
	seg    int32
	neuron int32
	stamp  int64
	frac   float64
}

// hxConst is what one neuron's step needs, kept together with its hidden
// state (one stream of memory instead of many): the synaptic line
// deflections e and h (V) and the refractory counter r. The free
// membrane's step is v' = c0 + p22 v + p21e e + p21i h.
type hxConst struct {
	e, h                float64
	c0, p22, p21e, p21i float64
	dE, dI, jE, jI      float64
	vTh                 float64
	r, refr, hold       int32
}

// hxReset is the step while the reset is active, and what only the
// general step uses.
type hxReset struct {
	c0, p22, p21e, p21i float64
	pW                  float64
	// for placing a spike within its step
	vInf, tau, rstUs float64
}

func newHXModel(p *engine.Population, circuits []int, o *Options, cm *chipMismatch, st *runState) *hxModel {
	n := p.Size
	m := &hxModel{pop: p, circuits: circuits, opts: o, cm: cm, st: st,
		v: p.State["v"], exc: p.State["exc_synin"], inh: p.State["inh_synin"], ad: p.State["adaptation"],
		w:    make([]float64, n),
		phys: make([]phys, n), k: make([]hxConst, n), kr: make([]hxReset, n), jit: make([]jitter, n)}
	// The CADC reads the same nodes as the MADC.
	for _, v := range analogVars {
		p.State[v+cadcSuffix] = p.State[v]
	}
	m.zero[0], m.zero[1] = make([]float64, n), make([]float64, n)
	m.crossings = make([][]crossing, n+1)
	m.logSpikes = make([]bool, n)
	return m
}

// Cost tells the engine's thread balancing what a neuron costs relative to
// a LIF neuron: the linear step is one, the general step about twice that.
func (m *hxModel) Cost() float64 {
	if m.linear {
		return 1
	}
	return 2
}

func (m *hxModel) Prepare(dtMs float64) error {
	m.dt = dtMs * 1e3
	m.derive()
	return nil
}

// derive recomputes every neuron's physical parameters and step constants.
func (m *hxModel) derive() {
	params := m.pop.Params
	m.linear = true
	for i, c := range m.circuits {
		get := func(name string) float64 { return params[name][i] }
		q := quadrantOf(c)
		ph := derive(get, c, q, m.opts, m.cm, &m.jit[i])
		m.phys[i] = ph
		e, h, r := m.k[i].e, m.k[i].h, m.k[i].r
		m.k[i], m.kr[i] = stepConst(&ph, m.dt)
		m.k[i].e, m.k[i].h, m.k[i].r = e, h, r
		if ph.cobaE || ph.cobaI || ph.expOn || ph.adOn || ph.bypassE || ph.bypassI {
			m.linear = false
		}
	}
}

func stepConst(n *phys, dt float64) (hxConst, hxReset) {
	var k hxConst
	var kr hxReset
	tauM := n.C / n.gL
	k.p22 = math.Exp(-dt / tauM)
	k.c0 = (n.eL + n.iDC/n.gL) * (1 - k.p22)
	k.p21e = n.gmE * engine.PropExp(dt, tauM, n.tauE, n.C)
	k.p21i = -n.gmI * engine.PropExp(dt, tauM, n.tauI, n.C)
	tauR := n.C / n.gR
	kr.p22 = math.Exp(-dt / tauR)
	kr.vInf = n.vR + n.iDC/n.gR
	kr.c0 = kr.vInf * (1 - kr.p22)
	kr.tau, kr.rstUs = tauR, n.rstUs
	if !n.pause {
		kr.p21e = n.gmE * engine.PropExp(dt, tauR, n.tauE, n.C)
		kr.p21i = -n.gmI * engine.PropExp(dt, tauR, n.tauI, n.C)
	}
	k.dE, k.dI = math.Exp(-dt/n.tauE), math.Exp(-dt/n.tauI)
	k.jE, k.jI = n.jumpE, n.jumpI
	k.vTh = n.vTh
	k.refr = int32(math.Round(n.refrUs / dt))
	rst := int32(math.Round(n.rstUs / dt))
	k.hold = max(k.refr-rst, 0)
	if n.adOn {
		kr.pW = math.Exp(-dt / n.tauW)
	}
	return k, kr
}

// Reset starts a new run with new temporal noise. Before a run, the
// execution software holds every neuron in reset for 1 µs and then lets
// it evolve freely for 4 µs before the experiment's time 0 (grenade's
// realtime preamble); the neurons run through that preamble here, with
// no input and nothing recorded. Noise.RandomPhaseUs adds up to that much
// free evolution more (the "arbitrary phase" older software showed).
func (m *hxModel) Reset() {
	m.runs++
	seed := rng.Derive(m.pop.Seed, domRun, m.runs)
	nz := &m.opts.Noise
	for i := range m.jit {
		r := rng.New(rng.Derive(seed, uint64(i)))
		for k := range m.jit[i].v {
			m.jit[i].v[k] = nz.CapMemMV * 1e-3 * r.Normal()
		}
		for k := range m.jit[i].i {
			m.jit[i].i[k] = nz.CurrentRel * r.Normal()
		}
	}
	m.derive()
	for i := range m.k {
		m.k[i].e, m.k[i].h = 0, 0
	}
	in := engine.Input{Syn: [][]float64{m.zero[0], m.zero[1]}}
	force := int32(math.Round(forceResetUs / m.dt))
	free := int(math.Round(preambleFreeUs / m.dt))
	maxExtra := int(nz.RandomPhaseUs / m.dt)
	for i := range m.v {
		ph := &m.phys[i]
		m.v[i] = math.Min(ph.restingV(), ph.vTh)
		m.w[i] = 0
		if ph.adOn {
			m.w[i] = ph.a * (m.v[i] - ph.eW)
		}
		m.k[i].r = m.k[i].hold + force
		steps := int(force) + free
		if maxExtra > 0 {
			r := rng.New(rng.Derive(m.pop.Seed, domPhase, m.runs, uint64(i)))
			steps += r.Intn(maxExtra + 1)
		}
		for ; steps > 0; steps-- {
			m.spk.IDs = m.spk.IDs[:0]
			m.advance(-1, i, i+1, &in, &m.spk)
		}
	}
	m.observe(0, len(m.v))
}

// The realtime preamble (grenade): force reset, then free evolution.
const (
	forceResetUs   = 1.0
	preambleFreeUs = 4.0
)

func (m *hxModel) Step(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	m.st.clock.Store(n + 1)
	m.advance(n, lo, hi, in, out)
	m.observe(lo, hi)
}

// advance steps neurons [lo, hi) over step n (n < 0: a step of the
// preamble before a run, not logged).
func (m *hxModel) advance(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	if m.linear {
		m.stepLinear(n, lo, hi, in, out)
	} else {
		m.stepGeneral(n, lo, hi, in, out)
	}
}

// observe computes the readout nodes of the neurons being recorded.
func (m *hxModel) observe(lo, hi int) {
	for _, i32 := range m.obs {
		i := int(i32)
		if i < lo || i >= hi {
			continue
		}
		ph := &m.phys[i]
		m.exc[i] = clampRail(ph.lineE0 - m.k[i].e)
		m.inh[i] = clampRail(ph.lineI0 - m.k[i].h)
		m.ad[i] = clampRail(ph.vWRef + m.w[i]/adReadoutG)
	}
}

func (m *hxModel) stepLinear(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	k := m.k[lo:hi]
	v := m.v[lo:hi]
	v = v[:len(k)]
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	inE, inI = inE[:len(k)], inI[:len(k)]
	kr := m.kr[lo:hi]
	kr = kr[:len(k)]
	for i := range k {
		c := &k[i]
		vi, e, h := v[i], c.e, c.h
		r := c.r
		if r > c.hold {
			x := &kr[i]
			vi = x.c0 + x.p22*vi + x.p21e*e + x.p21i*h
		} else {
			vi = c.c0 + c.p22*vi + c.p21e*e + c.p21i*h
		}
		if vi < 0 {
			vi = 0
		} else if vi > railV {
			vi = railV
		}
		c.e = c.dE*e + c.jE*inE[i]
		c.h = c.dI*h + c.jI*inI[i]
		inE[i], inI[i] = 0, 0
		if r > 0 {
			c.r = r - 1
		} else if vi >= c.vTh {
			out.Add(lo + i)
			vi, c.r = m.fire(n, lo, lo+i, v[i], vi)
		}
		v[i] = vi
	}
}

// fire places a threshold crossing within its step (linearly between the
// membrane at the step's start and end) and lets the reset act from the
// crossing on: the membrane at the step's end and the refractory counter
// then follow the chip's continuous timing, not the step's end. The spike
// itself is reported at the step's end (the engine's grid).
func (m *hxModel) fire(n int64, lo, i int, v0, v1 float64) (float64, int32) {
	c, x := &m.k[i], &m.kr[i]
	f := 1.0
	if v1 > v0 {
		f = math.Min(math.Max((c.vTh-v0)/(v1-v0), 0), 1)
	}
	if n >= 0 && m.logSpikes[i] {
		m.crossings[lo] = append(m.crossings[lo], crossing{seg: int32(m.runs - 1), neuron: int32(i), stamp: n + 1, frac: f})
	}
	since := (1 - f) * m.dt // time from the crossing to the step's end
	v := x.vInf + (c.vTh-x.vInf)*math.Exp(-since/x.tau)
	if c.refr == 0 {
		v = v1 // no reset at all: the counter never runs
	}
	// The reset is released rstUs after the crossing; the holdoff that
	// follows keeps its length in steps.
	r := c.hold + int32(math.Round((x.rstUs-since)/m.dt))
	return clampRail(v), max(r, 0)
}

func (m *hxModel) stepGeneral(n int64, lo, hi int, in *engine.Input, out *engine.Spikes) {
	inE, inI := in.Syn[0], in.Syn[1]
	_ = n
	for i := lo; i < hi; i++ {
		c := &m.k[i]
		ph := &m.phys[i]
		vi, e, h := m.v[i], c.e, c.h
		r := c.r
		inReset := r > c.hold
		// The synaptic lines act through the exact propagators, scaled by
		// the COBA factor held over the step; the other currents are held.
		fE, fI := 1.0, 1.0
		if ph.cobaE {
			fE = math.Max(0, 1+ph.kE*(ph.eRevE-vi))
		}
		if ph.cobaI {
			fI = math.Max(0, 1+ph.kI*(vi-ph.eRevI))
		}
		I := ph.iDC
		if ph.expOn && !(inReset && ph.pause) {
			I += ph.iExp0 * math.Exp(math.Min((vi-ph.vExp)/expSlopeV, 20))
		}
		if ph.adOn {
			I -= m.w[i]
		}
		// Written as the linear step plus the held currents' part, so that
		// without them both steps do the same arithmetic.
		if inReset {
			x := &m.kr[i]
			vi = x.c0 + x.p22*vi + (1-x.p22)*(I-ph.iDC)/ph.gR + fE*x.p21e*e + fI*x.p21i*h
		} else {
			vi = c.c0 + c.p22*vi + (1-c.p22)*(I-ph.iDC)/ph.gL + fE*c.p21e*e + fI*c.p21i*h
		}
		vi = clampRail(vi)
		if ph.adOn {
			pW := m.kr[i].pW
			m.w[i] = pW*m.w[i] + (1-pW)*ph.a*(vi-ph.eW)
		}
		c.e = c.dE*e + c.jE*inE[i]
		c.h = c.dI*h + c.jI*inI[i]
		bypass := (ph.bypassE && inE[i] > 0) || (ph.bypassI && inI[i] > 0)
		inE[i], inI[i] = 0, 0
		fired := false
		if r > 0 {
			c.r = r - 1
		} else if vi >= c.vTh {
			fired = true
			vi, c.r = m.fire(n, lo, i, m.v[i], vi)
			if ph.adOn && ph.adPulse {
				m.w[i] += ph.b
			}
		}
		if fired || bypass {
			out.Add(i)
		}
		m.v[i] = vi
	}
}

// quadrantOf returns the CapMem quadrant of circuit c: 128 columns of one
// hemisphere each.
func quadrantOf(c int) int { return (c/numColumns)*2 + (c%numColumns)/128 }

// spikeFractions returns where within their steps the spikes of segment
// seg happened, by (stamp, neuron), and forgets segments before from.
func (m *hxModel) spikeFractions(seg int, from int) map[[2]int64]float64 {
	out := map[[2]int64]float64{}
	for lo, cs := range m.crossings {
		keep := cs[:0]
		for _, c := range cs {
			if int(c.seg) < from {
				continue
			}
			keep = append(keep, c)
			if int(c.seg) == seg {
				out[[2]int64{c.stamp, int64(c.neuron)}] = c.frac
			}
		}
		m.crossings[lo] = keep
	}
	return out
}
