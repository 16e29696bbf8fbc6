package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// dynRing runs s one step at a time and returns, per arrival stamp, what
// arrived at each neuron on projection 0's channel.
func dynRing(t testing.TB, s *Simulator, steps int) [][]float64 {
	t.Helper()
	ch := s.projs[0].channel
	out := make([][]float64, int(s.step)+steps+1)
	for m := 0; m < steps; m++ {
		a := s.step + 1
		slot := int(a%s.slots) * s.n
		out[a] = append([]float64(nil), s.ring[ch][slot:slot+s.n]...)
		if err := s.Run(t.Context(), s.dt, nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// regular returns n spike times from first on, every T ms.
func regular(n int, first, T float64) []float64 {
	var ts []float64
	for k := 0; k < n; k++ {
		ts = append(ts, first+T*float64(k))
	}
	return ts
}

// releaseCounts runs one presynaptic train through m synapses (weight 1,
// delay 1 ms) and returns, per spike of the train, the arrivals at each
// synapse's target: it runs to the step before each arrival and reads the
// ring there.
func releaseCounts(t *testing.T, s *Simulator, train []float64, m int) [][]float64 {
	t.Helper()
	ch := s.projs[0].channel
	off := s.pops[1].Offset
	start := s.step
	out := make([][]float64, len(train))
	for k, ts := range train {
		a := start + int64(math.Round((ts+1)/0.1))
		if err := s.Run(t.Context(), float64(a-1-s.step)*s.dt, nil); err != nil {
			t.Fatal(err)
		}
		slot := int(a%s.slots) * s.n
		out[k] = append([]float64(nil), s.ring[ch][slot+off:slot+off+m]...)
	}
	return out
}

// checkRate holds the mean of xs against want, for independent values of
// variance v each, at 5 standard deviations.
func checkRate(t *testing.T, what string, xs []float64, want, v float64) {
	t.Helper()
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	tol := 5 * math.Sqrt(v/float64(len(xs)))
	if math.Abs(mean-want) > tol {
		t.Errorf("%s: mean %.5f, want %.5f ± %.5f (5 sd)", what, mean, want, tol)
	}
}

func TestSimpleStochasticSynapseStatistics(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const m, p, spikes = 3000, 0.3, 30
	train := regular(spikes, 2, 1)
	s := dynNew(t, dynNet(seed, [][]float64{train}, m, dynSyn("SimpleStochasticSynapse", map[string]float64{"weight": 1, "delay": 1, "p": p})), 2)
	counts := releaseCounts(t, s, train, m)
	var all []float64
	perSyn := make([]float64, m)
	for _, row := range counts {
		all = append(all, row...)
		for i, x := range row {
			if x != 0 && x != 1 {
				t.Fatalf("arrival %g: a spike is transmitted whole or not at all", x)
			}
			perSyn[i] += x
		}
	}
	checkRate(t, "transmission probability", all, p, p*(1-p))
	// Synapses are independent: the number of transmissions per synapse
	// is binomial(spikes, p); its variance over synapses must match.
	mean, varc := 0.0, 0.0
	for _, x := range perSyn {
		mean += x / m
	}
	for _, x := range perSyn {
		varc += (x - mean) * (x - mean) / (m - 1)
	}
	want := spikes * p * (1 - p)
	// The sample variance has a relative sd of about sqrt(2/m) (plus kurtosis).
	if math.Abs(varc-want) > 5*want*math.Sqrt(3.0/m) {
		t.Errorf("variance of transmissions per synapse %.4f, want %.4f", varc, want)
	}
	for _, pp := range []float64{0, 1} {
		if err := s.SetSynapseValues(0, "p", ptrValue(network.Scalar(pp))); err != nil {
			t.Fatal(err)
		}
		s.Reset()
		for _, row := range releaseCounts(t, s, train, m) {
			for _, x := range row {
				if x != pp {
					t.Fatalf("p = %g: arrival %g", pp, x)
				}
			}
		}
	}
}

// availability returns, for a release site that starts available and
// recovers between spikes T apart with probability rho, the probability
// that it is available at each spike, given the release probabilities u.
func availability(u []float64, rho float64) []float64 {
	a := make([]float64, len(u))
	a[0] = 1
	for n := 1; n < len(u); n++ {
		full := a[n-1] * (1 - u[n-1])
		a[n] = full + (1-full)*rho
	}
	return a
}

// facilitated returns u at each spike of a regular train: U at the first,
// then u_(n+1) = U + u_n (1-U) e^(-T/tau_facil).
func facilitated(n int, U, T, tauFac float64) []float64 {
	u := make([]float64, n)
	u[0] = U
	ef := 0.0
	if tauFac > 0 {
		ef = math.Exp(-T / tauFac)
	}
	for k := 1; k < n; k++ {
		u[k] = U + u[k-1]*(1-U)*ef
	}
	return u
}

// TestStochasticTsodyksMarkramStatistics: the release probability at each
// spike of a regular train equals u_n times the probability that the
// single site is available, which follows a two-state Markov chain.
func TestStochasticTsodyksMarkramStatistics(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const m, T = 4000, 5.0
	train := regular(8, 2, T)
	for _, tc := range []struct{ U, tauRec, tauFac float64 }{{0.5, 13, 0}, {0.2, 10, 33}} {
		s := dynNew(t, dynNet(seed, [][]float64{train}, m, dynSyn("StochasticTsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1, "U": tc.U, "tau_rec": tc.tauRec, "tau_facil": tc.tauFac})), 3)
		counts := releaseCounts(t, s, train, m)
		u := facilitated(len(train), tc.U, T, tc.tauFac)
		a := availability(u, 1-math.Exp(-T/tc.tauRec))
		for k, row := range counts {
			p := a[k] * u[k]
			checkRate(t, "release probability", row, p, p*(1-p))
		}
	}
}

// TestMultiQuantalSynapseStatistics: each of the n sites behaves as the
// single site above, independently, so the number released at spike k is
// binomial(n, a_k u_k); the transmitted weight is weight times that number.
func TestMultiQuantalSynapseStatistics(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const m, T, n, w = 3000, 4.0, 5, 0.5
	train := regular(8, 2, T)
	for _, tc := range []struct{ U, tauRec, tauFac float64 }{{0.4, 20, 0}, {0.15, 17, 27}} {
		s := dynNew(t, dynNet(seed, [][]float64{train}, m, dynSyn("MultiQuantalSynapse", map[string]float64{"weight": w, "delay": 1, "U": tc.U, "n": n, "tau_rec": tc.tauRec, "tau_facil": tc.tauFac})), 2)
		counts := releaseCounts(t, s, train, m)
		u := facilitated(len(train), tc.U, T, tc.tauFac)
		a := availability(u, 1-math.Exp(-T/tc.tauRec))
		for k, row := range counts {
			released := make([]float64, len(row))
			for i, x := range row {
				released[i] = x / w
				if released[i] != math.Round(released[i]) || released[i] < 0 || released[i] > n {
					t.Fatalf("spike %d: arrival %g is not a whole number of quanta of %g", k, x, w)
				}
			}
			p := a[k] * u[k]
			checkRate(t, "sites released", released, n*p, n*p*(1-p))
		}
	}
}

// TestStochasticDraws: the same seed gives the same releases, another seed
// others; a reset does not replay the previous trial's releases, and
// releases do not depend on the thread count.
func TestStochasticDraws(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	train := regular(5, 2, 3)
	for typ, params := range map[string]map[string]float64{
		"SimpleStochasticSynapse":         {"weight": 1, "delay": 1},
		"StochasticTsodyksMarkramSynapse": {"weight": 1, "delay": 1, "tau_rec": 20},
		"MultiQuantalSynapse":             {"weight": 1, "delay": 1, "n": 3, "tau_rec": 20},
	} {
		net := func(seed uint64) *network.Description {
			return dynNet(seed, [][]float64{train, regular(4, 3, 2.9)}, 300, dynSyn(typ, params))
		}
		run := func(seed uint64, threads int) ([][]float64, [][]float64) {
			s := dynNew(t, net(seed), threads)
			first := releaseCounts(t, s, train, 300)
			s.Reset()
			return first, releaseCounts(t, s, train, 300)
		}
		a1, b1 := run(seed, 1)
		for threads := 2; threads <= 3; threads++ {
			a, b := run(seed, threads)
			if !equalRows(a, a1) || !equalRows(b, b1) {
				t.Errorf("%s: releases differ between 1 and %d threads", typ, threads)
			}
		}
		if equalRows(a1, b1) {
			t.Errorf("%s: the trial after a reset repeats the first one", typ)
		}
		if a2, _ := run(seed+1, 1); equalRows(a1, a2) {
			t.Errorf("%s: seeds %d and %d give the same releases", typ, seed, seed+1)
		}
	}
}

func equalRows(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// TestMultiQuantalInitialState: the initial state under NEST's names (PyNN's
// multiquantal_synapses example initializes a and u): with no site available
// the first spike releases nothing; with a = n and u = 1 it releases every
// site; given neither, u starts at U and a at n.
func TestMultiQuantalInitialState(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const m, n, w = 200, 4, 0.5
	train := []float64{2}
	first := func(extra map[string]float64) []float64 {
		params := map[string]float64{"weight": w, "delay": 1, "U": 0.3, "n": n, "tau_rec": 50}
		for k, v := range extra {
			params[k] = v
		}
		s := dynNew(t, dynNet(seed, [][]float64{train}, m, dynSyn("MultiQuantalSynapse", params)), 2)
		return releaseCounts(t, s, train, m)[0]
	}
	sum := func(xs []float64) (s float64) {
		for _, x := range xs {
			s += x
		}
		return s
	}
	if got := sum(first(map[string]float64{"a": 0})); got != 0 {
		t.Fatalf("a = 0: %g transmitted at the first spike, want 0", got)
	}
	if got := sum(first(map[string]float64{"a": n, "u": 1})); got != m*n*w {
		t.Fatalf("a = n, u = 1: %g transmitted, want every site of every synapse (%g)", got, float64(m*n*w))
	}
	got := sum(first(nil)) / (m * w)
	checkRate(t, "sites released with the defaults (u = U, a = n)", []float64{got}, n*0.3, n*0.3*0.7/m)
}

// TestStochasticTsodyksMarkramInitialState: the initial state under the
// names of PyNN's stochastic_stp_synapse for NEST. R = 0 (depleted at t = 0)
// lowers the first release probability to u (1 - e^(-t/tau_rec)); R drawn as
// binomial(1, 1/2) halves it when recovery is slow; an initial u decays with
// tau_facil before the first spike's facilitation. The whole train follows
// the two-state chain from that start. u and R read back, and a reset
// restores them.
func TestStochasticTsodyksMarkramInitialState(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const m, T = 4000, 5.0
	train := regular(6, 2, T)
	for _, tc := range []struct {
		name              string
		U, tauRec, tauFac float64
		u0                float64
		R                 network.Value
		a0                float64 // probability that the site is available at t = 0
	}{
		{"recovered", 0.6, 10, 0, 0, network.Scalar(1), 1},
		{"depleted", 0.6, 10, 0, 0, network.Scalar(0), 0},
		{"half depleted, slow recovery", 0.6, 1e6, 0, 0, network.Random("binomial", map[string]float64{"n": 1, "p": 0.5}), 0.5},
		{"initial u", 0.1, 20, 30, 0.8, network.Scalar(1), 1},
	} {
		syn := dynSyn("StochasticTsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1, "U": tc.U, "tau_rec": tc.tauRec, "tau_facil": tc.tauFac, "u": tc.u0})
		syn.Parameters["R"] = tc.R
		s := dynNew(t, dynNet(seed, [][]float64{train}, m, syn), 2)
		R, err := s.SynapseValues(0, "R")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := s.SynapseValues(0, "u")
		if tc.u0 != u[0] || len(R) != m {
			t.Fatalf("%s: u reads %g, want %g; %d values of R", tc.name, u[0], tc.u0, len(R))
		}
		checkRate(t, tc.name+": R at t = 0", R, tc.a0, tc.a0*(1-tc.a0))
		counts := releaseCounts(t, s, train, m)
		// u at each spike, then the chain of availability from a0.
		us := make([]float64, len(train))
		prev, last := tc.u0, 0.0
		for k, ts := range train {
			v := tc.U
			if tc.tauFac > 0 {
				v = prev * math.Exp(-(ts-last)/tc.tauFac)
				v += tc.U * (1 - v)
			}
			us[k], prev, last = v, v, ts
		}
		avail := tc.a0 + (1-tc.a0)*(1-math.Exp(-train[0]/tc.tauRec))
		rho := 1 - math.Exp(-T/tc.tauRec)
		for k, row := range counts {
			p := avail * us[k]
			checkRate(t, fmt.Sprintf("%s: release probability at spike %d", tc.name, k), row, p, p*(1-p))
			full := avail * (1 - us[k])
			avail = full + (1-full)*rho
		}
		s.Reset()
		R2, _ := s.SynapseValues(0, "R")
		u2, _ := s.SynapseValues(0, "u")
		if !equalRows([][]float64{R}, [][]float64{R2}) || u2[0] != tc.u0 {
			t.Errorf("%s: a reset does not restore the initial state", tc.name)
		}
	}
}

// TestStochasticTsodyksMarkramSetState: u and R set between runs are the
// present state: R = 0 set now depletes every site from now on, and R = 1
// makes them all available.
func TestStochasticTsodyksMarkramSetState(t *testing.T) {
	const m = 500
	train := []float64{20}
	syn := dynSyn("StochasticTsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1, "U": 1, "tau_rec": 1e6})
	s := dynNew(t, dynNet(*seedFlag, [][]float64{train}, m, syn), 1)
	if err := s.Run(t.Context(), 10, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSynapseValues(0, "R", ptrValue(network.Scalar(0))); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSynapseValues(0, "R", ptrValue(network.Scalar(0.5))); err == nil {
		t.Fatal("R = 0.5 accepted")
	}
	// Depleted at t = 10 ms with tau_rec 1e6 ms: essentially none recovers by 20 ms.
	got := 0.0
	for _, x := range releaseCounts(t, s, train, m)[0] {
		got += x
	}
	if got > 1 {
		t.Fatalf("R = 0: %g of %d synapses released", got, m)
	}
	s.Reset()
	if err := s.SetSynapseValues(0, "R", ptrValue(network.Scalar(1))); err != nil {
		t.Fatal(err)
	}
	got = 0
	for _, x := range releaseCounts(t, s, train, m)[0] {
		got += x
	}
	if got != m {
		t.Fatalf("R = 1, U = 1: %g of %d synapses released", got, m)
	}
}
