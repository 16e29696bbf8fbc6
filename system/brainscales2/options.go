package brainscales2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
)

// The chip's fixed numbers (halco/haldls for HX v3; docs/brainscales2.md
// gives the sources).
const (
	numCircuits      = 512 // 2 rows (hemispheres) x 256 columns
	numColumns       = 256
	numHemispheres   = 2
	rowsPerSynram    = 256
	driversPerSynram = 128 // each feeds 2 rows
	padiBusesPerHemi = 4   // 32 drivers each
	labelsPerDriver  = 64  // 6-bit synapse addresses
	maxSynapseWeight = 63  // 6 bit
	numBackground    = 8   // background spike generators
	numQuadrants     = 4   // CapMem blocks, 128 circuits each
	madcChannels     = 2

	fpgaTickNs     = 8.0  // FPGA timer: 125 cycles per µs
	madcPeriodNs   = 34.0 // 500 MHz / (5 + 12) clock cycles per sample
	busServiceNs   = 8.0  // one event per 125 MHz cycle on a PADI bus or an FPGA link
	backgroundHz   = 125e6
	capMemFullV    = 1.2 // CapMem and MADC full scale
	madcFullScale  = 1023
	cadcFullScale  = 255
	refractoryBase = 8e-3 // µs per refractory clock cycle at clock scale 0 (125 MHz)
)

// Options are the system options of a description for the chip
// (`"system": {"name": "brainscales2", "options": {...}}`).
type Options struct {
	// Chip names the virtual chip. Its fixed-pattern noise (the mismatch of
	// every circuit) is drawn from this identity: the same chip always has
	// the same mismatch, another chip another.
	Chip string `json:"chip"`
	// TimestepUs is the engine's step in µs of hardware time.
	TimestepUs float64 `json:"timestep_us"`
	// SynapseDACBias is the synapse DAC bias current of the four quadrants
	// (CapMem LSB; one value for all or four).
	SynapseDACBias []float64 `json:"synapse_dac_bias"`
	// Clock scales of the neuron backend (0..15): a refractory clock cycle
	// lasts 8 ns x 2^scale.
	ClockScaleSlow       int `json:"clock_scale_slow"`
	ClockScaleFast       int `json:"clock_scale_fast"`
	ClockScaleAdaptPulse int `json:"clock_scale_adaptation_pulse"`
	// NeuronBackends, when given, are the clock scales of the two
	// hemispheres' neuron backends (top, bottom), overriding ClockScaleSlow
	// and ClockScaleFast: the chip has one backend per hemisphere (lola's
	// CommonNeuronBackendConfig).
	NeuronBackends []NeuronBackend `json:"neuron_backends"`
	// NeuronPermutation lists the circuits (AtomicNeuronOnDLS, 0..511) the
	// HXNeurons are placed on, in order (pynn-brainscales' neuronPermutation).
	NeuronPermutation []int `json:"neuron_permutation"`
	// EnableNeuronBypass configures every circuit as setup(enable_neuron_bypass=True):
	// threshold off, each input event forwarded as an output spike.
	EnableNeuronBypass bool `json:"enable_neuron_bypass"`
	// InitialConfig is a chip configuration (e.g. a calibration): HXNeuron
	// parameters per circuit, used wherever a population does not set them.
	InitialConfig *InitialConfig `json:"initial_config"`
	// Calibration describes the calibration InitialConfig and CADC come
	// from (chip, algorithm, creation time, file), for provenance; the chip
	// does not read it.
	Calibration map[string]any `json:"calibration"`
	// CADC is the CADC's configuration (a calibration's ramps and channel
	// offsets, cadc.go); nil reads as if the ramps were calibrated.
	CADC *CADCConfig `json:"cadc"`
	// CADCPeriodUs is the CADC's sampling period in µs.
	CADCPeriodUs float64 `json:"cadc_period_us"`
	// CrossbarFIFO is the number of events that may wait at a PADI bus
	// before further events are dropped.
	CrossbarFIFO int `json:"crossbar_fifo_depth"`
	// Mismatch and Noise set the fixed-pattern and temporal noise (see
	// Mismatch); absent fields keep their defaults.
	Mismatch Mismatch `json:"mismatch"`
	Noise    Noise    `json:"noise"`
}

// NeuronBackend is one hemisphere's neuron backend: its refractory clocks.
type NeuronBackend struct {
	ClockScaleSlow int `json:"clock_scale_slow"`
	ClockScaleFast int `json:"clock_scale_fast"`
}

// InitialConfig is a configuration of the chip's neuron circuits.
type InitialConfig struct {
	// Neurons maps HXNeuron parameter names to one value per circuit (512).
	Neurons map[string][]float64 `json:"neurons"`
}

// Mismatch sets the size of the fixed-pattern noise: standard deviations
// across circuits. The reference gives no measured magnitudes for the
// uncalibrated chip; these defaults are assumptions (docs/brainscales2.md).
type Mismatch struct {
	// CapMemOffsetMV and CapMemGain: offset (mV) and relative gain of each
	// CapMem voltage cell's output.
	CapMemOffsetMV float64 `json:"capmem_offset_mv"`
	CapMemGain     float64 `json:"capmem_gain"`
	// SourceFollowerMV: the drop of the leak and reset source followers.
	SourceFollowerMV float64 `json:"source_follower_mv"`
	// ComparatorMV: the offset of the threshold comparator.
	ComparatorMV float64 `json:"comparator_mv"`
	// CurrentGain: relative (log-normal) gain of each CapMem current cell
	// and the transconductance it biases.
	CurrentGain float64 `json:"current_gain"`
	// Capacitance: relative deviation of the membrane capacitor.
	Capacitance float64 `json:"capacitance"`
	// Synapse: relative deviation of each synapse's current pulse.
	Synapse float64 `json:"synapse"`
	// ShiftReferenceLSB: spread (CapMem LSB) of the i_shift_reference code
	// at which a synaptic input's OTA carries no current at rest.
	ShiftReferenceLSB float64 `json:"shift_reference_lsb"`
	// ReadoutMV: offset of each circuit's readout buffer.
	ReadoutMV float64 `json:"readout_mv"`
	// MADCOffsetMV and MADCGain: per MADC channel.
	MADCOffsetMV float64 `json:"madc_offset_mv"`
	MADCGain     float64 `json:"madc_gain"`
	// CADCOffsetLSB: per CADC channel (uncalibrated).
	CADCOffsetLSB float64 `json:"cadc_offset_lsb"`
}

// Noise sets the temporal noise: drawn anew for every run (CapMem values)
// or every sample (ADCs).
type Noise struct {
	CapMemMV      float64 `json:"capmem_mv"`
	CurrentRel    float64 `json:"current_rel"`
	MADCLSB       float64 `json:"madc_lsb"`
	CADCLSB       float64 `json:"cadc_lsb"`
	RandomPhaseUs float64 `json:"random_phase_us"`
}

// defaultOptions are the chip as a plain pynn.setup() gets it.
func defaultOptions() Options {
	return Options{
		Chip:           "nmp-virtual-hx-0",
		TimestepUs:     0.2,
		SynapseDACBias: []float64{1022},
		CADCPeriodUs:   2,
		CrossbarFIFO:   8,
		Mismatch: Mismatch{CapMemOffsetMV: 15, CapMemGain: 0.02, SourceFollowerMV: 25, ComparatorMV: 20,
			CurrentGain: 0.15, Capacitance: 0.02, Synapse: 0.05, ShiftReferenceLSB: 20,
			ReadoutMV: 5, MADCOffsetMV: 5, MADCGain: 0.01, CADCOffsetLSB: 8},
		Noise: Noise{CapMemMV: 1, CurrentRel: 0.005, MADCLSB: 1, CADCLSB: 1},
	}
}

// parseOptions reads the system options of a description over the defaults.
func parseOptions(raw json.RawMessage) (Options, error) {
	o := defaultOptions()
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return o, nil
	}
	// A chip may be named by a number as well as a string.
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return o, fmt.Errorf("system.options: %w", err)
	}
	if c, ok := probe["chip"]; ok {
		var n json.Number
		if json.Unmarshal(c, &n) == nil {
			b, _ := json.Marshal(n.String())
			probe["chip"] = b
			raw, _ = json.Marshal(probe)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("system.options: %w", err)
	}
	return o, o.check()
}

func (o *Options) check() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("system.options.%s: %s", field, fmt.Sprintf(format, args...))
	}
	if o.Chip == "" {
		return bad("chip", "must name a chip")
	}
	if !(o.TimestepUs >= 0.01 && o.TimestepUs <= 1) {
		return bad("timestep_us", "%g µs is outside 0.01 to 1 µs", o.TimestepUs)
	}
	if n := len(o.SynapseDACBias); n != 1 && n != numQuadrants {
		return bad("synapse_dac_bias", "give one value or one per quadrant (4), got %d", n)
	}
	for i, b := range o.SynapseDACBias {
		if b < 0 || b > capMemMax || b != math.Trunc(b) {
			return bad("synapse_dac_bias", "value %g at index %d is not a CapMem value (0 to 1022)", b, i)
		}
	}
	for name, s := range map[string]int{"clock_scale_slow": o.ClockScaleSlow, "clock_scale_fast": o.ClockScaleFast, "clock_scale_adaptation_pulse": o.ClockScaleAdaptPulse} {
		if s < 0 || s > 15 {
			return bad(name, "%d is outside 0 to 15", s)
		}
	}
	if n := len(o.NeuronBackends); n != 0 && n != 2 {
		return bad("neuron_backends", "give one backend per hemisphere (2), got %d", n)
	}
	for i, b := range o.NeuronBackends {
		for name, s := range map[string]int{"clock_scale_slow": b.ClockScaleSlow, "clock_scale_fast": b.ClockScaleFast} {
			if s < 0 || s > 15 {
				return bad(fmt.Sprintf("neuron_backends[%d].%s", i, name), "%d is outside 0 to 15", s)
			}
		}
	}
	if o.NeuronPermutation != nil {
		seen := map[int]bool{}
		for i, c := range o.NeuronPermutation {
			if c < 0 || c >= numCircuits {
				return bad("neuron_permutation", "circuit %d at index %d does not exist (the chip has circuits 0 to 511)", c, i)
			}
			if seen[c] {
				return bad("neuron_permutation", "circuit %d is listed twice", c)
			}
			seen[c] = true
		}
	}
	if !(o.CADCPeriodUs >= 0.54) {
		return bad("cadc_period_us", "%g µs is faster than the CADC's 1.85 MSample/s per channel", o.CADCPeriodUs)
	}
	if o.CADC != nil {
		if err := o.CADC.check(); err != nil {
			return err
		}
	}
	if o.CrossbarFIFO < 0 {
		return bad("crossbar_fifo_depth", "must not be negative")
	}
	if ic := o.InitialConfig; ic != nil {
		for name, xs := range ic.Neurons {
			pd := userCatalog.Cells[hxNeuron].Param(name)
			if pd == nil {
				return bad("initial_config.neurons."+name, "HXNeuron has no such parameter")
			}
			if len(xs) != numCircuits {
				return bad("initial_config.neurons."+name, "has %d values; give one per circuit (512)", len(xs))
			}
			for i, x := range xs {
				if r := pd.Check(x); r != "" {
					return bad("initial_config.neurons."+name, "%s, got %g at circuit %d", r, x, i)
				}
			}
		}
	}
	for name, x := range map[string]float64{"capmem_offset_mv": o.Mismatch.CapMemOffsetMV, "capmem_gain": o.Mismatch.CapMemGain,
		"source_follower_mv": o.Mismatch.SourceFollowerMV, "comparator_mv": o.Mismatch.ComparatorMV, "current_gain": o.Mismatch.CurrentGain,
		"capacitance": o.Mismatch.Capacitance, "synapse": o.Mismatch.Synapse, "shift_reference_lsb": o.Mismatch.ShiftReferenceLSB,
		"readout_mv": o.Mismatch.ReadoutMV, "madc_offset_mv": o.Mismatch.MADCOffsetMV, "madc_gain": o.Mismatch.MADCGain, "cadc_offset_lsb": o.Mismatch.CADCOffsetLSB} {
		if !(x >= 0 && x < 1e3) {
			return bad("mismatch."+name, "%g must be a non-negative size", x)
		}
	}
	for name, x := range map[string]float64{"capmem_mv": o.Noise.CapMemMV, "current_rel": o.Noise.CurrentRel, "madc_lsb": o.Noise.MADCLSB,
		"cadc_lsb": o.Noise.CADCLSB, "random_phase_us": o.Noise.RandomPhaseUs} {
		if !(x >= 0 && x < 1e4) {
			return bad("noise."+name, "%g must be a non-negative size", x)
		}
	}
	return nil
}

// chipSeed is the seed of a chip's fixed-pattern noise.
func chipSeed(chip string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("brainscales2 chip "))
	h.Write([]byte(chip))
	return h.Sum64()
}

// dacBias returns the synapse DAC bias of quadrant q.
func (o *Options) dacBias(q int) float64 {
	if len(o.SynapseDACBias) == 1 {
		return o.SynapseDACBias[0]
	}
	return o.SynapseDACBias[q]
}

// refractoryClockUs returns the duration of one refractory clock cycle for
// the input clock (0 slow, 1 fast) of a circuit of the hemisphere, in µs.
func (o *Options) refractoryClockUs(fast bool, hemisphere int) float64 {
	s := o.ClockScaleSlow
	if fast {
		s = o.ClockScaleFast
	}
	if len(o.NeuronBackends) == 2 {
		s = o.NeuronBackends[hemisphere].ClockScaleSlow
		if fast {
			s = o.NeuronBackends[hemisphere].ClockScaleFast
		}
	}
	return refractoryBase * math.Pow(2, float64(s))
}
