package calib

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/nmp-platform/nmp/internal/rng"
)

// A calibration step (calix's Calib) searches one parameter per instance
// (neuron, quadrant or channel) within a range: evaluate configures the
// given parameters on the chip and measures the instances' results. The
// algorithm proposes parameters until it has its answer; the step then
// clips it to the range, writes it, and counts instances whose answer sits
// at a range limit as failed (calix's boundary check).

// evaluate configures params and returns one measured result per instance.
type evaluate func(params []float64) ([]float64, error)

// Range is a parameter's range (calix's ParameterRange).
type Range struct{ Lo, Hi float64 }

// Algorithm finds, for each instance, the parameter whose result is
// closest to the target.
type Algorithm interface {
	search(r Range, inverted bool, target []float64, eval evaluate) ([]float64, error)
}

// BinarySearch is calix's binary search: with P = Hi-Lo+1 possibilities it
// takes ceil(log2 P)+2 measurements, starting at Lo+P/2 and moving by
// ceil(P/2^(k+2)) at step k toward the target; it returns the best of the
// last BestOf tested parameters (12 measurements and the best of 3 over a
// CapMem cell's 0..1022).
type BinarySearch struct {
	// Start, when set, is each instance's first parameter instead of the
	// middle (NoisyBinarySearch's noisy start).
	Start []float64
	// BestOf is how many of the last parameters compete (default 3).
	BestOf int
	// Extra is a step size inserted where the steps become smaller than it
	// (NoisyBinarySearch's extra step).
	Extra float64
}

func (b BinarySearch) search(r Range, inverted bool, target []float64, eval evaluate) ([]float64, error) {
	n := len(target)
	p := r.Hi - r.Lo + 1
	steps := int(math.Ceil(math.Log2(p))) + 2
	var sizes []float64
	for k := 0; k < steps-1; k++ {
		s := math.Ceil(p / math.Pow(2, float64(k+2)))
		if b.Extra > 0 && s < b.Extra && (len(sizes) == 0 || sizes[len(sizes)-1] >= b.Extra) {
			sizes = append(sizes, b.Extra)
		}
		sizes = append(sizes, s)
	}
	best := b.BestOf
	if best <= 0 {
		best = 3
	}
	params := make([]float64, n)
	for i := range params {
		params[i] = math.Floor(r.Lo + p/2)
		if b.Start != nil {
			params[i] = b.Start[i]
		}
		params[i] = math.Min(math.Max(params[i], r.Lo), r.Hi)
	}
	type tried struct{ param, dist []float64 }
	var hist []tried
	for k := 0; ; k++ {
		res, err := eval(params)
		if err != nil {
			return nil, err
		}
		t := tried{param: append([]float64(nil), params...), dist: make([]float64, n)}
		for i := range res {
			t.dist[i] = math.Abs(res[i] - target[i])
			if math.IsNaN(res[i]) {
				t.dist[i] = math.Inf(1)
			}
		}
		hist = append(hist, t)
		if k == len(sizes) {
			break
		}
		for i := range params {
			up := res[i] < target[i]
			if inverted {
				up = !up
			}
			if math.IsNaN(res[i]) {
				up = !inverted // no reading: move as if far below
			}
			if up {
				params[i] += sizes[k]
			} else {
				params[i] -= sizes[k]
			}
			params[i] = math.Min(math.Max(params[i], r.Lo), r.Hi)
		}
	}
	out := make([]float64, n)
	from := max(0, len(hist)-best)
	for i := range out {
		bi := len(hist) - 1
		for h := len(hist) - 1; h >= from; h-- {
			if hist[h].dist[i] < hist[bi].dist[i] {
				bi = h
			}
		}
		out[i] = hist[bi].param[i]
	}
	return out, nil
}

// NoisyBinarySearch is calix's default for neuron parameters: a binary
// search whose start is moved by uniform integer noise in [-Noise, Noise]
// per instance, so that not many CapMem cells hold the same value (CapMem
// crosstalk), with one extra step of the noise's size and
// ceil(log2 Noise) more candidates for the best.
type NoisyBinarySearch struct {
	Noise float64 // default 5
	Seed  uint64
}

// ErrExcessiveNoise is calix's ExcessiveNoiseError.
var ErrExcessiveNoise = errors.New("the start noise exceeds the first step of the search")

func (nb NoisyBinarySearch) search(r Range, inverted bool, target []float64, eval evaluate) ([]float64, error) {
	noise := nb.Noise
	if noise == 0 {
		noise = 5
	}
	p := r.Hi - r.Lo + 1
	if noise > math.Ceil(p/4) {
		return nil, fmt.Errorf("noisy binary search: noise %g over %g possibilities: %w", noise, p, ErrExcessiveNoise)
	}
	s := rng.New(rng.Derive(nb.Seed, 0xb1a5))
	start := make([]float64, len(target))
	for i := range start {
		start[i] = math.Floor(r.Lo+p/2) + float64(s.Intn(int(2*noise)+1)) - noise
	}
	return BinarySearch{Start: start, Extra: noise, BestOf: 3 + bits.Len(uint(math.Ceil(noise))-1)}.search(r, inverted, target, eval)
}

// LinearSearch steps each instance from Initial by Step until its result
// crosses the target (at most MaxSteps), and keeps the better of the last two.
type LinearSearch struct {
	Initial  []float64
	Step     float64 // default 1
	MaxSteps int     // default 50
}

func (l LinearSearch) search(r Range, inverted bool, target []float64, eval evaluate) ([]float64, error) {
	n := len(target)
	step := l.Step
	if step == 0 {
		step = 1
	}
	maxSteps := l.MaxSteps
	if maxSteps == 0 {
		maxSteps = 50
	}
	params := append([]float64(nil), l.Initial...)
	if len(params) != n {
		return nil, fmt.Errorf("linear search: %d initial parameters for %d instances", len(params), n)
	}
	prevP, prevD := make([]float64, n), make([]float64, n)
	done := make([]bool, n)
	dir := make([]float64, n)
	for i := range prevD {
		prevD[i] = math.Inf(1)
	}
	for k := 0; k <= maxSteps; k++ {
		res, err := eval(params)
		if err != nil {
			return nil, err
		}
		all := true
		for i := range params {
			if done[i] {
				continue
			}
			d := math.Abs(res[i] - target[i])
			up := res[i] < target[i]
			if inverted {
				up = !up
			}
			sd := -step
			if up {
				sd = step
			}
			if k > 0 && sd != dir[i] {
				// crossed: the better of the last two
				if prevD[i] < d {
					params[i] = prevP[i]
				}
				done[i] = true
				continue
			}
			dir[i] = sd
			prevP[i], prevD[i] = params[i], d
			next := math.Min(math.Max(params[i]+sd, r.Lo), r.Hi)
			if next == params[i] {
				done[i] = true
				continue
			}
			params[i] = next
			all = false
		}
		if all {
			break
		}
	}
	return params, nil
}

// LinearPrediction is calix's predictive model with a linear model:
// result = Slope*param + offset per instance. It measures once at Probe,
// shifts the model to each instance's result and predicts the parameter
// that gives the target (one measurement).
type LinearPrediction struct {
	Probe []float64
	Slope float64
}

func (lp LinearPrediction) search(r Range, inverted bool, target []float64, eval evaluate) ([]float64, error) {
	if lp.Slope == 0 {
		return nil, errors.New("linear prediction: the model's slope is zero")
	}
	res, err := eval(lp.Probe)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(target))
	for i := range out {
		out[i] = math.Round(lp.Probe[i] + (target[i]-res[i])/lp.Slope)
	}
	return out, nil
}

// step runs one calibration step: it searches, clips the answer to the
// range and returns it with the success mask (false at a range limit).
// The caller writes the answer.
func step(alg Algorithm, r Range, inverted bool, target []float64, eval evaluate) (params []float64, ok []bool, err error) {
	params, err = alg.search(r, inverted, target, eval)
	if err != nil {
		return nil, nil, err
	}
	ok = make([]bool, len(params))
	for i, p := range params {
		p = math.Round(math.Min(math.Max(p, r.Lo), r.Hi))
		params[i] = p
		ok[i] = p > r.Lo && p < r.Hi
	}
	return params, ok, nil
}
