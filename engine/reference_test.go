package engine

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// Fine-step references for single-neuron experiments.
//
// Each reference integrates a model's equations, as PyNN and NEST define
// them, with the classical fourth-order Runge-Kutta method at a fraction of
// dt (refSubLinear, refSubNonlinear). They are written plainly here and share
// nothing with the engine's code: synaptic currents and conductances are
// evaluated as explicit sums of kernels over the arrivals (w e^(-s/tau),
// w (s/tau) e^(1-s/tau)), not through propagators or state variables. They do follow nmp's grid
// conventions (doc.go): an arrival of t_(n+1) is felt from t_(n+1) on,
// external currents hold their value at t_n over step n, threshold checks,
// resets and refractory holds happen where the model's documentation says.
// So a difference between engine and reference measures integration error,
// not a difference of convention.

// cellTest is a one-neuron experiment: spike inputs through real projections
// from a SpikeSourceArray, a step current, and recordings.
type cellTest struct {
	cell   string
	params map[string]float64
	seqs   map[string][]float64
	init   map[string]float64
	// exc and inh are the source's spike times (on the grid); they arrive
	// delay ms later with weights wE and wI.
	exc, inh []float64
	wE, wI   float64
	delay    float64
	// curT and curA are a StepCurrentSource's times (on the grid) and amplitudes.
	curT, curA []float64
	dt, T      float64
	vars       []string
	threads    int
	seed       uint64
	// plain runs the engine's plain loops instead of its fast paths.
	plain bool
	// forced, when set, makes a reference of a model whose threshold is
	// checked on the grid (LIF, GIF) spike exactly at these times instead of
	// deciding itself, and report how far its V was from justifying each
	// decision (cellRun.violation). Near-threshold passages then cannot turn
	// an error far below the tolerance into a spike one step off.
	forced []float64
}

// cellRun is what an experiment recorded: samples at t = k*dt, k = 0..T/dt.
type cellRun struct {
	trace  map[string][]float64
	spikes []float64
	// violation is, for a reference that followed forced spikes (see
	// cellTest.forced), how far V was on the wrong side of the threshold at
	// a check: below it at a forced spike, at or above it where none was
	// forced; +Inf for a spike forced while the reference was refractory.
	violation float64
}

// decide returns whether the reference spikes at a grid-point check with V
// at v and threshold thr at time t, following c.forced where it is set and
// noting any violation in out.
func (c *cellTest) decide(out *cellRun, t, v, thr float64) bool {
	if c.forced == nil {
		return v >= thr
	}
	spike := false
	for _, s := range c.forced {
		if math.Abs(s-t) < c.dt/2 {
			spike = true
		}
	}
	switch {
	case spike && v < thr:
		out.violation = math.Max(out.violation, thr-v)
	case !spike && v >= thr:
		out.violation = math.Max(out.violation, v-thr)
	}
	return spike
}

// refractoryViolation notes a spike forced at t while the reference is
// refractory.
func (c *cellTest) refractoryViolation(out *cellRun, t float64) {
	for _, s := range c.forced {
		if math.Abs(s-t) < c.dt/2 {
			out.violation = math.Inf(1)
		}
	}
}

func (c *cellTest) param(name string, def float64) float64 {
	if x, ok := c.params[name]; ok {
		return x
	}
	ct := network.Standard.Cells[c.cell]
	if p := ct.Param(name); p != nil {
		return p.Default
	}
	return def
}

func (c *cellTest) initial(name string) float64 {
	if x, ok := c.init[name]; ok {
		return x
	}
	return network.Standard.Cells[c.cell].StateVar(name).Default
}

func (c *cellTest) seq(name string) []float64 {
	if xs, ok := c.seqs[name]; ok {
		return xs
	}
	return network.Standard.Cells[c.cell].Param(name).DefaultSeq
}

func (c *cellTest) steps() int { return int(math.Round(c.T / c.dt)) }

// description builds the experiment as a network description.
func (c *cellTest) description() *network.Description {
	params := map[string]network.Value{}
	for k, v := range c.params {
		params[k] = network.Scalar(v)
	}
	for k, v := range c.seqs {
		params[k] = network.Floats(v)
	}
	init := map[string]network.Value{}
	for k, v := range c.init {
		init[k] = network.Scalar(v)
	}
	d := &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: c.dt, Seed: c.seed},
		Populations: []network.Population{
			{Label: "input", Size: 2, CellType: "SpikeSourceArray",
				Parameters: map[string]network.Value{"spike_times": network.Ragged([][]float64{c.exc, c.inh})}},
			{Label: "cell", Size: 1, CellType: c.cell, Parameters: params, InitialValues: init},
		},
		Recordings: []network.Recording{{Selection: network.Selection{{Population: 1}}, Variables: append([]string{"spikes"}, c.vars...)}},
	}
	delay := c.delay
	if delay == 0 {
		delay = 1
	}
	proj := func(src int64, w float64, receptor string) network.Projection {
		idx := network.Ints([]int64{src})
		return network.Projection{Pre: network.Selection{{Population: 0, Indices: &idx}}, Post: network.Selection{{Population: 1}},
			ReceptorType: receptor, Connector: &network.Connector{Type: "AllToAllConnector"},
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(w), "delay": network.Scalar(delay)}}}
	}
	if len(c.exc) > 0 {
		d.Projections = append(d.Projections, proj(0, c.wE, "excitatory"))
	}
	if len(c.inh) > 0 {
		d.Projections = append(d.Projections, proj(1, c.wI, "inhibitory"))
	}
	if len(c.curT) > 0 {
		d.CurrentSources = []network.CurrentSource{{Type: "StepCurrentSource", Targets: network.Selection{{Population: 1}},
			Parameters: map[string]network.Value{"times": network.Floats(c.curT), "amplitudes": network.Floats(c.curA)}}}
	}
	return d
}

// runEngine runs the experiment on the engine.
func (c *cellTest) runEngine(t *testing.T) cellRun {
	t.Helper()
	threads := c.threads
	if threads == 0 {
		threads = 1
	}
	s, err := New(c.description(), Options{Threads: threads, Plain: c.plain})
	if err != nil {
		t.Fatalf("%s: %v", c.cell, err)
	}
	if err := s.Run(context.Background(), c.T, nil); err != nil {
		t.Fatalf("%s: %v", c.cell, err)
	}
	seg := s.Segments()[0]
	out := cellRun{trace: map[string][]float64{}, spikes: append([]float64(nil), seg.Spikes[1].Times...)}
	for _, sig := range seg.Signals {
		out.trace[sig.Variable] = append([]float64(nil), sig.Data...)
	}
	return out
}

// refDrive is the input of a reference: arrival times and the step current.
type refDrive struct {
	dt         float64
	exc, inh   []float64 // arrival times, sorted
	wE, wI     float64
	curT, curA []float64
}

func (c *cellTest) drive() *refDrive {
	delay := c.delay
	if delay == 0 {
		delay = 1
	}
	d := &refDrive{dt: c.dt, wE: c.wE, wI: c.wI, curT: c.curT, curA: c.curA}
	for _, t := range c.exc {
		d.exc = append(d.exc, t+delay)
	}
	for _, t := range c.inh {
		d.inh = append(d.inh, t+delay)
	}
	sort.Float64s(d.exc)
	sort.Float64s(d.inh)
	return d
}

// current returns the step current's value at t_n.
func (d *refDrive) current(n int) float64 {
	t := float64(n) * d.dt
	I := 0.0
	for k, tk := range d.curT {
		if tk <= t+d.dt/2 {
			I = d.curA[k]
		}
	}
	return I
}

// felt returns the arrivals felt during step n (those at t_n or earlier),
// or, with end set, at the end of step n (t_(n+1) or earlier).
func felt(arr []float64, n int, dt float64, end bool) []float64 {
	lim := float64(n) * dt
	if end {
		lim += dt
	}
	k := sort.Search(len(arr), func(i int) bool { return arr[i] > lim+dt/2 })
	return arr[:k]
}

// kernelCut is the age, in time constants, beyond which a kernel's
// contribution (below e^-60 of its peak) is left out.
const kernelCut = 60

// expSum is sum over arrivals a of w e^(-(t-a)/tau).
func expSum(arr []float64, w, tau, t float64) float64 {
	s := 0.0
	for _, a := range arr {
		if x := (t - a) / tau; x < kernelCut {
			s += w * math.Exp(-x)
		}
	}
	return s
}

// alphaSum is sum over arrivals a of w ((t-a)/tau) e^(1-(t-a)/tau): a kernel
// that peaks at w, tau after the arrival.
func alphaSum(arr []float64, w, tau, t float64) float64 {
	s := 0.0
	for _, a := range arr {
		if x := (t - a) / tau; x < kernelCut {
			s += w * x * math.Exp(1-x)
		}
	}
	return s
}

// kernelSum is a sum of exponential or alpha kernels over arrivals up to
// t0, rewritten for times t >= t0 as e^(-(t-t0)/tau) (a (t-t0)/tau + b): one
// exponential per evaluation however many arrivals there are.
type kernelSum struct{ t0, tau, a, b float64 }

func sumKernels(arr []float64, w, tau, t0 float64, alpha bool) kernelSum {
	k := kernelSum{t0: t0, tau: tau}
	for _, at := range arr {
		x := (t0 - at) / tau
		if x >= kernelCut {
			continue
		}
		if alpha {
			k.a += w * math.Exp(1-x)
			k.b += w * x * math.Exp(1-x)
		} else {
			k.b += w * math.Exp(-x)
		}
	}
	return k
}

func (k kernelSum) at(t float64) float64 {
	s := (t - k.t0) / k.tau
	return math.Exp(-s) * (k.a*s + k.b)
}

// rk4 advances y by one classical Runge-Kutta step of length h from t.
type rk4 struct{ k1, k2, k3, k4, yt []float64 }

func newRK4(n int) *rk4 {
	return &rk4{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
}

func (r *rk4) step(f func(t float64, y, dy []float64), t, h float64, y []float64) {
	f(t, y, r.k1)
	for j := range y {
		r.yt[j] = y[j] + h/2*r.k1[j]
	}
	f(t+h/2, r.yt, r.k2)
	for j := range y {
		r.yt[j] = y[j] + h/2*r.k2[j]
	}
	f(t+h/2, r.yt, r.k3)
	for j := range y {
		r.yt[j] = y[j] + h*r.k3[j]
	}
	f(t+h, r.yt, r.k4)
	for j := range y {
		y[j] += h / 6 * (r.k1[j] + 2*r.k2[j] + 2*r.k3[j] + r.k4[j])
	}
}

// crossStep advances y by one reference step of length h from t and reports
// whether component j reached thr in it. If it did, y is left at the
// crossing, whose time is located by linear interpolation (accurate to
// O(h^2)) and reached by a shorter step, and the rest of the step, h - hc, is
// returned for the caller to integrate after the reset.
func (r *rk4) crossStep(f func(t float64, y, dy []float64), t, h float64, y []float64, j int, thr float64) (bool, float64) {
	y0 := append([]float64(nil), y...)
	r.step(f, t, h, y)
	if y[j] < thr || y0[j] >= thr {
		return false, 0
	}
	hc := h * (thr - y0[j]) / (y[j] - y0[j])
	copy(y, y0)
	r.step(f, t, hc, y)
	return true, h - hc
}

// Reference steps per engine step: the linear models (LIF, GIF), whose
// kernels vary on time scales of 0.2 ms and more, are resolved to 1e-10 by
// 50; the non-linear ones get 100, and their spike crossings are located
// within the step (rk4.crossStep).
const (
	refSubLinear    = 50
	refSubNonlinear = 100
	// The Izhikevich upstroke amplifies any error; its reference is cheap.
	refSubIzhikevich = 400
)

// maxDiff returns the largest absolute difference of two traces and where it
// occurs; a length mismatch is reported as infinite.
func maxDiff(a, b []float64) (float64, int) {
	if len(a) != len(b) {
		return math.Inf(1), -1
	}
	d, at := 0.0, -1
	for k := range a {
		if x := math.Abs(a[k] - b[k]); x > d || math.IsNaN(x) {
			d, at = x, k
			if math.IsNaN(x) {
				return math.Inf(1), k
			}
		}
	}
	return d, at
}

func sameSpikes(a, b []float64, dt float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if math.Abs(a[k]-b[k]) > dt/2 {
			return false
		}
	}
	return true
}

// compare checks the engine's run against the reference: the same spikes
// (same steps) and every variable within tol[variable]. It returns the
// largest difference of v.
func compare(t *testing.T, name string, got, want cellRun, dt float64, tol map[string]float64) float64 {
	t.Helper()
	if !sameSpikes(got.spikes, want.spikes, dt) {
		t.Errorf("%s: spikes %v, reference %v", name, got.spikes, want.spikes)
	}
	dv := 0.0
	for v, tl := range tol {
		g, ok := got.trace[v]
		if !ok {
			t.Errorf("%s: %s not recorded", name, v)
			continue
		}
		d, at := maxDiff(g, want.trace[v])
		if v == "v" {
			dv = d
		}
		if d > tl {
			if at >= 0 && at < len(g) {
				t.Errorf("%s: %s differs from the reference by %.3g at t=%g (%g vs %g), tolerance %g", name, v, d, float64(at)*dt, g[at], want.trace[v][at], tl)
			} else {
				t.Errorf("%s: %s has %d samples, reference %d", name, v, len(g), len(want.trace[v]))
			}
		}
	}
	return dv
}

// ---- references ----

// refLIFCurr is IF_curr_exp, IF_curr_alpha and IF_curr_delta: V is held at
// v_reset for round(tau_refrac/dt) steps after a spike; delta inputs arriving
// during the hold are lost.
func refLIFCurr(c *cellTest) cellRun {
	d := c.drive()
	vRest, cm, tauM := c.param("v_rest", 0), c.param("cm", 0), c.param("tau_m", 0)
	vReset, vTh, iOff := c.param("v_reset", 0), c.param("v_thresh", 0), c.param("i_offset", 0)
	tauE, tauI := c.param("tau_syn_E", 1), c.param("tau_syn_I", 1)
	refSteps := int(math.Round(c.param("tau_refrac", 0) / c.dt))
	alpha := c.cell == "IF_curr_alpha"
	kernel := expSum
	if alpha {
		kernel = alphaSum
	}
	delta := c.cell == "IF_curr_delta"
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	v := []float64{c.initial("v")}
	record := func(n int) {
		out.trace["v"] = append(out.trace["v"], v[0])
		if !delta {
			t := float64(n) * c.dt
			out.trace["isyn_exc"] = append(out.trace["isyn_exc"], kernel(felt(d.exc, n, c.dt, false), d.wE, tauE, t))
			out.trace["isyn_inh"] = append(out.trace["isyn_inh"], kernel(felt(d.inh, n, c.dt, false), d.wI, tauI, t))
		}
	}
	record(0)
	r := newRK4(1)
	h := c.dt / refSubLinear
	refr := 0
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I0 := iOff + d.current(n)
		ae, ai := felt(d.exc, n, c.dt, false), felt(d.inh, n, c.dt, false)
		ke, ki := sumKernels(ae, d.wE, tauE, t0, alpha), sumKernels(ai, d.wI, tauI, t0, alpha)
		if refr > 0 {
			refr--
			c.refractoryViolation(&out, t0+c.dt)
		} else {
			f := func(t float64, y, dy []float64) {
				I := I0
				if !delta {
					I += ke.at(t) + ki.at(t)
				}
				dy[0] = (vRest-y[0])/tauM + I/cm
			}
			for k := 0; k < refSubLinear; k++ {
				r.step(f, t0+float64(k)*h, h, v)
			}
			if delta {
				for _, a := range d.exc {
					if math.Abs(a-(t0+c.dt)) < c.dt/2 {
						v[0] += d.wE
					}
				}
				for _, a := range d.inh {
					if math.Abs(a-(t0+c.dt)) < c.dt/2 {
						v[0] += d.wI
					}
				}
			}
		}
		if c.decide(&out, t0+c.dt, v[0], vTh) {
			out.spikes = append(out.spikes, t0+c.dt)
			v[0] = vReset
			refr = refSteps
		}
		record(n + 1)
	}
	return out
}

// refLIFCond is IF_cond_exp, IF_cond_alpha, IF_cond_exp_gsfa_grr and
// IF_facets_hardware1: V is held at v_reset for round(tau_refrac/dt) steps
// after a spike.
func refLIFCond(c *cellTest) cellRun {
	d := c.drive()
	var vRest, cm, tauM, tauRef, iOff, eE float64
	if c.cell == "IF_facets_hardware1" {
		vRest, cm, tauRef, iOff, eE = c.param("v_rest", 0), 0.2, 1, 0, 0
		tauM = cm / (c.param("g_leak", 0) / 1000)
	} else {
		vRest, cm, tauM, tauRef, iOff, eE = c.param("v_rest", 0), c.param("cm", 0), c.param("tau_m", 0), c.param("tau_refrac", 0), c.param("i_offset", 0), c.param("e_rev_E", 0)
	}
	vReset, vTh, eI := c.param("v_reset", 0), c.param("v_thresh", 0), c.param("e_rev_I", 0)
	tauE, tauI := c.param("tau_syn_E", 1), c.param("tau_syn_I", 1)
	adapt := c.cell == "IF_cond_exp_gsfa_grr"
	tauS, tauR, eS, eR, qS, qR := c.param("tau_sfa", 1), c.param("tau_rr", 1), c.param("e_rev_sfa", 0), c.param("e_rev_rr", 0), c.param("q_sfa", 0), c.param("q_rr", 0)
	refSteps := int(math.Round(tauRef / c.dt))
	alpha := c.cell == "IF_cond_alpha"
	kernel := expSum
	if alpha {
		kernel = alphaSum
	}
	gL := cm / tauM
	var gs0, gr0 float64
	if adapt {
		gs0, gr0 = c.initial("g_s"), c.initial("g_r")
	}
	var spikes []float64 // own spikes, for g_s and g_r
	adaptG := func(t float64, tau, q, g0 float64) float64 {
		return g0*math.Exp(-t/tau) + expSum(spikes, q, tau, t)
	}
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	v := []float64{c.initial("v")}
	record := func(n int) {
		t := float64(n) * c.dt
		out.trace["v"] = append(out.trace["v"], v[0])
		out.trace["gsyn_exc"] = append(out.trace["gsyn_exc"], kernel(felt(d.exc, n, c.dt, false), d.wE, tauE, t))
		out.trace["gsyn_inh"] = append(out.trace["gsyn_inh"], kernel(felt(d.inh, n, c.dt, false), d.wI, tauI, t))
		if adapt {
			out.trace["g_s"] = append(out.trace["g_s"], adaptG(t, tauS, qS, gs0))
			out.trace["g_r"] = append(out.trace["g_r"], adaptG(t, tauR, qR, gr0))
		}
	}
	record(0)
	r := newRK4(1)
	h := c.dt / refSubLinear
	refr := 0
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I0 := iOff + d.current(n)
		ae, ai := felt(d.exc, n, c.dt, false), felt(d.inh, n, c.dt, false)
		ke, ki := sumKernels(ae, d.wE, tauE, t0, alpha), sumKernels(ai, d.wI, tauI, t0, alpha)
		ks, kr := sumKernels(spikes, qS, tauS, t0, false), sumKernels(spikes, qR, tauR, t0, false)
		ks.b += gs0 * math.Exp(-t0/tauS)
		kr.b += gr0 * math.Exp(-t0/tauR)
		if refr > 0 {
			refr--
			v[0] = vReset
			c.refractoryViolation(&out, t0+c.dt)
		} else {
			f := func(t float64, y, dy []float64) {
				V := y[0]
				I := gL*(vRest-V) + ke.at(t)*(eE-V) + ki.at(t)*(eI-V) + I0
				if adapt {
					I += ks.at(t)/1000*(eS-V) + kr.at(t)/1000*(eR-V)
				}
				dy[0] = I / cm
			}
			for k := 0; k < refSubLinear; k++ {
				r.step(f, t0+float64(k)*h, h, v)
			}
		}
		if refr == 0 && c.decide(&out, t0+c.dt, v[0], vTh) {
			out.spikes = append(out.spikes, t0+c.dt)
			spikes = append(spikes, t0+c.dt)
			v[0] = vReset
			refr = refSteps
		}
		record(n + 1)
	}
	return out
}

// refAdEx is EIF_cond_exp_isfa_ista and EIF_cond_alpha_isfa_ista. The
// threshold is checked in every reference step; at a crossing V is reset
// and w grows by b, and V is held at v_reset for the rest of the step and
// round(tau_refrac/dt) further steps (not at all when that is 0).
func refAdEx(c *cellTest) cellRun {
	d := c.drive()
	cm, tauM, vRest, vReset, vTh, vSpike := c.param("cm", 0), c.param("tau_m", 0), c.param("v_rest", 0), c.param("v_reset", 0), c.param("v_thresh", 0), c.param("v_spike", 0)
	iOff, a, b, dT, tauW := c.param("i_offset", 0), c.param("a", 0)/1000, c.param("b", 0), c.param("delta_T", 0), c.param("tau_w", 0)
	eE, eI, tauE, tauI := c.param("e_rev_E", 0), c.param("e_rev_I", 0), c.param("tau_syn_E", 1), c.param("tau_syn_I", 1)
	refSteps := int(math.Round(c.param("tau_refrac", 0) / c.dt))
	alpha := c.cell == "EIF_cond_alpha_isfa_ista"
	kernel := expSum
	if alpha {
		kernel = alphaSum
	}
	gL := cm / tauM
	thr := vSpike
	if dT == 0 {
		thr = vTh
	}
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	y := []float64{c.initial("v"), c.initial("w")}
	record := func(n int) {
		t := float64(n) * c.dt
		out.trace["v"] = append(out.trace["v"], y[0])
		out.trace["w"] = append(out.trace["w"], y[1])
		out.trace["gsyn_exc"] = append(out.trace["gsyn_exc"], kernel(felt(d.exc, n, c.dt, false), d.wE, tauE, t))
		out.trace["gsyn_inh"] = append(out.trace["gsyn_inh"], kernel(felt(d.inh, n, c.dt, false), d.wI, tauI, t))
	}
	record(0)
	r := newRK4(2)
	h := c.dt / refSubNonlinear
	refr := 0
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I0 := iOff + d.current(n)
		ae, ai := felt(d.exc, n, c.dt, false), felt(d.inh, n, c.dt, false)
		clamp := refr > 0
		if clamp {
			refr--
			y[0] = vReset
		}
		ke, ki := sumKernels(ae, d.wE, tauE, t0, alpha), sumKernels(ai, d.wI, tauI, t0, alpha)
		f := func(t float64, y, dy []float64) {
			V := math.Min(y[0], thr)
			if clamp {
				V = vReset
			}
			ge, gi := ke.at(t), ki.at(t)
			dy[0] = 0
			if !clamp {
				I := -gL*(V-vRest) - ge*(V-eE) - gi*(V-eI) - y[1] + I0
				if dT > 0 {
					I += gL * dT * math.Exp((V-vTh)/dT)
				}
				dy[0] = I / cm
			}
			dy[1] = (a*(V-vRest) - y[1]) / tauW
		}
		for k := 0; k < refSubNonlinear; k++ {
			if clamp {
				r.step(f, t0+float64(k)*h, h, y)
				continue
			}
			if ok, rest := r.crossStep(f, t0+float64(k)*h, h, y, 0, thr); ok {
				y[0] = vReset
				y[1] += b
				out.spikes = append(out.spikes, t0+c.dt)
				if refSteps > 0 {
					clamp = true
					refr = refSteps
				}
				r.step(f, t0+float64(k+1)*h-rest, rest, y)
			}
		}
		record(n + 1)
	}
	return out
}

// refIzhikevich is Izhikevich: v reaching 30 mV in a reference step is a
// spike (v = c, u += d at the crossing); jumps are added at the end of the step, and a jump
// to 30 mV or more is a spike too.
func refIzhikevich(c *cellTest) cellRun {
	d := c.drive()
	a, b, cc, dd, iOff := c.param("a", 0), c.param("b", 0), c.param("c", 0), c.param("d", 0), c.param("i_offset", 0)
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	y := []float64{c.initial("v"), c.initial("u")}
	record := func() {
		out.trace["v"] = append(out.trace["v"], y[0])
		out.trace["u"] = append(out.trace["u"], y[1])
	}
	record()
	r := newRK4(2)
	h := c.dt / refSubIzhikevich
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I := iOff + d.current(n)
		f := func(t float64, y, dy []float64) {
			dy[0] = 0.04*y[0]*y[0] + 5*y[0] + 140 - y[1] + 1000*I
			dy[1] = a * (b*y[0] - y[1])
		}
		for k := 0; k < refSubIzhikevich; k++ {
			if ok, rest := r.crossStep(f, t0+float64(k)*h, h, y, 0, 30); ok {
				out.spikes = append(out.spikes, t0+c.dt)
				y[0], y[1] = cc, y[1]+dd
				r.step(f, t0+float64(k+1)*h-rest, rest, y)
			}
		}
		for _, t := range d.exc {
			if math.Abs(t-(t0+c.dt)) < c.dt/2 {
				y[0] += d.wE
			}
		}
		for _, t := range d.inh {
			if math.Abs(t-(t0+c.dt)) < c.dt/2 {
				y[0] += d.wI
			}
		}
		if y[0] >= 30 {
			out.spikes = append(out.spikes, t0+c.dt)
			y[0], y[1] = cc, y[1]+dd
		}
		record()
	}
	return out
}

// refHH is HH_cond_exp: a spike is reported at the end of a step in which V
// ends at or above v_offset+30 mV and below where it started, unless one was
// reported in the 2 ms before.
func refHH(c *cellTest) cellRun {
	d := c.drive()
	gNa, gK, gL, cm, vT := c.param("gbar_Na", 0), c.param("gbar_K", 0), c.param("g_leak", 0), c.param("cm", 0), c.param("v_offset", 0)
	eNa, eK, eL, eE, eI := c.param("e_rev_Na", 0), c.param("e_rev_K", 0), c.param("e_rev_leak", 0), c.param("e_rev_E", 0), c.param("e_rev_I", 0)
	tauE, tauI, iOff := c.param("tau_syn_E", 1), c.param("tau_syn_I", 1), c.param("i_offset", 0)
	// The Traub-Miles rates as published, in 1/ms; u = V - v_offset. The
	// removable singularities are never hit exactly by the reference.
	rates := func(u float64) (am, bm, ah, bh, an, bn float64) {
		am = 0.32 * (13 - u) / (math.Exp((13-u)/4) - 1)
		bm = 0.28 * (u - 40) / (math.Exp((u-40)/5) - 1)
		ah = 0.128 * math.Exp((17-u)/18)
		bh = 4 / (1 + math.Exp((40-u)/5))
		an = 0.032 * (15 - u) / (math.Exp((15-u)/5) - 1)
		bn = 0.5 * math.Exp((10-u)/40)
		return
	}
	dead := int(math.Round(2 / c.dt))
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	y := []float64{c.initial("v"), c.initial("m"), c.initial("h"), c.initial("n")}
	record := func(n int) {
		t := float64(n) * c.dt
		out.trace["v"] = append(out.trace["v"], y[0])
		out.trace["m"] = append(out.trace["m"], y[1])
		out.trace["h"] = append(out.trace["h"], y[2])
		out.trace["n"] = append(out.trace["n"], y[3])
		out.trace["gsyn_exc"] = append(out.trace["gsyn_exc"], expSum(felt(d.exc, n, c.dt, false), d.wE, tauE, t))
		out.trace["gsyn_inh"] = append(out.trace["gsyn_inh"], expSum(felt(d.inh, n, c.dt, false), d.wI, tauI, t))
	}
	record(0)
	r := newRK4(4)
	h := c.dt / refSubNonlinear
	refr := 0
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I0 := iOff + d.current(n)
		ae, ai := felt(d.exc, n, c.dt, false), felt(d.inh, n, c.dt, false)
		ke, ki := sumKernels(ae, d.wE, tauE, t0, false), sumKernels(ai, d.wI, tauI, t0, false)
		f := func(t float64, y, dy []float64) {
			V, m, hh, nn := y[0], y[1], y[2], y[3]
			ge, gi := ke.at(t), ki.at(t)
			I := -gNa*m*m*m*hh*(V-eNa) - gK*nn*nn*nn*nn*(V-eK) - gL*(V-eL) - ge*(V-eE) - gi*(V-eI) + I0
			dy[0] = I / cm
			am, bm, ah, bh, an, bn := rates(V - vT)
			dy[1] = am*(1-m) - bm*m
			dy[2] = ah*(1-hh) - bh*hh
			dy[3] = an*(1-nn) - bn*nn
		}
		vOld := y[0]
		for k := 0; k < refSubNonlinear; k++ {
			r.step(f, t0+float64(k)*h, h, y)
		}
		if refr > 0 {
			refr--
		} else if y[0] >= vT+30 && y[0] < vOld {
			out.spikes = append(out.spikes, t0+c.dt)
			refr = dead
		}
		record(n + 1)
	}
	return out
}

// refGIF is GIF_cond_exp in its deterministic limit: with a tiny delta_v
// the firing probability is 0 below v_t and 1 above, so a spike is reported
// at the end of a step (not refractory) in which V ends at or above v_t.
func refGIF(c *cellTest) cellRun {
	d := c.drive()
	vRest, cm, tauM, vReset, iOff := c.param("v_rest", 0), c.param("cm", 0), c.param("tau_m", 0), c.param("v_reset", 0), c.param("i_offset", 0)
	eE, eI, tauE, tauI, vTStar := c.param("e_rev_E", 0), c.param("e_rev_I", 0), c.param("tau_syn_E", 1), c.param("tau_syn_I", 1), c.param("v_t_star", 0)
	refSteps := int(math.Round(c.param("tau_refrac", 0) / c.dt))
	tauEta, aEta, tauGam, aGam := c.seq("tau_eta"), c.seq("a_eta"), c.seq("tau_gamma"), c.seq("a_gamma")
	var spikes []float64
	kernels := func(taus, amps []float64, t float64) float64 {
		s := 0.0
		for k := range taus {
			s += expSum(spikes, amps[k], taus[k], t)
		}
		return s
	}
	gL := cm / tauM
	N := c.steps()
	out := cellRun{trace: map[string][]float64{}}
	v := []float64{c.initial("v")}
	record := func(n int) {
		t := float64(n) * c.dt
		out.trace["v"] = append(out.trace["v"], v[0])
		out.trace["i_eta"] = append(out.trace["i_eta"], kernels(tauEta, aEta, t))
		out.trace["v_t"] = append(out.trace["v_t"], vTStar+kernels(tauGam, aGam, t))
		out.trace["gsyn_exc"] = append(out.trace["gsyn_exc"], expSum(felt(d.exc, n, c.dt, false), d.wE, tauE, t))
		out.trace["gsyn_inh"] = append(out.trace["gsyn_inh"], expSum(felt(d.inh, n, c.dt, false), d.wI, tauI, t))
	}
	record(0)
	r := newRK4(1)
	h := c.dt / refSubLinear
	refr := 0
	for n := 0; n < N; n++ {
		t0 := float64(n) * c.dt
		I0 := iOff + d.current(n)
		ae, ai := felt(d.exc, n, c.dt, false), felt(d.inh, n, c.dt, false)
		if refr > 0 {
			refr--
			v[0] = vReset
			c.refractoryViolation(&out, t0+c.dt)
		} else {
			ke, ki := sumKernels(ae, d.wE, tauE, t0, false), sumKernels(ai, d.wI, tauI, t0, false)
			eta := make([]kernelSum, len(tauEta))
			for k := range eta {
				eta[k] = sumKernels(spikes, aEta[k], tauEta[k], t0, false)
			}
			f := func(t float64, y, dy []float64) {
				V := y[0]
				I := gL*(vRest-V) + ke.at(t)*(eE-V) + ki.at(t)*(eI-V) + I0
				for _, k := range eta {
					I -= k.at(t)
				}
				dy[0] = I / cm
			}
			for k := 0; k < refSubLinear; k++ {
				r.step(f, t0+float64(k)*h, h, v)
			}
			vt := vTStar + kernels(tauGam, aGam, t0+c.dt)
			if c.decide(&out, t0+c.dt, v[0], vt) {
				out.spikes = append(out.spikes, t0+c.dt)
				spikes = append(spikes, t0+c.dt)
				v[0] = vReset
				refr = refSteps
			}
		}
		record(n + 1)
	}
	return out
}
