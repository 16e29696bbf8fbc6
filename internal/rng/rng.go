// Package rng provides the random streams of the simulation: small, fast,
// seedable generators whose streams are derived from the seed in a network
// description and a few integers naming what the stream is for (a population
// and a neuron, a projection and a row). Deriving streams this way, rather than
// sharing one generator, is what makes results independent of the thread count.
package rng

import (
	"math"
	"math/bits"
)

// Mix is SplitMix64's finaliser: a bijective mixing of 64 bits, used to
// derive stream seeds.
func Mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Derive returns a seed for the stream named by keys under seed. Different key
// lists give statistically independent streams.
func Derive(seed uint64, keys ...uint64) uint64 {
	h := Mix(seed + 0x9e3779b97f4a7c15)
	for _, k := range keys {
		h = Mix(h ^ Mix(k+0x632be59bd9b4e019))
	}
	return h
}

// Stream is a xoshiro256** generator. The zero value is not usable; use New.
type Stream struct {
	s0, s1, s2, s3 uint64
}

// New returns a stream seeded from seed (any value, including 0).
func New(seed uint64) Stream {
	var r Stream
	r.Seed(seed)
	return r
}

// Seed resets the stream to the state derived from seed.
func (r *Stream) Seed(seed uint64) {
	z := seed
	next := func() uint64 {
		z += 0x9e3779b97f4a7c15
		return Mix(z)
	}
	r.s0, r.s1, r.s2, r.s3 = next(), next(), next(), next()
}

// Uint64 returns 64 random bits.
func (r *Stream) Uint64() uint64 {
	result := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return result
}

// Float64 returns a uniform number in [0, 1).
func (r *Stream) Float64() float64 {
	return float64(r.Uint64()>>11) * (1.0 / (1 << 53))
}

// OpenFloat64 returns a uniform number in (0, 1), safe to take the logarithm of.
func (r *Stream) OpenFloat64() float64 {
	return (float64(r.Uint64()>>11) + 0.5) * (1.0 / (1 << 53))
}

// Intn returns a uniform integer in [0, n). n must be positive.
func (r *Stream) Intn(n int) int {
	// Lemire's multiply-shift with rejection: unbiased.
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int(hi)
}

// Exp returns an exponentially distributed number with mean 1 (ziggurat).
func (r *Stream) Exp() float64 {
	for {
		jz := uint32(r.Uint64() >> 32)
		iz := jz & 255
		if jz < zigKE[iz] {
			return float64(jz) * zigWE[iz]
		}
		if iz == 0 {
			// The tail beyond the base layer is exponential again, shifted.
			return zigExpR - math.Log(r.OpenFloat64())
		}
		x := float64(jz) * zigWE[iz]
		if zigFE[iz]+r.Float64()*(zigFE[iz-1]-zigFE[iz]) < math.Exp(-x) {
			return x
		}
	}
}

// Normal returns a standard normal number (ziggurat).
func (r *Stream) Normal() float64 {
	for {
		u := r.Uint64()
		hz := int32(u >> 32)
		iz := u & 127
		ahz := int64(hz)
		if ahz < 0 {
			ahz = -ahz
		}
		if ahz < int64(zigKN[iz]) {
			return float64(hz) * zigWN[iz]
		}
		if iz == 0 {
			// The tail beyond zigNormR, by Marsaglia's method.
			for {
				x := -math.Log(r.OpenFloat64()) / zigNormR
				y := -math.Log(r.OpenFloat64())
				if y+y >= x*x {
					if hz > 0 {
						return zigNormR + x
					}
					return -zigNormR - x
				}
			}
		}
		x := float64(hz) * zigWN[iz]
		if zigFN[iz]+r.Float64()*(zigFN[iz-1]-zigFN[iz]) < math.Exp(-0.5*x*x) {
			return x
		}
	}
}

// Ziggurat tables (Marsaglia and Tsang 2000, "The ziggurat method for
// generating random variables"): 128 layers for the normal density, 256 for
// the exponential, computed from the layer boundary r and area v.
const (
	zigNormR = 3.442619855899
	zigNormV = 9.91256303526217e-3
	zigExpR  = 7.697117470131487
	zigExpV  = 3.949659822581572e-3
)

var (
	zigKN        [128]uint32
	zigWN, zigFN [128]float64
	zigKE        [256]uint32
	zigWE, zigFE [256]float64
)

func init() {
	const m1 = 1 << 31
	dn, tn := zigNormR, zigNormR
	q := zigNormV / math.Exp(-0.5*dn*dn)
	zigKN[0] = uint32(dn / q * m1)
	zigKN[1] = 0
	zigWN[0] = q / m1
	zigWN[127] = dn / m1
	zigFN[0] = 1
	zigFN[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigNormV/dn+math.Exp(-0.5*dn*dn)))
		zigKN[i+1] = uint32(dn / tn * m1)
		tn = dn
		zigFN[i] = math.Exp(-0.5 * dn * dn)
		zigWN[i] = dn / m1
	}
	const m2 = 1 << 32
	de, te := zigExpR, zigExpR
	q = zigExpV / math.Exp(-de)
	zigKE[0] = uint32(de / q * m2)
	zigKE[1] = 0
	zigWE[0] = q / m2
	zigWE[255] = de / m2
	zigFE[0] = 1
	zigFE[255] = math.Exp(-de)
	for i := 254; i >= 1; i-- {
		de = -math.Log(zigExpV/de + math.Exp(-de))
		zigKE[i+1] = uint32(de / te * m2)
		te = de
		zigFE[i] = math.Exp(-de)
		zigWE[i] = de / m2
	}
}

// Gamma returns a gamma-distributed number with shape k > 0 and scale 1
// (Marsaglia and Tsang's method).
func (r *Stream) Gamma(k float64) float64 {
	if k < 1 {
		// Boost: G(k) = G(k+1) * U^(1/k).
		return r.Gamma(k+1) * math.Pow(r.OpenFloat64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.Normal()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.OpenFloat64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// Poisson returns a Poisson-distributed count with mean lambda >= 0.
func (r *Stream) Poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 30 {
		// Multiplication of uniforms (Knuth): exact, fast for small means.
		l := math.Exp(-lambda)
		k := 0
		p := r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	}
	// Transformed rejection (Hörmann's PTRS): exact for large means.
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int(k)
		}
	}
}

// Binomial returns a binomially distributed count of n trials with probability p.
func (r *Stream) Binomial(n int, p float64) int {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	}
	if p > 0.5 {
		return n - r.Binomial(n, 1-p)
	}
	if float64(n)*p < 30 {
		// Geometric skipping over failures: cost proportional to the result.
		lq := math.Log1p(-p)
		k, i := 0, -1
		for {
			i += 1 + int(math.Floor(math.Log(r.OpenFloat64())/lq))
			if i >= n {
				return k
			}
			k++
		}
	}
	// Large means: BTPE would be faster; inversion by splitting keeps it exact and simple.
	half := n / 2
	return r.Binomial(half, p) + r.Binomial(n-half, p)
}

// Skip returns the number of failures before the next success of a Bernoulli
// process with probability p, given logq = log(1-p). Used to enumerate the
// successes of fixed-probability connectors without a draw per candidate.
func (r *Stream) Skip(logq float64) int {
	if logq == 0 {
		return math.MaxInt32
	}
	s := math.Floor(math.Log(r.OpenFloat64()) / logq)
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}
