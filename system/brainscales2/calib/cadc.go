package calib

import (
	"fmt"
	"math"
)

// CADCTarget is calix's CADCCalibTarget: the CapMem range of the debug
// cell the reads span (DynamicRange) and the reads at its ends (ReadRange).
type CADCTarget struct {
	DynamicRange [2]float64 `json:"dynamic_range"`
	ReadRange    [2]float64 `json:"read_range"`
}

// DefaultCADCTarget is calix's: CapMem 70..550 read as 20..220.
func DefaultCADCTarget() CADCTarget {
	return CADCTarget{DynamicRange: [2]float64{70, 550}, ReadRange: [2]float64{20, 220}}
}

// CADCOptions are calix's CADCCalibOptions.
type CADCOptions struct {
	// SkipOffsets leaves the channel offsets at 0 (calix's
	// calibrate_offsets=False).
	SkipOffsets bool `json:"skip_offsets,omitempty"`
}

func (t *CADCTarget) check() error {
	lo, hi := t.DynamicRange[0], t.DynamicRange[1]
	if !(lo >= 0 && hi <= CapMemMax && lo < hi) {
		return fmt.Errorf("cadc_target.dynamic_range: [%g, %g] must lie within the CapMem range 0 to 1022, lower below upper", lo, hi)
	}
	if !(t.ReadRange[0] >= 0 && t.ReadRange[1] <= 255 && t.ReadRange[0] < t.ReadRange[1]) {
		return fmt.Errorf("cadc_target.read_range: [%g, %g] must lie within the CADC's 0 to 255, lower below upper", t.ReadRange[0], t.ReadRange[1])
	}
	if lo < 30 {
		return fmt.Errorf("cadc_target.dynamic_range: Please choose a greater lower end of the dynamic range (%g). 70 seems like a feasible value", lo)
	}
	return nil
}

// CADCResult is calix's CADCCalibResult.
type CADCResult struct {
	RampOffset    []float64 `json:"v_ramp_offset"`  // 4 quadrants
	RampSlope     []float64 `json:"i_ramp_slope"`   // 4 quadrants
	ChannelOffset []float64 `json:"channel_offset"` // 1024 channels
	Success       []bool    `json:"success"`        // per channel
	// Spread is the std and the quadrant means of all channels' reads at
	// the middle of the dynamic range before and after the calibration.
	Before CADCSpread `json:"before"`
	After  CADCSpread `json:"after"`
}

// CADCSpread describes reads of all channels at one voltage.
type CADCSpread struct {
	Std           float64    `json:"std"`
	QuadrantMeans [4]float64 `json:"quadrant_means"`
}

// Globals are the result's global settings.
func (r *CADCResult) Globals() map[string][]float64 {
	return map[string][]float64{"cadc_ramp_offset": r.RampOffset, "cadc_ramp_slope": r.RampSlope, "cadc_channel_offset": r.ChannelOffset}
}

func spreadOf(reads []float64) CADCSpread {
	var s CADCSpread
	s.Std = stddev(reads)
	var n [4]float64
	for ch, x := range reads {
		q := quadrant(ch % NumNeurons)
		s.QuadrantMeans[q] += x
		n[q]++
	}
	for q := range n {
		s.QuadrantMeans[q] /= n[q]
	}
	return s
}

// CalibrateCADC calibrates the CADC (calix.common.cadc.calibrate): each
// quadrant's ramp offset so that the lower end of the dynamic range reads
// the lower read target, its slope so that the upper end reads the upper
// one (binary searches on the quadrants' means), then every channel's
// digital offset so that all read the same at the middle (a linear
// prediction: one read). Neurons whose channel offset hits -128 or 127
// are reported as failed.
func CalibrateCADC(c Chip, t CADCTarget, o CADCOptions) (*CADCResult, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	res := &CADCResult{RampOffset: make([]float64, 4), RampSlope: make([]float64, 4), ChannelOffset: make([]float64, NumCADCChannels), Success: make([]bool, NumCADCChannels)}
	zero := make([]float64, NumCADCChannels)
	mid := math.Round((t.DynamicRange[0] + t.DynamicRange[1]) / 2)
	if err := c.Configure(nil, map[string][]float64{"cadc_channel_offset": zero}); err != nil {
		return nil, err
	}
	before, err := c.ReadCADCDebug(mid, 4)
	if err != nil {
		return nil, err
	}
	res.Before = spreadOf(before)
	quadMeans := func(reads []float64) []float64 {
		out := make([]float64, 4)
		for ch, x := range reads {
			out[quadrant(ch%NumNeurons)] += x / 256
		}
		return out
	}
	// The ramp's start: a higher offset reads lower.
	slope := []float64{350, 350, 350, 350}
	if err := c.Configure(nil, map[string][]float64{"cadc_ramp_slope": slope}); err != nil {
		return nil, err
	}
	calibQuad := func(name string, code, read float64) ([]float64, []bool, error) {
		target := []float64{read, read, read, read}
		p, ok, err := step(BinarySearch{}, Range{0, CapMemMax}, true, target, func(ps []float64) ([]float64, error) {
			if err := c.Configure(nil, map[string][]float64{name: ps}); err != nil {
				return nil, err
			}
			reads, err := c.ReadCADCDebug(code, 2)
			if err != nil {
				return nil, err
			}
			return quadMeans(reads), nil
		})
		if err == nil {
			err = c.Configure(nil, map[string][]float64{name: p})
		}
		return p, ok, err
	}
	off, okOff, err := calibQuad("cadc_ramp_offset", t.DynamicRange[0], t.ReadRange[0])
	if err != nil {
		return nil, fmt.Errorf("CADC ramp offset: %w", err)
	}
	sl, okSl, err := calibQuad("cadc_ramp_slope", t.DynamicRange[1], t.ReadRange[1])
	if err != nil {
		return nil, fmt.Errorf("CADC ramp slope: %w", err)
	}
	copy(res.RampOffset, off)
	copy(res.RampSlope, sl)
	for ch := range res.Success {
		q := quadrant(ch % NumNeurons)
		res.Success[ch] = okOff[q] && okSl[q]
	}
	if !o.SkipOffsets {
		reads, err := c.ReadCADCDebug(mid, 4)
		if err != nil {
			return nil, err
		}
		m := mean(reads)
		target := make([]float64, NumCADCChannels)
		for i := range target {
			target[i] = m
		}
		p, ok, err := step(LinearPrediction{Probe: zero, Slope: 1}, Range{-128, 127}, false, target, func(ps []float64) ([]float64, error) {
			if err := c.Configure(nil, map[string][]float64{"cadc_channel_offset": ps}); err != nil {
				return nil, err
			}
			return c.ReadCADCDebug(mid, 4)
		})
		if err != nil {
			return nil, fmt.Errorf("CADC channel offsets: %w", err)
		}
		if err := c.Configure(nil, map[string][]float64{"cadc_channel_offset": p}); err != nil {
			return nil, err
		}
		copy(res.ChannelOffset, p)
		for i := range ok {
			res.Success[i] = res.Success[i] && ok[i]
		}
	}
	after, err := c.ReadCADCDebug(mid, 4)
	if err != nil {
		return nil, err
	}
	res.After = spreadOf(after)
	return res, nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func stddev(xs []float64) float64 {
	m := mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)))
}
