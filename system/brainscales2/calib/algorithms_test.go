package calib

import (
	"math"
	"testing"
)

// linearChip is a synthetic set of instances: result = gain*param + offset.
func linearEval(gain, offset []float64, count *int) evaluate {
	return func(ps []float64) ([]float64, error) {
		*count++
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = gain[i]*p + offset[i]
		}
		return out, nil
	}
}

func TestBinarySearch(t *testing.T) {
	gain := []float64{0.2, 0.25, 0.18, -0.2}
	off := []float64{10, -20, 40, 250}
	target := []float64{100, 100, 100, 100}
	for _, alg := range []Algorithm{BinarySearch{}, NoisyBinarySearch{Seed: 3}} {
		for inv := range 2 {
			g, o := gain[:3], off[:3]
			tg := target[:3]
			if inv == 1 {
				g, o, tg = gain[3:], off[3:], target[3:]
			}
			n := 0
			p, ok, err := step(alg, Range{0, 1022}, inv == 1, tg, linearEval(g, o, &n))
			if err != nil {
				t.Fatal(err)
			}
			for i := range p {
				ideal := (tg[i] - o[i]) / g[i]
				if math.Abs(p[i]-ideal) > 1 || !ok[i] {
					t.Errorf("%T inverted=%v: instance %d found %g, ideal %g (ok %v)", alg, inv == 1, i, p[i], ideal, ok[i])
				}
			}
			if _, plainBS := alg.(BinarySearch); plainBS && n != 12 {
				t.Errorf("binary search over 0..1022 took %d measurements, calix takes 12", n)
			}
		}
	}
	// An unreachable target ends at the range limit: failed.
	n := 0
	_, ok, _ := step(BinarySearch{}, Range{0, 1022}, false, []float64{1e6}, linearEval([]float64{1}, []float64{0}, &n))
	if ok[0] {
		t.Error("an instance at the range limit counts as calibrated")
	}
}

func TestLinearSearchAndPrediction(t *testing.T) {
	n := 0
	p, _, err := step(LinearSearch{Initial: []float64{10, 30}}, Range{0, 100}, false, []float64{20.2, 19.6}, linearEval([]float64{1, 1}, []float64{0, 0}, &n))
	if err != nil {
		t.Fatal(err)
	}
	if p[0] != 20 || p[1] != 20 {
		t.Errorf("linear search found %v, want [20 20]", p)
	}
	n = 0
	p, ok, err := step(LinearPrediction{Probe: []float64{0, 0}, Slope: 1}, Range{-128, 127}, false, []float64{50, 50}, linearEval([]float64{1, 1}, []float64{43, 200}, &n))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || p[0] != 7 || p[1] != -128 || ok[1] || !ok[0] {
		t.Errorf("prediction: %d measurements, %v %v", n, p, ok)
	}
}

func TestFitTau(t *testing.T) {
	for _, tau := range []float64{0.5, 3, 10, 40} {
		tr := make([]float64, int(5*tau/madcPeriodUs))
		for k := range tr {
			tr[k] = 300 + 100*math.Exp(-float64(k)*madcPeriodUs/tau)
		}
		got := fitTau(tr, 0, madcPeriodUs, tau)
		if math.Abs(got/tau-1) > 0.02 {
			t.Errorf("fit of tau %g gave %g", tau, got)
		}
	}
}
