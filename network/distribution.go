package network

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/internal/rng"
)

// distributionParams lists PyNN's random distributions and their parameters,
// with numpy's meanings (exponential's beta and gamma's theta are scales).
var distributionParams = map[string][]string{
	"binomial":                   {"n", "p"},
	"gamma":                      {"k", "theta"},
	"exponential":                {"beta"},
	"lognormal":                  {"mu", "sigma"},
	"normal":                     {"mu", "sigma"},
	"normal_clipped":             {"mu", "sigma", "low", "high"},
	"normal_clipped_to_boundary": {"mu", "sigma", "low", "high"},
	"poisson":                    {"lambda_"},
	"uniform":                    {"low", "high"},
	"uniform_int":                {"low", "high"},
	"vonmises":                   {"mu", "kappa"},
}

// maxRedraws bounds the redraws of normal_clipped, as PyNN does.
const maxRedraws = 1000

// compiled holds a checked distribution's parameters as fields, so that a
// draw does no map lookup.
type compiled struct {
	kind       int
	a, b, c, e float64
}

const (
	distUnknown = iota
	distUniform
	distUniformInt
	distNormal
	distNormalClipped
	distNormalBoundary
	distLognormal
	distExponential
	distGamma
	distPoisson
	distBinomial
	distVonMises
)

// Check returns why the distribution cannot be drawn from, or nil. A
// checked distribution draws faster.
func (d *Distribution) Check() error {
	if err := d.check(); err != nil {
		return err
	}
	p := d.Parameters
	c := compiled{}
	switch d.Name {
	case "uniform":
		c = compiled{kind: distUniform, a: p["low"], b: p["high"]}
	case "uniform_int":
		c = compiled{kind: distUniformInt, a: math.Ceil(p["low"]), b: math.Ceil(p["high"])}
	case "normal":
		c = compiled{kind: distNormal, a: p["mu"], b: p["sigma"]}
	case "normal_clipped":
		c = compiled{kind: distNormalClipped, a: p["mu"], b: p["sigma"], c: p["low"], e: p["high"]}
	case "normal_clipped_to_boundary":
		c = compiled{kind: distNormalBoundary, a: p["mu"], b: p["sigma"], c: p["low"], e: p["high"]}
	case "lognormal":
		c = compiled{kind: distLognormal, a: p["mu"], b: p["sigma"]}
	case "exponential":
		c = compiled{kind: distExponential, a: p["beta"]}
	case "gamma":
		c = compiled{kind: distGamma, a: p["k"], b: p["theta"]}
	case "poisson":
		c = compiled{kind: distPoisson, a: p["lambda_"]}
	case "binomial":
		c = compiled{kind: distBinomial, a: p["n"], b: p["p"]}
	case "vonmises":
		c = compiled{kind: distVonMises, a: p["mu"], b: p["kappa"]}
	}
	d.c = c
	return nil
}

func (d *Distribution) check() error {
	names, ok := distributionParams[d.Name]
	if !ok {
		return fmt.Errorf("unknown distribution %q (known: %s)", d.Name, joinKeys(distributionParams))
	}
	for _, n := range names {
		if _, ok := d.Parameters[n]; !ok {
			return fmt.Errorf("distribution %q needs the parameter %q", d.Name, n)
		}
	}
	for k := range d.Parameters {
		found := false
		for _, n := range names {
			found = found || n == k
		}
		if !found {
			return fmt.Errorf("distribution %q has no parameter %q", d.Name, k)
		}
	}
	p := d.Parameters
	for _, k := range names {
		x := p[k]
		if math.IsNaN(x) {
			return fmt.Errorf("distribution %q: %s is not a number", d.Name, k)
		}
		// Only the clipped normals' bounds may be open (PyNN's
		// low=-inf or high=inf); an infinite mean or width draws nothing.
		openBound := (d.Name == "normal_clipped" || d.Name == "normal_clipped_to_boundary") && (k == "low" || k == "high")
		if math.IsInf(x, 0) && !openBound {
			return fmt.Errorf("distribution %q: %s must be finite", d.Name, k)
		}
	}
	switch d.Name {
	case "normal", "lognormal", "normal_clipped", "normal_clipped_to_boundary":
		if p["sigma"] < 0 {
			return fmt.Errorf("distribution %q: sigma must not be negative", d.Name)
		}
		if d.Name != "normal" && d.Name != "lognormal" && p["low"] > p["high"] {
			return fmt.Errorf("distribution %q: low is above high", d.Name)
		}
	case "uniform":
		if p["low"] > p["high"] {
			return fmt.Errorf("distribution uniform: low is above high")
		}
	case "uniform_int":
		if p["low"] >= p["high"] {
			return fmt.Errorf("distribution uniform_int: low must be below high (high is excluded)")
		}
	case "gamma":
		if p["k"] <= 0 || p["theta"] <= 0 {
			return fmt.Errorf("distribution gamma: k and theta must be positive")
		}
	case "exponential":
		if p["beta"] <= 0 {
			return fmt.Errorf("distribution exponential: beta must be positive")
		}
	case "binomial":
		if p["n"] < 0 || p["p"] < 0 || p["p"] > 1 {
			return fmt.Errorf("distribution binomial: n must be >= 0 and p in [0, 1]")
		}
	case "poisson":
		if p["lambda_"] < 0 {
			return fmt.Errorf("distribution poisson: lambda_ must not be negative")
		}
	case "vonmises":
		if p["kappa"] < 0 {
			return fmt.Errorf("distribution vonmises: kappa must not be negative")
		}
	}
	return nil
}

// Draw returns one number from the distribution. Check must have passed;
// after Check, Draw may be called from several goroutines at once.
func (d *Distribution) Draw(r *rng.Stream) float64 {
	c := &d.c
	switch c.kind {
	case distUniform:
		return c.a + (c.b-c.a)*r.Float64()
	case distUniformInt:
		return c.a + float64(r.Intn(int(c.b-c.a)))
	case distNormal:
		return c.a + c.b*r.Normal()
	case distNormalClipped:
		for i := 0; i < maxRedraws; i++ {
			x := c.a + c.b*r.Normal()
			if x >= c.c && x <= c.e {
				return x
			}
		}
		return math.Min(math.Max(c.a, c.c), c.e)
	case distNormalBoundary:
		return math.Min(math.Max(c.a+c.b*r.Normal(), c.c), c.e)
	case distLognormal:
		return math.Exp(c.a + c.b*r.Normal())
	case distExponential:
		return c.a * r.Exp()
	case distGamma:
		return c.b * r.Gamma(c.a)
	case distPoisson:
		return float64(r.Poisson(c.a))
	case distBinomial:
		return float64(r.Binomial(int(c.a), c.b))
	case distVonMises:
		return vonMises(r, c.a, c.b)
	}
	return d.drawSlow(r)
}

// drawSlow draws from an unchecked distribution.
func (d *Distribution) drawSlow(r *rng.Stream) float64 {
	p := d.Parameters
	switch d.Name {
	case "uniform":
		return p["low"] + (p["high"]-p["low"])*r.Float64()
	case "uniform_int":
		lo, hi := math.Ceil(p["low"]), math.Ceil(p["high"])
		return lo + float64(r.Intn(int(hi-lo)))
	case "normal":
		return p["mu"] + p["sigma"]*r.Normal()
	case "normal_clipped":
		for i := 0; i < maxRedraws; i++ {
			x := p["mu"] + p["sigma"]*r.Normal()
			if x >= p["low"] && x <= p["high"] {
				return x
			}
		}
		return math.Min(math.Max(p["mu"], p["low"]), p["high"])
	case "normal_clipped_to_boundary":
		x := p["mu"] + p["sigma"]*r.Normal()
		return math.Min(math.Max(x, p["low"]), p["high"])
	case "lognormal":
		return math.Exp(p["mu"] + p["sigma"]*r.Normal())
	case "exponential":
		return p["beta"] * r.Exp()
	case "gamma":
		return p["theta"] * r.Gamma(p["k"])
	case "poisson":
		return float64(r.Poisson(p["lambda_"]))
	case "binomial":
		return float64(r.Binomial(int(p["n"]), p["p"]))
	case "vonmises":
		return vonMises(r, p["mu"], p["kappa"])
	}
	return math.NaN()
}

// vonMises draws with Best and Fisher's (1979) rejection method.
func vonMises(r *rng.Stream, mu, kappa float64) float64 {
	if kappa < 1e-8 {
		return mu + math.Pi*(2*r.Float64()-1)
	}
	t := 1 + math.Sqrt(1+4*kappa*kappa)
	rho := (t - math.Sqrt(2*t)) / (2 * kappa)
	s := (1 + rho*rho) / (2 * rho)
	for {
		u1, u2 := r.Float64(), r.Float64()
		z := math.Cos(math.Pi * u1)
		w := (1 + s*z) / (s + z)
		y := kappa * (s - w)
		if y*(2-y)-u2 > 0 || math.Log(y/u2)+1-y >= 0 {
			theta := math.Acos(w)
			if r.Float64() < 0.5 {
				theta = -theta
			}
			x := mu + theta
			// Wrap to (-pi, pi] around mu as numpy does.
			return math.Remainder(x, 2*math.Pi)
		}
	}
}

func joinKeys[V any](m map[string]V) string {
	s := ""
	for i, k := range sortedKeys(m) {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}
