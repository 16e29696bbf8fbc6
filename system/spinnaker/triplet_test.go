package spinnaker

import (
	"math"
	"sort"
	"testing"
)

// tripletFloat is the triplet rule of Pfister & Gerstner (2006), all-to-all
// interactions, in double precision and continuous time, written from the
// paper's equations: presynaptic traces r1 (τ+) and r2 (τx), postsynaptic
// o1 (τ−) and o2 (τy), each jumping by one at its neuron's spikes; at a
// postsynaptic spike w += r1·(A2+ + A3+·o2), at a presynaptic one
// w −= o1·(A2− + A3−·r2), the second traces taken just before the spike's
// own jump; w clamped to [w_min, w_max]. Times are at the synapse.
// coarse decays r2 and o2 over the time since their last jump rounded
// down to a multiple of 4 ms, as sPyNNaker's x and y tables (an entry
// every 4 ticks) do at a 1 ms step.
func tripletFloat(pre, post []float64, tauP, tauM, tauX, tauY, a2p, a2m, a3p, a3m, w, wmin, wmax float64, coarse bool) float64 {
	type ev struct {
		t   float64
		pre bool
	}
	var evs []ev
	for _, t := range pre {
		evs = append(evs, ev{t, true})
	}
	for _, t := range post {
		evs = append(evs, ev{t, false})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].t < evs[j].t })
	// each trace decays from its neuron's last spike
	var r1, r2, o1, o2, lastPre, lastPost float64
	decay := func(x, dt, tau float64, second bool) float64 {
		if second && coarse {
			dt = 4 * math.Floor(dt/4)
		}
		return x * math.Exp(-dt/tau)
	}
	for _, e := range evs {
		if e.pre {
			o1now, r2now := decay(o1, e.t-lastPost, tauM, false), decay(r2, e.t-lastPre, tauX, true)
			w = math.Max(w-o1now*(a2m+a3m*r2now), wmin)
			r1, r2, lastPre = decay(r1, e.t-lastPre, tauP, false)+1, r2now+1, e.t
		} else {
			r1now, o2now := decay(r1, e.t-lastPre, tauP, false), decay(o2, e.t-lastPost, tauY, true)
			w = math.Min(w+r1now*(a2p+a3p*o2now), wmax)
			o1, o2, lastPost = decay(o1, e.t-lastPost, tauM, false)+1, o2now+1, e.t
		}
	}
	return w
}

// pairingRun runs n pairings at rate rho (Hz), the postsynaptic spike
// delta ms after the presynaptic one at the synapse, through the
// fixed-point rule at a 1 ms step, and returns the weight change and the
// float rule's (with sPyNNaker's coarse second traces, and exact).
func pairingRun(t *testing.T, params map[string]float64, rho float64, delta, n int) (got, want, exact float64) {
	t.Helper()
	const d, w0 = 1, 0.5
	shift := uint32(0)
	c := &stdpCase{timing: "triplet", weight: "WeightDependenceAdditiveTriplet", dt: 1, nPre: 1, nPost: 1, pre: []int{0}, post: []int{0},
		delay: []int{d}, w: []float64{w0}, shift: shift, params: params}
	rule, _, _ := c.build(t, []int{0, 1})
	start := rule.Weights(0)[0]
	period := int(math.Round(1000 / rho))
	var pre, post []float64
	type spike struct {
		tick int
		pre  bool
	}
	var spikes []spike
	for k := 0; k < n; k++ {
		p := 1000 + k*period
		q := p + delta // at the synapse; emitted d earlier
		spikes = append(spikes, spike{p, true}, spike{q - d, false})
		pre, post = append(pre, float64(p)), append(post, float64(q))
	}
	sort.SliceStable(spikes, func(i, j int) bool { return spikes[i].tick < spikes[j].tick })
	for _, s := range spikes {
		if s.pre {
			rule.Pre(0, 0, int64(s.tick)+1)
		} else {
			rule.Post(0, 0, int64(s.tick)+1)
		}
	}
	// a last presynaptic spike long after, which applies the pending
	// potentiations (sPyNNaker updates a synapse when a presynaptic spike
	// arrives) and depresses by nothing: the tables have ended.
	rule.Pre(0, 0, int64(spikes[len(spikes)-1].tick+5000)+1)
	got = rule.Weights(0)[0] - start
	P := params
	for _, coarse := range []bool{true, false} {
		// the coarse reference takes the amplitudes as the core holds
		// them, s16.15 (A3_minus = 2.3e-4 becomes 8·2^-15, 6 % more)
		amp := func(a float64) float64 {
			if coarse {
				return math.Round(a*32768) / 32768
			}
			return a
		}
		x := tripletFloat(pre, post, P["tau_plus"], P["tau_minus"], P["tau_x"], P["tau_y"], amp(P["A_plus"]*P["w_max"]), amp(P["A_minus"]*P["w_max"]),
			amp(P["A3_plus"]*P["w_max"]), amp(P["A3_minus"]*P["w_max"]), start, P["w_min"], P["w_max"], coarse) - start
		if coarse {
			want = x
		} else {
			exact = x
		}
	}
	return got, want, exact
}

// TestTripletAgainstFloatAndFrequency: sPyNNaker's triplet rule in fixed
// point against the float rule, on the pairing protocol of Pfister &
// Gerstner (2006) (Sjöström et al.'s visual cortex data: 60 pairings,
// post 10 ms after or before pre, at 1 to 50 Hz) with their all-to-all
// visual-cortex parameters (a weight LSB of 2^-15 of w_max).
// The float rule is held twice: with the second traces' decay over whole
// 4 ms and the amplitudes in s16.15 (the fixed point must agree to its
// rounding), and exact (within a tenth, or 0.03 of w_max: what the
// coarse tables change). The triplet rule's change rises with the frequency, and at −10 ms turns
// from depression into potentiation; the pair rule (third-order
// amplitudes 0) does not rise.
func TestTripletAgainstFloatAndFrequency(t *testing.T) {
	params := func(a3 bool) map[string]float64 {
		p := map[string]float64{"tau_plus": 16.8, "tau_minus": 33.7, "tau_x": 101, "tau_y": 125,
			"A_plus": 5e-10, "A_minus": 7e-3, "A3_plus": 6.2e-3, "A3_minus": 2.3e-4, "w_min": 0, "w_max": 1}
		if !a3 {
			p["A3_plus"], p["A3_minus"], p["A_plus"] = 0, 0, 5e-3
		}
		return p
	}
	lsb := math.Ldexp(1, -15)
	rates := []float64{1, 5, 10, 20, 40, 50}
	curve := map[bool]map[int][]float64{true: {}, false: {}}
	for _, a3 := range []bool{true, false} {
		for _, delta := range []int{10, -10} {
			for _, rho := range rates {
				got, want, exact := pairingRun(t, params(a3), rho, delta, 60)
				// each presynaptic spike truncates the word once (< 1 LSB),
				// each potentiation and depression floors two accum
				// products (< 2 LSB each), and each table entry is floored
				// (< 1/2048 of the amplitude, for each of the 60 pairings'
				// terms)
				tol := 61*lsb + 60*4*lsb + 60*4*0.007/2048
				if math.Abs(got-want) > tol {
					t.Errorf("triplet %v Δ %+d ms at %g Hz: Δw %.5f, float %.5f (tolerance %.5f)", a3, delta, rho, got, want, tol)
				}
				// sPyNNaker's 4-tick x and y tables against the exact decay:
				// within a tenth of the change, or 0.03 where potentiation
				// and depression nearly cancel (Δ −10 ms at 40 Hz: 0.180
				// against 0.155)
				if math.Abs(got-exact) > math.Max(0.1*math.Abs(exact), 0.03)+tol {
					t.Errorf("triplet %v Δ %+d ms at %g Hz: Δw %.5f, exact float %.5f", a3, delta, rho, got, exact)
				}
				curve[a3][delta] = append(curve[a3][delta], got)
				t.Logf("triplet %v Δ %+d ms at %g Hz: Δw %.5f, float %.5f (exact decays %.5f)", a3, delta, rho, got, want, exact)
			}
		}
	}
	tp, tm := curve[true][10], curve[true][-10]
	if !(tp[len(tp)-1] > tp[0]+0.1 && tp[len(tp)-1] > tp[2]) {
		t.Errorf("triplet, +10 ms: the change does not rise with the frequency: %v", tp)
	}
	if !(tm[0] < 0 && tm[len(tm)-1] > 0) {
		t.Errorf("triplet, −10 ms: not depression at 1 Hz and potentiation at 50 Hz: %v", tm)
	}
	if pp := curve[false][10]; pp[len(pp)-1] > pp[0] {
		t.Errorf("pair rule, +10 ms: the change rises with the frequency: %v", pp)
	}
}
