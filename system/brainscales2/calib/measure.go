package calib

import (
	"math"
	"sort"
)

// fitTau estimates the time constant of an exponential approach to an
// unknown level in trace[from:] (samples dtUs apart): samples are averaged
// in bins of about 0.1 µs, and each bin is regressed on the bin lag bins
// earlier, y[i+lag] = a + q y[i], so that q = exp(-lag T/tau) whatever the
// level. hint (µs) sets the lag. Without a usable decay it returns +Inf
// (flat) or a tenth of the lag (decayed within one lag).
func fitTau(trace []float64, from int, dtUs, hint float64) float64 {
	y := trace[from:]
	b := max(1, int(math.Round(0.1/dtUs)))
	nb := len(y) / b
	if nb < 4 {
		return math.NaN()
	}
	bins := make([]float64, nb)
	for i := range bins {
		s := 0.0
		for _, x := range y[i*b : (i+1)*b] {
			s += x
		}
		bins[i] = s / float64(b)
	}
	binT := float64(b) * dtUs
	lag := int(math.Round(hint / binT))
	lag = max(1, min(lag, nb/3))
	var sx, sy, sxx, sxy float64
	n := float64(nb - lag)
	for i := 0; i+lag < nb; i++ {
		x, z := bins[i], bins[i+lag]
		sx += x
		sy += z
		sxx += x * x
		sxy += x * z
	}
	vx := sxx/n - (sx/n)*(sx/n)
	if vx <= 1e-9 {
		return math.Inf(1)
	}
	q := (sxy/n - (sx/n)*(sy/n)) / vx
	lt := float64(lag) * binT
	switch {
	case q >= 1:
		return math.Inf(1)
	case q <= 0.01:
		return lt / 10
	}
	return -lt / math.Log(q)
}

// perNeuron reduces sample-major CADC reads (samples x 512) per neuron.
func perNeuron(reads []float64, samples int, from, to int, f func(xs []float64) float64) []float64 {
	out := make([]float64, NumNeurons)
	xs := make([]float64, 0, samples)
	for n := 0; n < NumNeurons; n++ {
		xs = xs[:0]
		for s := from; s < to; s++ {
			xs = append(xs, reads[s*NumNeurons+n])
		}
		out[n] = f(xs)
	}
	return out
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// trimmedStd is the standard deviation of xs without the lowest and
// highest 5 % (calix's acceptance tests' measure of spread).
func trimmedStd(xs []float64) float64 {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s = append(s, x)
		}
	}
	sort.Float64s(s)
	k := len(s) / 20
	s = s[k : len(s)-k]
	if len(s) < 2 {
		return math.NaN()
	}
	return stddev(s)
}

func filled(x float64) []float64 {
	xs := make([]float64, NumNeurons)
	for i := range xs {
		xs[i] = x
	}
	return xs
}
