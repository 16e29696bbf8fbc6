package engine

import (
	"context"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// Statistical tests of the stochastic models. Bounds are five standard
// deviations of the estimate; seeds are printed, and a failure names the seed
// that reproduces it.

// TestGIFEscapeRate pins GIF_cond_exp's V (v_rest = v_reset, no input, no
// eta or gamma) so that every step is an independent trial with the firing
// probability 1 - exp(-lambda dt), lambda = lambda0 exp((V - v_t_star)/delta_v),
// and counts the spikes.
func TestGIFEscapeRate(t *testing.T) {
	const (
		seed  = 99
		n, ms = 200, 2000.0
		dt    = 1.0
	)
	for k, tc := range []struct{ lam0, dv, gap float64 }{
		{100, 1, 0},      // 100 Hz
		{100, 0.5, -1},   // 100 e^-2 Hz
		{5, 2, 3},        // 5 e^1.5 Hz
		{1000, 0.25, -2}, // 1000 e^-8 Hz
	} {
		params := map[string]network.Value{
			"v_rest": network.Scalar(-60), "v_reset": network.Scalar(-60), "v_t_star": network.Scalar(-60 - tc.gap),
			"lambda0": network.Scalar(tc.lam0), "delta_v": network.Scalar(tc.dv), "tau_refrac": network.Scalar(0),
			"a_eta": network.Floats([]float64{0, 0, 0}), "a_gamma": network.Floats([]float64{0, 0, 0}),
		}
		seed := seed + uint64(k)
		d := &network.Description{Format: network.FormatName, Version: 1, Simulation: network.Simulation{Timestep: dt, Seed: seed},
			Populations: []network.Population{{Size: n, CellType: "GIF_cond_exp", Parameters: params, InitialValues: map[string]network.Value{"v": network.Scalar(-60)}}},
			Recordings:  []network.Recording{{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}}},
		}
		seg := runFor(t, d, 1, ms)
		lam := tc.lam0 / 1000 * math.Exp(tc.gap/tc.dv)
		p := -math.Expm1(-lam * dt)
		trials := float64(n) * ms / dt
		mean, sd := trials*p, math.Sqrt(trials*p*(1-p))
		got := float64(len(seg.Spikes[0].IDs))
		if math.Abs(got-mean) > 5*sd {
			t.Errorf("lambda0=%g Hz, V - v_t = %g mV, delta_v=%g: %g spikes, expected %.1f +- %.1f (seed %d)", tc.lam0, tc.gap, tc.dv, got, mean, sd, seed)
		}
		t.Logf("seed %d: lambda = %.3g Hz: %g spikes, expected %.1f +- %.1f", seed, lam*1000, got, mean, sd)
	}
}

// inhGammaRun runs n SpikeSourceInhGamma sources and returns their spike
// trains, by source.
func inhGammaRun(t *testing.T, n int, params map[string]network.Value, dt, ms float64, seed uint64) [][]float64 {
	t.Helper()
	d := &network.Description{Format: network.FormatName, Version: 1, Simulation: network.Simulation{Timestep: dt, Seed: seed},
		Populations: []network.Population{{Size: n, CellType: "SpikeSourceInhGamma", Parameters: params}},
		Recordings:  []network.Recording{{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}}},
	}
	seg := runFor(t, d, 1, ms)
	trains := make([][]float64, n)
	for k, id := range seg.Spikes[0].IDs {
		trains[id] = append(trains[id], seg.Spikes[0].Times[k])
	}
	return trains
}

// TestInhGammaStationary checks a constant shape and scale: the ISIs of a
// gamma renewal process have mean a*b and coefficient of variation
// 1/sqrt(a).
func TestInhGammaStationary(t *testing.T) {
	const seed = 4242
	t.Logf("seed %d", seed)
	for _, tc := range []struct{ a, b float64 }{{1, 0.02}, {3, 0.01}, {6.5, 0.002}} {
		trains := inhGammaRun(t, 100, map[string]network.Value{"a": network.Floats([]float64{tc.a}), "b": network.Floats([]float64{tc.b}), "tbins": network.Floats([]float64{0})}, 0.1, 5000, seed)
		var isi []float64
		for _, tr := range trains {
			for k := 1; k < len(tr); k++ {
				isi = append(isi, tr[k]-tr[k-1])
			}
		}
		m, sd := meanSD(isi)
		wantM, wantCV := tc.a*tc.b*1000, 1/math.Sqrt(tc.a)
		// The ISIs are on the 0.1 ms grid; at these means that adds no
		// measurable bias.
		seM := wantM * wantCV / math.Sqrt(float64(len(isi)))
		if math.Abs(m-wantM) > 5*seM {
			t.Errorf("a=%g b=%g s: mean ISI %.4g ms, expected %.4g +- %.2g (seed %d)", tc.a, tc.b, m, wantM, seM, seed)
		}
		cv := sd / m
		// The CV's standard error is below CV/sqrt(N) for these shapes.
		if seCV := wantCV / math.Sqrt(float64(len(isi))); math.Abs(cv-wantCV) > 5*seCV {
			t.Errorf("a=%g b=%g s: ISI CV %.4f, expected %.4f +- %.2g (seed %d)", tc.a, tc.b, cv, wantCV, seCV, seed)
		}
		t.Logf("a=%g b=%g s: %d ISIs, mean %.4g ms (%.4g), CV %.4f (%.4f)", tc.a, tc.b, len(isi), m, wantM, cv, wantCV)
	}
}

func meanSD(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}

// TestInhGammaBins checks that a and b follow tbins: the rate in each bin,
// away from the transition, is 1/(a b); nothing fires before tbins[0] or
// start, or after start+duration.
func TestInhGammaBins(t *testing.T) {
	const seed = 777
	t.Logf("seed %d", seed)
	params := map[string]network.Value{
		"a":     network.Floats([]float64{1, 4, 2}),
		"b":     network.Floats([]float64{0.01, 0.005, 0.05}),
		"tbins": network.Floats([]float64{200, 1200, 2200}),
		"start": network.Scalar(100), "duration": network.Scalar(3000),
	}
	const n = 100
	trains := inhGammaRun(t, n, params, 0.1, 3500, seed)
	count := func(lo, hi float64) float64 {
		c := 0
		for _, tr := range trains {
			for _, s := range tr {
				if s > lo && s <= hi {
					c++
				}
			}
		}
		return float64(c)
	}
	if c := count(0, 200); c != 0 {
		t.Errorf("%g spikes before the first bin", c)
	}
	if c := count(3100, 3500); c != 0 {
		t.Errorf("%g spikes after start+duration", c)
	}
	for _, w := range []struct{ lo, hi, rate float64 }{
		{200, 1200, 100}, // a=1, b=10 ms: Poisson at 100 Hz from the start of the bin
		{1400, 2200, 50}, // a=4, b=5 ms, 200 ms after the change
		{2400, 3100, 10}, // a=2, b=50 ms
	} {
		mean := w.rate * (w.hi - w.lo) / 1000 * n
		// A renewal process with CV <= 1 counts with a variance below the
		// Poisson one.
		if got := count(w.lo, w.hi); math.Abs(got-mean) > 5*math.Sqrt(mean) {
			t.Errorf("(%g, %g] ms: %g spikes, expected %.0f +- %.0f (seed %d)", w.lo, w.hi, got, mean, math.Sqrt(mean), seed)
		} else {
			t.Logf("(%g, %g] ms: %g spikes, expected %.0f", w.lo, w.hi, got, mean)
		}
	}
}

// TestGammaHazard holds the hazard against a direct numerical evaluation:
// the gamma density over its survival function, integrated with Simpson's
// rule.
func TestGammaHazard(t *testing.T) {
	pdf := func(a, beta, x float64) float64 {
		lg, _ := math.Lgamma(a)
		return math.Exp((a-1)*math.Log(x) - x/beta - a*math.Log(beta) - lg)
	}
	survival := func(a, beta, x float64) float64 {
		// The density decays as e^(-x/beta): integrate to where it is gone.
		hi := x + (a+60)*beta*3
		const m = 20000
		h := (hi - x) / m
		s := pdf(a, beta, x) + pdf(a, beta, hi)
		for k := 1; k < m; k++ {
			w := 2.0
			if k%2 == 1 {
				w = 4
			}
			s += w * pdf(a, beta, x+float64(k)*h)
		}
		return s * h / 3
	}
	for _, a := range []float64{1.5, 2, 3, 5.5, 10} {
		for _, z := range []float64{0.05, 0.5, 1, a, a + 1.5, 2*a + 5, 5*a + 20} {
			beta := 7.0
			x := z * beta
			want := pdf(a, beta, x) / survival(a, beta, x)
			got := gammaHazard(a, beta, x)
			if math.Abs(got-want) > 1e-7*want {
				t.Errorf("a=%g x/beta=%g: hazard %.12g, numerically %.12g", a, z, got, want)
			}
			if got > 1/beta*(1+1e-12) {
				t.Errorf("a=%g x/beta=%g: hazard %g exceeds the thinning bound 1/beta = %g", a, z, got, 1/beta)
			}
		}
	}
	if h := gammaHazard(1, 7, 3); h != 1.0/7 {
		t.Errorf("a=1: hazard %g, want the Poisson rate 1/7", h)
	}
	if h := gammaHazard(2, 7, 0); h != 0 {
		t.Errorf("a=2 at age 0: hazard %g, want 0", h)
	}
}

// TestModelErrors checks that parameter combinations a model cannot run
// are refused with an error naming the population and the parameters.
func TestModelErrors(t *testing.T) {
	for _, tc := range []struct {
		cell   string
		params map[string]network.Value
		want   []string
	}{
		{"Izhikevich", map[string]network.Value{"c": network.Scalar(30)}, []string{"c = 30", "cut-off"}},
		{"EIF_cond_exp_isfa_ista", map[string]network.Value{"v_reset": network.Scalar(-30)}, []string{"v_reset", "-30"}},
		{"EIF_cond_alpha_isfa_ista", map[string]network.Value{"v_spike": network.Scalar(-60)}, []string{"v_spike", "v_thresh"}},
		{"EIF_cond_exp_isfa_ista", map[string]network.Value{"v_spike": network.Scalar(100), "delta_T": network.Scalar(0.1)}, []string{"overflows", "delta_T"}},
		{"GIF_cond_exp", map[string]network.Value{"a_eta": network.Floats([]float64{1, 2})}, []string{"tau_eta", "a_eta"}},
		{"GIF_cond_exp", map[string]network.Value{"tau_gamma": network.Floats([]float64{5})}, []string{"tau_gamma", "a_gamma"}},
		{"SpikeSourceInhGamma", map[string]network.Value{"a": network.Floats([]float64{0.5})}, []string{"a[0] = 0.5", "below 1"}},
		{"SpikeSourceInhGamma", map[string]network.Value{"b": network.Floats([]float64{0})}, []string{"b[0]", "positive"}},
		{"SpikeSourceInhGamma", map[string]network.Value{"a": network.Floats([]float64{1, 2}), "b": network.Floats([]float64{1, 2})}, []string{"same length"}},
		{"SpikeSourceInhGamma", map[string]network.Value{"a": network.Floats([]float64{1, 2}), "b": network.Floats([]float64{1, 2}), "tbins": network.Floats([]float64{5, 1})}, []string{"tbins", "decrease"}},
	} {
		d := &network.Description{Format: network.FormatName, Version: 1, Simulation: network.Simulation{Timestep: 0.1, Seed: 1},
			Populations: []network.Population{{Label: "cells", Size: 3, CellType: tc.cell, Parameters: tc.params}}}
		_, err := New(d, Options{Threads: 1})
		if err == nil {
			t.Errorf("%s %v: no error", tc.cell, tc.params)
			continue
		}
		for _, w := range append(tc.want, `"cells"`) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.cell, err, w)
			}
		}
	}
}

// TestStepAllocs checks that no model allocates in its Step.
func TestStepAllocs(t *testing.T) {
	names := append([]string(nil), network.Standard.CellNames()...)
	sort.Strings(names)
	for _, name := range names {
		// Once with the fast paths and once with the plain loops.
		for _, plain := range []bool{false, true} {
			s, err := New(netDescription(name, 3), Options{Threads: 1, Plain: plain})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Run(context.Background(), 20, nil); err != nil {
				t.Fatal(err)
			}
			for _, p := range s.pops {
				in := &Input{Syn: make([][]float64, len(p.Type.Receptors)), I: make([]float64, p.Size)}
				for r := range in.Syn {
					in.Syn[r] = make([]float64, p.Size)
				}
				out := &Spikes{IDs: make([]int32, 0, 64*p.Size)}
				n := int64(200)
				allocs := testing.AllocsPerRun(20, func() {
					out.IDs = out.IDs[:0]
					for r := range in.Syn {
						in.Syn[r][0] = 0.001
					}
					p.model.Step(n, 0, p.Size, in, out)
					n++
				})
				if allocs != 0 {
					t.Errorf("%s: Step allocates %g times per call", p.Type.Name, allocs)
				}
			}
		}
	}
}
