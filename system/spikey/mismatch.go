package spikey

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/nmp-platform/nmp/internal/rng"
	"github.com/nmp-platform/nmp/system/spikey/calib"
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

	// Parameter cells (vout): out = set + offset + gain error * (set - cellPivot).
	sdCellOffset = 2.0  // mV
	sdCellGain   = 0.03 // relative
	cellPivot    = -65.0
	// The board's ADC: codes = adcPerMV * (1 + gain error) * (v - adcZero)
	// + offset, 12 bits.
	sdADCGain   = 0.02
	sdADCOffset = 20.0 // codes (1 mV)
	adcPerMV    = 20.0
	adcZero     = -150.0
	adcMax      = 4095
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
	// parameter cells [block][parity][cell]: offset (mV) and gain error
	cellOff, cellGain [numBlocks][2][calib.NumCells]float64
	adcGain, adcOff   float64
}

// cellOut is what parameter cell c of a block and parity puts out when
// programmed to set (mV).
func (c *chip) cellOut(blk, par int, cell calib.Cell, set float64) float64 {
	return set + c.cellOff[blk][par][cell] + c.cellGain[blk][par][cell]*(set-cellPivot)
}

// adc is the code the board's ADC gives for v (mV).
func (c *chip) adc(v float64) float64 {
	x := math.Round(adcPerMV*(1+c.adcGain)*(v-adcZero) + c.adcOff)
	return math.Max(0, math.Min(adcMax, x))
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
	// drawn after the rest, so that the older draws keep their values
	for b := range c.cellOff {
		for par := range c.cellOff[b] {
			for k := range c.cellOff[b][par] {
				c.cellOff[b][par][k] = sdCellOffset * r.Normal()
				c.cellGain[b][par][k] = sdCellGain * r.Normal()
			}
		}
	}
	c.adcGain, c.adcOff = sdADCGain*r.Normal(), sdADCOffset*r.Normal()
	chips[key] = c
	return c
}

// CalibDirEnv names the directory the calibrations are stored in (one
// calib_stationNNN.json per station); by default it is nmp/spikey-calib
// in the user's cache directory, and where none can be written they are
// kept in memory.
const CalibDirEnv = "NMP_SPIKEY_CALIB_DIR"

var (
	calibMu sync.Mutex
	calibs  = map[string]*calib.Calibration{}
)

// Calibrate runs the built-in calibrations on a station (package calib's
// experiments on the emulated chip) and returns what they measured.
func Calibrate(station string) (*calib.Calibration, error) {
	if _, err := StationNumber(station); err != nil {
		return nil, err
	}
	return calib.Run(&bench{chip: chipOf(station)})
}

func calibDir() string {
	if d := os.Getenv(CalibDirEnv); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "nmp", "spikey-calib")
	}
	return ""
}

// calibrationOf returns the stored calibration of a station, calibrating
// it and storing the result the first time (or when the stored one was
// made by another version of the procedures). note says what the user
// should know about it (a calibration that could not be stored).
func calibrationOf(station string) (cal *calib.Calibration, note string, err error) {
	key := chipOf(station).station
	calibMu.Lock()
	defer calibMu.Unlock()
	if cal, ok := calibs[key]; ok {
		return cal, "", nil
	}
	dir := calibDir()
	var path string
	if dir != "" {
		path = filepath.Join(dir, "calib_"+key+".json")
		if b, err := os.ReadFile(path); err == nil {
			var cal calib.Calibration
			err := json.Unmarshal(b, &cal)
			if err == nil {
				err = cal.Check()
			}
			if err == nil && cal.Station == key {
				calibs[key] = &cal
				return &cal, "", nil
			}
			// made by other procedures (or damaged): measure again
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("calibration of %s: %w", key, err)
		}
	}
	cal, err = Calibrate(key)
	if err != nil {
		return nil, "", err
	}
	if path != "" {
		if err := storeCalibration(dir, path, cal); err != nil {
			note = fmt.Sprintf("the calibration of %s could not be stored (%v); it is kept for this process only", key, err)
		}
	}
	calibs[key] = cal
	return cal, note, nil
}

func storeCalibration(dir, path string, cal *calib.Calibration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cal, "", " ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".calib-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
