package calib

import (
	"math"
	"sort"
)

// Residual is the spread of one calibrated parameter across the neurons,
// measured as calix's hardware tests measure it: the 5 %-trimmed standard
// deviation of the measured values with the calibration applied (After),
// and with every neuron at the median of the calibrated CapMem values of
// that parameter, the rest calibrated (Before, calix's "uncalibrated").
type Residual struct {
	Parameter   string  `json:"parameter"`
	Unit        string  `json:"unit"`
	Target      float64 `json:"target"`       // median target
	MedianAfter float64 `json:"median_after"` // median measured value, calibrated
	StdBefore   float64 `json:"std_before"`
	StdAfter    float64 `json:"std_after"`
	Ratio       float64 `json:"ratio"`       // StdAfter / StdBefore
	CalixRatio  float64 `json:"calix_ratio"` // the largest ratio calix's hardware tests accept
	// Outliers counts neurons further than Tolerance from the median
	// (threshold: 8 CADC LSB, calix's test).
	Outliers  int     `json:"outliers,omitempty"`
	Tolerance float64 `json:"tolerance,omitempty"`
}

// Evaluate measures the residual spread of leak, reset, threshold, tau_mem
// and tau_syn on a chip holding r, against the median-code configuration.
// It changes the chip's configuration (and leaves r's applied).
func Evaluate(c Chip, r *SpikingResult) ([]Residual, error) {
	n, err := resume(c, r.CADC, r.Neuron, 99)
	if err != nil {
		return nil, err
	}
	t := n.t
	type item struct {
		name, param, unit string
		target            []float64
		calix             float64
		over              map[string][]float64
		measure           func() ([]float64, error)
		tol               float64
	}
	items := []item{
		{"leak", "leak_v_leak", "CADC", t.Leak.expand(), 0.3, quiet, n.rest, 0},
		{"reset", "reset_v_reset", "CADC", t.Reset.expand(), 0.2, resetOver, n.measureReset, 0},
		{"threshold", "threshold_v_threshold", "CADC", t.Threshold.expand(), 0.35, thresholdOver, n.measureThreshold, 8},
		{"tau_mem", "leak_i_bias", "µs", t.TauMemUs.expand(), 0.45, tauMemOver, nil, 0},
		{"tau_syn (excitatory)", "excitatory_input_i_bias_tau", "µs", t.TauSynExc.expand(), 0.2, quiet, nil, 0},
		{"tau_syn (inhibitory)", "inhibitory_input_i_bias_tau", "µs", t.TauSynInh.expand(), 0.2, quiet, nil, 0},
	}
	items[3].measure = func() ([]float64, error) {
		step := make([]float64, NumNeurons)
		for i, x := range items[3].target {
			step[i] = math.Min(math.Round(CapMemMax*2.2/x), CapMemMax)
		}
		n.tauStep = step
		return n.measureTauMem(items[3].target)
	}
	if resetMethod(items[3].target) {
		items[3].over = n.resetMethodOver()
		items[3].measure = func() ([]float64, error) { return n.measureTauMemReset(items[3].target) }
	}
	items[4].measure = func() ([]float64, error) { return n.measureTauSyn(0, items[4].target) }
	items[5].measure = func() ([]float64, error) { return n.measureTauSyn(1, items[5].target) }
	var out []Residual
	for _, it := range items {
		if err := n.write(it.over); err != nil {
			return nil, err
		}
		after, err := it.measure()
		if err != nil {
			return nil, err
		}
		codes := n.cfg[it.param]
		flat := filled(math.Round(median(codes)))
		if err := n.write(merge(it.over, map[string][]float64{it.param: flat})); err != nil {
			return nil, err
		}
		before, err := it.measure()
		if err != nil {
			return nil, err
		}
		res := Residual{Parameter: it.name, Unit: it.unit, Target: median(it.target), MedianAfter: median(after),
			StdBefore: trimmedStd(before), StdAfter: trimmedStd(after), CalixRatio: it.calix, Tolerance: it.tol}
		res.Ratio = res.StdAfter / res.StdBefore
		if it.tol > 0 {
			m := res.MedianAfter
			for _, x := range after {
				if math.Abs(x-m) > it.tol {
					res.Outliers++
				}
			}
		}
		out = append(out, res)
	}
	return out, n.write(nil)
}

// RateSpread measures every neuron's firing rate on a chip holding r (after
// a leak-over-threshold calibration) and returns the rates in kHz, sorted.
func RateSpread(c Chip, r *SpikingResult, recUs float64) ([]float64, error) {
	n, err := resume(c, r.CADC, r.Neuron, 98)
	if err != nil {
		return nil, err
	}
	if err := n.write(nil); err != nil {
		return nil, err
	}
	sp, err := c.SpikeTimes(5, recUs)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(sp))
	for i, ts := range sp {
		out[i] = rateOf(ts, recUs)
	}
	sort.Float64s(out)
	return out, nil
}
