package engine

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
)

// SpikeSourceInhGamma: an inhomogeneous gamma renewal process (Muller et al.
// 2007), as NEST's inh_gamma_generator defines it. Its hazard at time t is the
// hazard of a gamma distribution with shape a(t) and scale b(t) (in seconds),
// at the time since the last spike:
//
//	h(x) = x^(a-1) e^(-x/b) / (b^a Gamma(a) Q(a, x/b))
//
// with Q the regularised upper incomplete gamma function. a and b are
// piecewise constant: a[k] and b[k] hold from tbins[k] (ms) to tbins[k+1],
// the last pair for ever after; before tbins[0] the hazard is zero. A
// stationary stretch fires at 1/(a b) Hz with an ISI coefficient of variation
// of 1/sqrt(a).
//
// Spikes are drawn by thinning: candidates come from a Poisson process of
// rate 1/b[k] in bin k, which bounds the hazard when a >= 1, and a candidate
// at age x is kept with probability h(x) b[k]. The process starts at `start`
// as if a spike had occurred there, and spikes after start+duration are
// dropped. Each source draws from its own stream; spikes carry the end of the
// step they fall in, as for the other sources. Unlike NEST, the hazard is
// computed exactly (NEST differentiates log Q numerically) and the bound is
// per bin rather than the largest 1/b of all bins, which draws fewer
// candidates and gives the same process.

func init() {
	registerModel("SpikeSourceInhGamma", newInhGamma)
}

type inhGamma struct {
	a, b, tbins     [][]float64
	start, duration []float64
	streams         []rng.Stream
	last            []float64 // time of the last spike (or of start), ms; NaN: not started
	cand            []float64 // time of the next candidate, ms; NaN: not drawn
	bin             []int     // bin of the next candidate
	dt              float64
}

func newInhGamma(p *Population) (Model, error) {
	n := p.Size
	g := &inhGamma{a: p.Seqs["a"], b: p.Seqs["b"], tbins: p.Seqs["tbins"],
		start: p.param("start"), duration: p.param("duration"),
		streams: make([]rng.Stream, n), last: make([]float64, n), cand: make([]float64, n), bin: make([]int, n)}
	for i := range g.streams {
		g.streams[i].Seed(rng.Derive(p.Seed, domainSource, uint64(i)))
	}
	g.Reset()
	return g, nil
}

func (g *inhGamma) Prepare(dt float64) error {
	g.dt = dt
	for i := range g.cand {
		a, b, tb := g.a[i], g.b[i], g.tbins[i]
		if len(a) != len(tb) || len(b) != len(tb) {
			return fmt.Errorf("source %d: a, b and tbins must have the same length (got %d, %d and %d)", i, len(a), len(b), len(tb))
		}
		if len(tb) == 0 {
			return fmt.Errorf("source %d: tbins is empty; give at least one bin", i)
		}
		for k := range tb {
			if k > 0 && tb[k] < tb[k-1] {
				return fmt.Errorf("source %d: tbins must not decrease (index %d: %g after %g)", i, k, tb[k], tb[k-1])
			}
			if a[k] < 1 {
				return fmt.Errorf("source %d: a[%d] = %g: shapes below 1 are not supported (their hazard is unbounded, which thinning cannot sample)", i, k, a[k])
			}
			if !(b[k] > 0) {
				return fmt.Errorf("source %d: b[%d] = %g: the scale must be positive", i, k, b[k])
			}
		}
		// The bins may have changed: draw the candidates afresh; the age
		// since the last spike carries over.
		g.cand[i] = math.NaN()
	}
	return nil
}

func (g *inhGamma) Reset() {
	for i := range g.cand {
		g.cand[i] = math.NaN()
		g.last[i] = math.NaN()
	}
}

// next returns the first candidate after t, which lies in bin k (k = -1:
// before the first bin), and its bin. Candidates form a Poisson process of
// rate 1/b[k] per bin, restarted at each bin boundary (it is memoryless).
func (g *inhGamma) next(i int, t float64, k int) (float64, int) {
	tb, b := g.tbins[i], g.b[i]
	if k < 0 {
		t, k = tb[0], 0
	}
	s := &g.streams[i]
	for {
		c := t + s.Exp()*b[k]*1000
		if k+1 < len(tb) && c >= tb[k+1] {
			t, k = tb[k+1], k+1
			continue
		}
		return c, k
	}
}

// binAt returns the bin holding t, -1 before the first.
func binAt(tb []float64, t float64) int {
	k := -1
	for k+1 < len(tb) && tb[k+1] <= t {
		k++
	}
	return k
}

func (g *inhGamma) Step(n int64, lo, hi int, in *Input, out *Spikes) {
	t0 := float64(n) * g.dt
	t1 := t0 + g.dt
	for i := lo; i < hi; i++ {
		c := g.cand[i]
		if c != c { // NaN: (re)start the candidates from now
			if g.last[i] != g.last[i] {
				g.last[i] = g.start[i]
			}
			from := math.Max(t0, g.start[i])
			c, g.bin[i] = g.next(i, from, binAt(g.tbins[i], from))
		}
		end := g.start[i] + g.duration[i]
		for c <= t1 {
			if c > end {
				c = math.Inf(1)
				break
			}
			k := g.bin[i]
			bms := g.b[i][k] * 1000
			if g.streams[i].Float64() < gammaHazard(g.a[i][k], bms, c-g.last[i])*bms {
				out.Add(i)
				g.last[i] = c
			}
			c, g.bin[i] = g.next(i, c, k)
		}
		g.cand[i] = c
	}
}

// gammaHazard returns the hazard, per ms, of a gamma distribution with shape
// a >= 1 and scale beta (ms) at age x: pdf(x)/Q(a, x/beta).
func gammaHazard(a, beta, x float64) float64 {
	if a == 1 {
		return 1 / beta
	}
	if x <= 0 {
		return 0
	}
	z := x / beta
	if z < a+1 {
		// Q = 1 - P with P's power series; the density over Q directly.
		lg, _ := math.Lgamma(a)
		d := math.Exp(a*math.Log(z) - z - lg) // z^a e^-z / Gamma(a)
		p := d / a * gammaSeries(a, z)
		q := 1 - p
		if q <= 0 {
			return 1 / beta
		}
		return d / (z * beta * q)
	}
	// Q = z^a e^-z / Gamma(a) * F with F Legendre's continued fraction; the
	// prefactor cancels against the density's.
	return 1 / (z * beta * gammaCF(a, z))
}

// gammaSeries returns sum_{n>=0} z^n / ((a+1)(a+2)...(a+n)), so that the
// regularised lower incomplete gamma function is P(a, z) = z^a e^-z / Gamma(a+1)
// times it. It converges quickly for z < a+1.
func gammaSeries(a, z float64) float64 {
	sum, term := 1.0, 1.0
	for n := 1; n < 1000; n++ {
		term *= z / (a + float64(n))
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}

// gammaCF returns Legendre's continued fraction
// 1/(z+1-a - 1(1-a)/(z+3-a - 2(2-a)/(z+5-a - ...))), so that the regularised
// upper incomplete gamma function is Q(a, z) = z^a e^-z / Gamma(a) times it.
// It is evaluated with the modified Lentz method and converges quickly for
// z > a+1.
func gammaCF(a, z float64) float64 {
	const tiny = 1e-300
	b := z + 1 - a
	c := 1 / tiny
	d := 1 / b
	f := d
	for n := 1; n < 1000; n++ {
		an := -float64(n) * (float64(n) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		f *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return f
}
