// Package spikey is the emulated Spikey chip behind PyNN 0.6's
// pyNN.hardware.spikey: 384 conductance-based integrate-and-fire neurons in
// two blocks of 192, each block fed by 256 synapse line drivers (the upper
// 64 external only) through a 256 x 192 array of 4-bit synapses; line
// drivers that shape each row's conductance time course and carry
// short-term plasticity; STDP through correlation measurements in every
// synapse and a controller that sweeps the rows and applies a look-up
// table; parameters shared per block; fixed-pattern noise per chip and
// temporal noise per run; a speed-up of 10^4 (everything here is in
// biological time). docs/spikey.md says what is modelled, how, and what is
// assumed.
package spikey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// The chip's fixed numbers (hwconfig_default_s1v2 of the PyNN 0.6 fork and
// the guidebook; docs/spikey.md gives the sources).
const (
	numBlocks       = 2
	neuronsPerBlock = 192
	numNeurons      = numBlocks * neuronsPerBlock
	driversPerBlock = 256 // synapse rows ("presyns") per block
	maxDigital      = 15  // 4-bit weights
	numOutputPins   = 8   // membrane monitor outputs

	cmNF     = 0.2 // membrane capacitance the bio translation assumes (nF)
	eRevE    = 0.0 // excitatory reversal, clamped (mV)
	timestep = 0.1 // the emulation's step, ms biological time
	speedup  = 1e4

	// Synapse-driver defaults (µA, hardware units) and the time courses
	// they give in biological time.
	drvioutBase  = 1.5
	drvifallBase = 1.0
	drviriseBase = 1.0
	drvMin       = 0.02 // the drivers' currents range, µA
	drvMax       = 2.5
	tauFall0     = 5.0 // ms at drvifall = drvifallBase
	tauRise0     = 0.2 // ms at drvirise = drviriseBase

	// Weight LSBs in µS: the synapse-driver calibration's values, and the
	// PyNN module's defaults without it.
	lsbExcCalib   = 0.001
	lsbInhCalib   = 0.004
	lsbExcUncalib = 0.001
	lsbInhUncalib = 0.016

	icbBase = 0.2 // refractory comparator bias (µA) at which tau_refrac holds

	// efficacy is the conductance one nominal LSB gives at the membrane,
	// relative to its label (minExcWeight, minInhWeight): the bio labels
	// are the PyNN module's translation, not a measurement of the circuit.
	efficacy = 1.5
	// synDelay is the latency from a spike (or an input event) to the
	// start of the conductance ramp: the event path and the driver's
	// adjustable delay (adjdel), in biological time.
	synDelay = 1.0

	// STDP: time per row of the controller's sweep (ms, autoSTDPFrequency),
	// the pairing time constant, and the correlation threshold in units of
	// one pairing at Δt = 0.
	stdpRowMs      = 15.0
	stdpTau        = 2.5
	stdpThreshold  = 5.0
	maxShapes      = 16 // distinct driver time courses the emulation carries
	maxPlasticRows = 64
)

// Options are the system options of a description for the chip
// (`"system": {"name": "spikey", "options": {...}}`).
type Options struct {
	// Station names the chip ("station500"). Its fixed-pattern noise is drawn
	// from this identity: the same station always has the same mismatch.
	Station string `json:"station"`
	// MappingOffset rotates the placement: the first neuron goes to
	// hardware neuron MappingOffset (setup(mappingOffset=...)).
	MappingOffset int `json:"mapping_offset"`
	// NeuronPermutation, when given, lists the hardware neurons the
	// network's neurons go to, all 384 of them (setup(neuronPermutation=...)).
	NeuronPermutation []int `json:"neuron_permutation"`
	// Calibrations applied (setup's calib* flags).
	CalibTauMem     *bool `json:"calib_tau_mem"`
	CalibSynDrivers *bool `json:"calib_syn_drivers"`
	CalibVthresh    *bool `json:"calib_vthresh"`
	CalibOutputPins *bool `json:"calib_output_pins"`
	// AvoidSpikes is setup(avoidSpikes=True): the hardware module programs
	// every threshold to the top of the voltage range (vout 2.0 V), so no
	// neuron fires, for membrane measurements.
	AvoidSpikes bool `json:"avoid_spikes"`
	// Icb is the refractory comparator bias (hwa.setIcb), µA.
	Icb float64 `json:"icb"`
	// STDPRowMs is the controller's time per row (hwa.autoSTDPFrequency).
	STDPRowMs float64 `json:"stdp_row_ms"`
	// Drivers holds per projection (by index) the factors that scale its
	// drivers' fall current and output amplitude (setDrvifallFactors,
	// setDrvioutFactors): one value for all or one per presynaptic neuron.
	Drivers []DriverFactors `json:"drivers"`
	// LUT replaces the STDP look-up tables (hwa.setLUT): 16 values each.
	CausalLUT  []int `json:"causal_lut"`
	AcausalLUT []int `json:"acausal_lut"`
	// TemporalNoise switches the per-run noise off (false) for tests.
	TemporalNoise *bool `json:"temporal_noise"`
}

// DriverFactors are one projection's driver scalings.
type DriverFactors struct {
	Drvifall []float64 `json:"drvifall"`
	Drviout  []float64 `json:"drviout"`
}

func on(b *bool) bool { return b == nil || *b }

func parseOptions(raw []byte) (Options, error) {
	var o Options
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return o, fmt.Errorf("system.options: %w", err)
		}
	}
	if o.Station == "" {
		o.Station = DefaultStation
	}
	if _, err := StationNumber(o.Station); err != nil {
		return o, fmt.Errorf("system.options.station: %w", err)
	}
	if o.MappingOffset < 0 || o.MappingOffset >= numNeurons {
		return o, fmt.Errorf("system.options.mapping_offset: ERROR: Mapping offset is equal to or larger than available neuron number (%d; the chip has %d neurons)", o.MappingOffset, numNeurons)
	}
	if p := o.NeuronPermutation; p != nil {
		seen := make([]bool, numNeurons)
		for _, x := range p {
			if x < 0 || x >= numNeurons || seen[x] {
				return o, fmt.Errorf("system.options.neuron_permutation: ERROR: Neuron permutation list must include all hardware neuron indices 0..383 once each (%d is out of range or repeated)", x)
			}
			seen[x] = true
		}
		if len(p) != numNeurons {
			return o, fmt.Errorf("system.options.neuron_permutation: ERROR: Neuron permutation list must include all hardware neuron indices: it has %d of 384", len(p))
		}
	}
	if o.Icb == 0 {
		o.Icb = icbBase
	}
	if !(o.Icb > 0 && o.Icb <= drvMax) {
		return o, fmt.Errorf("system.options.icb: %g µA is outside the bias range (0, %g]", o.Icb, float64(drvMax))
	}
	if o.STDPRowMs == 0 {
		o.STDPRowMs = stdpRowMs
	}
	if !(o.STDPRowMs > 0) || math.IsInf(o.STDPRowMs, 0) {
		return o, fmt.Errorf("system.options.stdp_row_ms: %g is not a time", o.STDPRowMs)
	}
	for name, lut := range map[string][]int{"causal_lut": o.CausalLUT, "acausal_lut": o.AcausalLUT} {
		if lut == nil {
			continue
		}
		if len(lut) != 16 {
			return o, fmt.Errorf("system.options.%s: ERROR: setLUT: 2*16 values required (got %d)", name, len(lut))
		}
		for _, x := range lut {
			if x < 0 || x > 15 {
				return o, fmt.Errorf("system.options.%s: ERROR: setLUT: 0<=value<=15 (got %d)", name, x)
			}
		}
	}
	return o, nil
}

// DefaultStation is the chip used when a description names none (the chip
// the guidebook's lessons were recorded on).
const DefaultStation = "station666"

// StationNumber reads "stationNNN" (or "NNN").
func StationNumber(s string) (int, error) {
	t := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "station")
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 99999 {
		return 0, fmt.Errorf("%q is not a station: write stationNNN, e.g. station500", s)
	}
	return n, nil
}

func stationSeed(station string) uint64 {
	n, _ := StationNumber(station)
	h := fnv.New64a()
	fmt.Fprintf(h, "spikey-station-%d", n)
	return h.Sum64()
}

// driverOf returns the line driver (row within the block) through which
// hardware neuron src reaches neurons of block blk: the guidebook's
// assignment table. Within a block neuron k feeds row k; across blocks
// even and odd rows swap (row 0 of the left block carries neuron 193).
func driverOf(src, blk int) int {
	row := src % neuronsPerBlock
	if src/neuronsPerBlock != blk {
		row ^= 1
	}
	return row
}

// externalDriver is the row external source k (0..255) takes in each
// block: allocated from the top down.
func externalDriver(k int) int { return driversPerBlock - 1 - k }
