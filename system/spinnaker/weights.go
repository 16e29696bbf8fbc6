package spinnaker

import (
	"math"
)

// Weight scaling, after sPyNNaker's population vertex: every synapse type
// of a population has one ring_buffer_to_input_left_shift, chosen from the
// statistics of the weights that arrive there so that the 16-bit ring
// buffer words rarely saturate; the weights are then stored as 16-bit words
// of weight·2^(15−shift), and a word w is the s16.15 input w<<shift.

// inStats accumulates, for one synapse type of one population, what
// _get_ring_buffer_to_input_left_shifts gathers from the incoming
// projections.
type inStats struct {
	// running totals of the weight distribution (Welford, weighted by the
	// number of connections)
	n, mean, m2 float64
	rateN       float64
	rateMean    float64
	delayVar    float64
	total       float64 // Σ spikes per tick · max weight · connections
	biggest     float64
}

// add is one incoming projection: nConn is the most connections any
// neuron of the population receives from it; wMean, wVar and wMax the
// statistics of its weights' magnitudes in the script's units, ws the
// input type's global weight scale (32 for conductances, else 1); dVar the
// variance of its delays; spikesPerSecond and spikesPerTick what its source
// sends at most.
//
// As today's sPyNNaker's _Stats.__add_details has it, the mean, variance
// and largest weight are scaled by ws, but the total a tick may bring
// (spikes per tick · w_max · connections) is not: for a conductance input
// the largest single weight then usually decides the shift, and a tick of
// many coincident spikes may saturate the ring buffer.
func (s *inStats) add(nConn int, wMean, wVar, wMax, ws, dVar, spikesPerSecond, spikesPerTick float64) {
	n := float64(nConn)
	if n == 0 {
		return
	}
	total := spikesPerTick * wMax * n
	wMean, wVar, wMax = wMean*ws, wVar*ws*ws, wMax*ws
	// Merge (n, mean wMean, variance wVar) into the running totals.
	tot := s.n + n
	delta := wMean - s.mean
	s.m2 += wVar*n + delta*delta*s.n*n/tot
	s.mean += delta * n / tot
	s.n = tot
	rd := spikesPerSecond - s.rateMean
	s.rateN += n
	s.rateMean += rd * n / s.rateN
	s.delayVar = math.Max(s.delayVar, dVar)
	s.total += total
	s.biggest = math.Max(s.biggest, wMax)
}

// shift is the ring buffer's left shift for these inputs.
func (s *inStats) shift(dtMs, sigma float64, signed bool) uint32 {
	maxW := 0.0
	if s.delayVar == 0 {
		maxW = math.Max(s.total, s.biggest)
	} else {
		sd := 0.0
		if s.n > 0 {
			sd = math.Sqrt(s.m2 / s.n)
		}
		maxW = math.Min(expectedUpperBound(s.mean, sd, s.rateMean, dtMs, s.n, sigma), s.total)
		maxW = math.Max(maxW, s.biggest)
	}
	p := 0
	if maxW > 0 {
		p = int(math.Ceil(math.Max(0, math.Log2(maxW))))
		if math.Pow(2, float64(p)) <= maxW {
			p++
		}
	}
	if signed {
		p++
	}
	// A word of 16 bits shifted by more than 15 would leave the s16.15
	// input's 32 bits.
	return uint32(min(p, 15))
}

// expectedUpperBound is _ring_buffer_expected_upper_bound: the mean input
// of a tick plus sigma standard deviations of the Poisson-modulated sum.
func expectedUpperBound(wMean, wSD, rate, dtMs, n, sigma float64) float64 {
	stepsPerSecond := 1000 / dtMs
	lambda := n * rate / stepsPerSecond
	if lambda <= 0 {
		return 0
	}
	poissonVar := lambda * wMean * wMean
	upper := math.Round(lambda + 5*math.Sqrt(lambda)) // POSSION_SIGMA_SUMMATION_LIMIT = 5
	wVar := 0.0
	if wSD > 0 {
		lg, _ := math.Lgamma(1 + upper)
		q := poissonCDF(int(upper), lambda) // gammaincc(1+k, λ) = P(Poisson(λ) ≤ k)
		big := math.Log(lambda)*upper - lg
		if big > -701 && big < 701 && big != 0 {
			wVar = math.Exp(-lambda + math.Log(lambda) + 2*math.Log(wSD) + math.Log(math.Exp(lambda)*q-math.Exp(big)))
		}
	}
	return lambda*wMean + sigma*math.Sqrt(poissonVar+wVar)
}

// poissonCDF is P(X ≤ k) for X Poisson with mean lambda.
func poissonCDF(k int, lambda float64) float64 {
	term := math.Exp(-lambda)
	sum := term
	for i := 1; i <= k; i++ {
		term *= lambda / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}

// poissonMaxPerTick is what sPyNNaker's Poisson source vertex expects at
// most per tick: the count that a tick exceeds with probability below
// 1/1000 (the quantile at 1 − 1/1000 of Poisson(rate·dt)), at least 1.
func poissonMaxPerTick(rateHz, dtMs float64) float64 {
	lambda := rateHz * dtMs / 1000
	if lambda <= 0 {
		return 1
	}
	k := 0
	term := math.Exp(-lambda)
	sum := term
	for sum < 1-1.0/1000 && k < 100000 {
		k++
		term *= lambda / float64(k)
		sum += term
	}
	return math.Max(1, float64(k))
}

// quantise is a weight as the 16-bit word the synaptic row holds (rounded
// half to even, as numpy.rint; saturated) and that word's value.
func quantise(w float64, shift uint32) (word uint16, value float64) {
	scale := math.Ldexp(1, 15-int(shift))
	x := math.RoundToEven(math.Abs(w) * scale)
	if x > 0xFFFF {
		x = 0xFFFF
	}
	return uint16(x), math.Copysign(x/scale, w)
}
