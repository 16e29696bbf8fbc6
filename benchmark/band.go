package benchmark

import "math"

// Band is the recent band of a series of measurements: the mean and
// standard deviation of the values before the latest (at most Window of
// them), and whether the latest lies outside mean ± Width standard
// deviations. A series with fewer than MinHistory earlier values has no band.
type Band struct {
	N         int     `json:"n"`
	Mean      float64 `json:"mean"`
	StdDev    float64 `json:"std_dev"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Regressed bool    `json:"regressed"`
}

// Parameters of the recent band.
const (
	Window     = 10
	MinHistory = 3
	Width      = 3.0
)

// BandOf computes the band of values (oldest first) for its last value; ok
// is false when there is too little history.
func BandOf(values []float64) (b Band, ok bool) {
	if len(values) < MinHistory+1 {
		return Band{}, false
	}
	last := values[len(values)-1]
	prev := values[:len(values)-1]
	if len(prev) > Window {
		prev = prev[len(prev)-Window:]
	}
	var sum float64
	for _, v := range prev {
		sum += v
	}
	mean := sum / float64(len(prev))
	var ss float64
	for _, v := range prev {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(prev)-1))
	// A deterministic measure (every earlier value equal) still gets a band
	// a rounding error wide, so that only a real change is flagged.
	tol := math.Max(Width*sd, 1e-9*math.Max(math.Abs(mean), 1e-300))
	b = Band{N: len(prev), Mean: mean, StdDev: sd, Lo: mean - tol, Hi: mean + tol}
	b.Regressed = last < b.Lo || last > b.Hi
	return b, true
}
