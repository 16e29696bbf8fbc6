package brainscales2

import (
	"fmt"
	"math"
	"sync"

	"github.com/nmp-platform/nmp/internal/rng"
)

// The columnar ADC as calix calibrates it. Each of the four quadrants has
// a ramp: it starts at a voltage set by the CapMem cell cadc_v_ramp_offset
// and rises at a rate set by the current cell cadc_i_ramp_slope; a channel
// counts 8-bit clock cycles until the ramp passes its input. Every channel
// (2 per synapse column: causal and acausal, 1024 in all) adds its own
// offset and a digital offset (-128..127) that calibration sets.
//
// A chip configured without CADC settings (Options.CADC nil, every
// experiment that loads no calibration) reads as before: as if the ramps
// were calibrated, with the channels' offsets uncalibrated.

const (
	numCADCChannels = 2 * numCircuits // causal and acausal, per column and hemisphere
	// Nominal ramp codes: with them, a chip without mismatch reads CapMem
	// 70 as 20 and 550 as 220 (the calibration's default dynamic range).
	nominalRampOffset = 22.0
	nominalRampSlope  = 350.0
	// rampMismatchMV and rampSlopeGain size the ramps' fixed-pattern noise
	// (assumptions, docs/calibration.md).
	rampMismatchMV = 15.0
	rampSlopeGain  = 0.05
	// debugMismatchMV is the CapMem debug cell's offset per quadrant.
	debugMismatchMV = 3.0
)

// countsPerVolt is the ramp's LSB per V at the nominal slope code.
var countsPerVolt = 200 / (capV(550) - capV(70))

// CADCConfig is the CADC configuration of the chip (calix's CADC
// calibration result): ramp offset and slope codes per quadrant and the
// digital offset of each channel.
type CADCConfig struct {
	RampOffset    []float64 `json:"v_ramp_offset"`
	RampSlope     []float64 `json:"i_ramp_slope"`
	ChannelOffset []float64 `json:"channel_offset"`
}

// DefaultCADCConfig is the CADC as it comes up: nominal ramp codes, no
// digital offsets.
func DefaultCADCConfig() CADCConfig {
	c := CADCConfig{RampOffset: make([]float64, numQuadrants), RampSlope: make([]float64, numQuadrants),
		ChannelOffset: make([]float64, numCADCChannels)}
	for q := range c.RampOffset {
		c.RampOffset[q], c.RampSlope[q] = nominalRampOffset, nominalRampSlope
	}
	return c
}

func (c *CADCConfig) check() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("system.options.cadc.%s: %s", field, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct {
		name string
		xs   []float64
	}{{"v_ramp_offset", c.RampOffset}, {"i_ramp_slope", c.RampSlope}} {
		if len(f.xs) != numQuadrants {
			return bad(f.name, "give one value per quadrant (4), got %d", len(f.xs))
		}
		for q, x := range f.xs {
			if !(x >= 0 && x <= capMemMax) || x != math.Trunc(x) {
				return bad(f.name, "value %g of quadrant %d is not a CapMem value (0 to 1022)", x, q)
			}
		}
	}
	if len(c.ChannelOffset) != numCADCChannels {
		return bad("channel_offset", "give one value per channel (1024: causal channels 0..511, acausal 512..1023), got %d", len(c.ChannelOffset))
	}
	for i, x := range c.ChannelOffset {
		if !(x >= -128 && x <= 127) || x != math.Trunc(x) {
			return bad("channel_offset", "value %g of channel %d is outside -128 to 127", x, i)
		}
	}
	return nil
}

// cadcMismatch is the fixed-pattern noise of the CADC beyond the causal
// channels' offsets (chipMismatch.cadcOff).
type cadcMismatch struct {
	rampOff   [numQuadrants]float64 // V
	rampGain  [numQuadrants]float64
	debugOff  [numQuadrants]float64 // V
	acausal   [numCircuits]float64  // LSB
	causalOff *[numCircuits]float64
}

var cadcMismatchCache sync.Map // mismatchKey -> *cadcMismatch

// Stream domains of the CADC's mismatch (beyond those of analog.go).
const domCADCRamp uint64 = 301

func cadcMismatchOf(chip string, m Mismatch, cm *chipMismatch) *cadcMismatch {
	key := mismatchKey{chip, m}
	if v, ok := cadcMismatchCache.Load(key); ok {
		return v.(*cadcMismatch)
	}
	seed := chipSeed(chip)
	normal := func(keys ...uint64) float64 {
		r := rng.New(rng.Derive(seed, keys...))
		return r.Normal()
	}
	scale := 1.0
	if m.CADCOffsetLSB == 0 {
		scale = 0 // a chip without CADC mismatch has ideal ramps too
	}
	x := &cadcMismatch{causalOff: &cm.cadcOff}
	for q := 0; q < numQuadrants; q++ {
		x.rampOff[q] = scale * rampMismatchMV * 1e-3 * normal(domCADCRamp, 0, uint64(q))
		x.rampGain[q] = 1 + scale*rampSlopeGain*normal(domCADCRamp, 1, uint64(q))
		x.debugOff[q] = scale * debugMismatchMV * 1e-3 * normal(domCADCRamp, 2, uint64(q))
	}
	for c := 0; c < numCircuits; c++ {
		x.acausal[c] = m.CADCOffsetLSB * normal(domCADCRamp, 3, uint64(c))
	}
	v, _ := cadcMismatchCache.LoadOrStore(key, x)
	return v.(*cadcMismatch)
}

// cadcQuadrant is the ramp a channel uses: channels follow their columns'
// neuron quadrants.
func cadcQuadrant(ch int) int { return quadrantOf(ch % numCircuits) }

// cadcRead converts a voltage at channel ch into the CADC's reading,
// before noise and rounding.
func cadcRead(v float64, ch int, cfg *CADCConfig, x *cadcMismatch) float64 {
	q := cadcQuadrant(ch)
	start := capV(cfg.RampOffset[q]) + x.rampOff[q]
	slope := math.Max(cfg.RampSlope[q], 1) / nominalRampSlope * x.rampGain[q]
	off := x.acausal[ch%numCircuits]
	if ch < numCircuits {
		off = x.causalOff[ch]
	}
	return (v-start)*countsPerVolt/slope + off + cfg.ChannelOffset[ch]
}

// cadcMismatch returns the CADC's mismatch of the plan's chip.
func (pl *plan) cadcMismatch() *cadcMismatch {
	if pl.cadcX == nil {
		pl.cadcX = cadcMismatchOf(pl.opts.Chip, pl.opts.Mismatch, pl.cm)
	}
	return pl.cadcX
}
