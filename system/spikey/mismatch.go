package spikey

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/nmp-platform/nmp/internal/rng"
)

// Fixed-pattern noise: how far each circuit of a chip sits from its nominal
// behaviour. It is drawn once per station from the station's identity, so
// a chip keeps its character across runs and processes. The spreads are
// assumptions of the order the Spikey literature reports (docs/spikey.md).
const (
	sdLeak      = 0.25 // relative, leak conductance (log-normal)
	sdRefrac    = 0.15 // relative, refractory time (log-normal)
	sdThresh    = 2.0  // mV, threshold comparator offset
	sdDriver    = 0.20 // relative, a line driver's output amplitude (log-normal)
	sdSynapse   = 0.05 // relative, a synapse's weight (normal)
	sdCorrThr   = 0.10 // relative, a synapse's correlation threshold (normal)
	sdPinOffset = 3.0  // mV, an output pin's offset
	sdPinGain   = 0.05 // relative, an output pin's gain

	// Temporal noise, drawn anew for every run.
	sdMembrane = 0.5  // mV, stationary SD of the free membrane's noise
	sdReadout  = 0.4  // mV, per membrane sample
	sdDrift    = 0.01 // relative, a run's common drift of the leak
	sdThrDrift = 0.2  // mV, a run's common drift of the thresholds

	// Calibration measurement errors: what is left after calibrating.
	sdCalibTau   = 0.03
	sdCalibDrv   = 0.04
	sdCalibThr   = 0.3
	sdCalibPinOf = 0.3
	sdCalibPinG  = 0.005
)

// chip is one station's fixed-pattern noise.
type chip struct {
	station string
	seed    uint64
	leak    [numNeurons]float64 // factor on g_leak
	refrac  [numNeurons]float64 // factor on the refractory time
	thresh  [numNeurons]float64 // mV added to v_thresh
	driver  [numBlocks][driversPerBlock]float64
	pinOff  [numOutputPins]float64
	pinGain [numOutputPins]float64
}

// synapse returns the weight factor of synapse (block, row, column).
func (c *chip) synapse(blk, row, col int) float64 {
	r := rng.New(rng.Derive(c.seed, 7, uint64(blk), uint64(row), uint64(col)))
	return math.Max(0, 1+sdSynapse*r.Normal())
}

// corrThreshold returns the correlation threshold factor of a synapse.
func (c *chip) corrThreshold(blk, row, col int) float64 {
	r := rng.New(rng.Derive(c.seed, 8, uint64(blk), uint64(row), uint64(col)))
	return math.Max(0.2, 1+sdCorrThr*r.Normal())
}

var (
	chipsMu sync.Mutex
	chips   = map[string]*chip{}
)

// chipOf returns the fixed-pattern noise of a station.
func chipOf(station string) *chip {
	n, _ := StationNumber(station)
	key := fmt.Sprintf("station%d", n)
	chipsMu.Lock()
	defer chipsMu.Unlock()
	if c, ok := chips[key]; ok {
		return c
	}
	c := &chip{station: key, seed: stationSeed(key)}
	r := rng.New(rng.Derive(c.seed, 1))
	for i := range c.leak {
		c.leak[i] = math.Exp(sdLeak * r.Normal())
		c.refrac[i] = math.Exp(sdRefrac * r.Normal())
		c.thresh[i] = sdThresh * r.Normal()
	}
	for b := range c.driver {
		for k := range c.driver[b] {
			c.driver[b][k] = math.Exp(sdDriver * r.Normal())
		}
	}
	for p := range c.pinOff {
		c.pinOff[p] = sdPinOffset * r.Normal()
		c.pinGain[p] = 1 + sdPinGain*r.Normal()
	}
	chips[key] = c
	return c
}

// Calibration is what the built-in calibrations measured on one station:
// corrections that undo its fixed-pattern noise up to the measurements'
// errors. It is stored per station (CalibDirEnv) and applied by setup()'s
// calib* flags.
type Calibration struct {
	Station string `json:"station"`
	// TauMem multiplies each neuron's leak bias (calibTauMem).
	TauMem []float64 `json:"tau_mem"`
	// SynDrivers multiplies each driver's drviout, [block*256+row]
	// (calibSynDrivers), as the calibSynDriver files' factors do.
	SynDrivers []float64 `json:"syn_drivers"`
	// Vthresh is subtracted from each neuron's threshold, mV (calibVthresh).
	Vthresh []float64 `json:"vthresh"`
	// PinOffset and PinGain undo the output pins' offset and gain, so that
	// membrane traces read in mV (calibOutputPins).
	PinOffset []float64 `json:"pin_offset"`
	PinGain   []float64 `json:"pin_gain"`
}

// CalibDirEnv names the directory the calibrations are stored in; without
// it they are measured in memory, once per process.
const CalibDirEnv = "NMP_SPIKEY_CALIB_DIR"

var (
	calibMu sync.Mutex
	calibs  = map[string]*Calibration{}
)

// Calibrate measures a station: the leak (by the membrane time constant's
// relaxation), each driver's strength, each threshold and each output pin,
// each measurement with its error. It returns what it measured.
func Calibrate(station string) *Calibration {
	c := chipOf(station)
	r := rng.New(rng.Derive(c.seed, 99))
	cal := &Calibration{Station: c.station, TauMem: make([]float64, numNeurons), Vthresh: make([]float64, numNeurons),
		SynDrivers: make([]float64, numBlocks*driversPerBlock), PinOffset: make([]float64, numOutputPins), PinGain: make([]float64, numOutputPins)}
	for i := 0; i < numNeurons; i++ {
		measured := c.leak[i] * (1 + sdCalibTau*r.Normal())
		cal.TauMem[i] = 1 / measured
		cal.Vthresh[i] = c.thresh[i] + sdCalibThr*r.Normal()
	}
	for b := 0; b < numBlocks; b++ {
		for k := 0; k < driversPerBlock; k++ {
			measured := c.driver[b][k] * (1 + sdCalibDrv*r.Normal())
			cal.SynDrivers[b*driversPerBlock+k] = 1 / measured
		}
	}
	for p := 0; p < numOutputPins; p++ {
		cal.PinOffset[p] = c.pinOff[p] + sdCalibPinOf*r.Normal()
		cal.PinGain[p] = c.pinGain[p] * (1 + sdCalibPinG*r.Normal())
	}
	return cal
}

// calibrationOf returns the stored calibration of a station, measuring and
// storing it the first time.
func calibrationOf(station string) (*Calibration, error) {
	key := chipOf(station).station
	calibMu.Lock()
	defer calibMu.Unlock()
	if cal, ok := calibs[key]; ok {
		return cal, nil
	}
	dir := os.Getenv(CalibDirEnv)
	var path string
	if dir != "" {
		path = filepath.Join(dir, "calib_"+key+".json")
		if b, err := os.ReadFile(path); err == nil {
			var cal Calibration
			if err := json.Unmarshal(b, &cal); err != nil {
				return nil, fmt.Errorf("calibration of %s: %s: %w", key, path, err)
			}
			if len(cal.TauMem) != numNeurons || len(cal.Vthresh) != numNeurons || len(cal.SynDrivers) != numBlocks*driversPerBlock ||
				len(cal.PinOffset) != numOutputPins || len(cal.PinGain) != numOutputPins {
				return nil, fmt.Errorf("calibration of %s: %s: wrong number of values (delete it to measure the station again)", key, path)
			}
			calibs[key] = &cal
			return &cal, nil
		}
	}
	cal := Calibrate(key)
	if path != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			b, _ := json.MarshalIndent(cal, "", " ")
			tmp := path + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, path)
			}
		}
	}
	calibs[key] = cal
	return cal, nil
}
