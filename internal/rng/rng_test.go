package rng

import (
	"flag"
	"math"
	"sort"
	"testing"
	"time"
)

var seed = flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed for the statistical tests")

// ksDistance returns the Kolmogorov-Smirnov distance of the sample xs from
// the distribution function cdf.
func ksDistance(xs []float64, cdf func(float64) float64) float64 {
	sort.Float64s(xs)
	n := float64(len(xs))
	d := 0.0
	for i, x := range xs {
		f := cdf(x)
		d = math.Max(d, math.Max(math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f)))
	}
	return d
}

// ksCritical is the KS distance exceeded with probability about 1e-6.
func ksCritical(n int) float64 { return 2.7 / math.Sqrt(float64(n)) }

func TestDistributions(t *testing.T) {
	t.Logf("seed %d (rerun with -seed %d)", *seed, *seed)
	r := New(*seed)
	const n = 200000
	normCDF := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	cases := []struct {
		name string
		draw func() float64
		cdf  func(float64) float64
	}{
		{"uniform", r.Float64, func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }},
		{"normal", r.Normal, normCDF},
		{"exponential", r.Exp, func(x float64) float64 { return 1 - math.Exp(-x) }},
		{"gamma(2)", func() float64 { return r.Gamma(2) }, func(x float64) float64 { return 1 - math.Exp(-x)*(1+x) }},
		{"gamma(0.5)", func() float64 { return r.Gamma(0.5) }, func(x float64) float64 { return math.Erf(math.Sqrt(x)) }},
	}
	for _, c := range cases {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = c.draw()
		}
		if d := ksDistance(xs, c.cdf); d > ksCritical(n) {
			t.Errorf("%s: KS distance %.5f > %.5f", c.name, d, ksCritical(n))
		}
	}
	// The tails of the ziggurats are reached and right.
	far := 0
	const tailDraws = 1000000
	for i := 0; i < tailDraws; i++ {
		if math.Abs(r.Normal()) > zigNormR {
			far++
		}
	}
	want := tailDraws * math.Erfc(zigNormR/math.Sqrt2)
	if math.Abs(float64(far)-want) > 6*math.Sqrt(want) {
		t.Errorf("normal tail beyond %g: %d draws, expected %.0f", zigNormR, far, want)
	}
}

func TestDiscreteDistributions(t *testing.T) {
	t.Logf("seed %d", *seed)
	r := New(*seed + 1)
	for _, lam := range []float64{0.5, 7, 45, 300} {
		sum, sum2 := 0.0, 0.0
		const n = 20000
		for i := 0; i < n; i++ {
			k := float64(r.Poisson(lam))
			sum += k
			sum2 += k * k
		}
		mean, v := sum/n, sum2/n-(sum/n)*(sum/n)
		if math.Abs(mean-lam) > 6*math.Sqrt(lam/n) || math.Abs(v-lam) > 0.05*lam+0.05 {
			t.Errorf("Poisson(%g): mean %g variance %g", lam, mean, v)
		}
	}
	for _, c := range []struct {
		n int
		p float64
	}{{10, 0.3}, {1000, 0.02}, {5000, 0.5}, {100, 0.97}} {
		sum := 0.0
		const trials = 4000
		for i := 0; i < trials; i++ {
			k := r.Binomial(c.n, c.p)
			if k < 0 || k > c.n {
				t.Fatalf("Binomial(%d, %g) = %d", c.n, c.p, k)
			}
			sum += float64(k)
		}
		mean, sd := float64(c.n)*c.p, math.Sqrt(float64(c.n)*c.p*(1-c.p)/trials)
		if math.Abs(sum/trials-mean) > 6*sd {
			t.Errorf("Binomial(%d, %g): mean %g, expected %g", c.n, c.p, sum/trials, mean)
		}
	}
	counts := make([]int, 7)
	for i := 0; i < 70000; i++ {
		counts[r.Intn(7)]++
	}
	for k, c := range counts {
		if math.Abs(float64(c)-10000) > 600 {
			t.Errorf("Intn(7): %d drawn %d times", k, c)
		}
	}
}

func TestStreamsAreIndependentOfOrder(t *testing.T) {
	a := New(Derive(5, 1, 2))
	b := New(Derive(5, 1, 2))
	c := New(Derive(5, 2, 1))
	for i := 0; i < 100; i++ {
		x, y := a.Uint64(), b.Uint64()
		if x != y {
			t.Fatal("the same stream gave different numbers")
		}
		if x == c.Uint64() {
			t.Fatal("streams with swapped keys coincide")
		}
	}
}

func BenchmarkNormal(b *testing.B) {
	r := New(1)
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += r.Normal()
	}
	_ = s
}

func BenchmarkExp(b *testing.B) {
	r := New(1)
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += r.Exp()
	}
	_ = s
}
