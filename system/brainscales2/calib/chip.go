// Package calib calibrates a BrainScaleS-2 chip the way calix calibrates
// silicon: it writes CapMem values and switches, measures through the
// columnar ADC (all 512 neurons at once), the membrane ADC (one neuron
// after another) and spike counts, and searches each neuron's parameter
// with calix's algorithms (binary search, noisy binary search, linear
// search, predictive models) until the measurement meets the target. Its
// sequence is calix's (docs/calibration.md): the CADC's ramps and channel
// offsets first, then the spiking neuron calibration (synaptic time
// constants, synapse DAC bias per quadrant, threshold, synaptic gain with
// matching, synaptic reference, COBA when asked, leak, membrane time
// constant, reset, leak again, refractory clocks), the leak-over-threshold
// rate calibration and refine_potentials.
//
// The package sees the chip only through Chip, whose methods carry numbers,
// names and strings: what the real chip exposes. It cannot reach an
// emulated chip's fixed-pattern noise (TestNoHiddenAccess holds this), so
// what it achieves it achieves by measuring, as calix does.
package calib

// Chip is a chip as calix sees it through its connection.
type Chip interface {
	// ID is the chip's unique identity.
	ID() string
	// Configure writes neuron parameters (HXNeuron names, one value per
	// circuit, 512) and global settings (synapse_dac_bias: 4 quadrants,
	// cadc_ramp_offset: 4, cadc_ramp_slope: 4, cadc_channel_offset: 1024,
	// clock_scale_slow: 1, clock_scale_fast: 1).
	Configure(neurons, globals map[string][]float64) error
	// ReadCADCDebug drives every CADC channel with the CapMem debug cell at
	// code and returns each channel's mean over samples reads (1024).
	ReadCADCDebug(code float64, samples int) ([]float64, error)
	// RecordCADC lets the neurons settle for settleUs (then writes step,
	// without a reset), and reads source (v, exc_synin, inh_synin,
	// adaptation) of all 512 neurons samples times, periodUs apart;
	// stimulus events (µs after the settling) reach every neuron through
	// one synapse of weight 63. The reads are sample-major.
	RecordCADC(source string, settleUs float64, samples int, periodUs float64, excUs, inhUs []float64, step map[string][]float64) ([]float64, error)
	// RecordMADC records source of each neuron in turn for recordUs after
	// settleUs (and step), with the stimulus: one trace per neuron, samples
	// madcPeriodUs apart.
	RecordMADC(source string, settleUs, recordUs float64, excUs, inhUs []float64, step map[string][]float64) ([][]float64, error)
	// SpikeTimes records every neuron's spikes for recordUs after settleUs,
	// in µs from the end of the settling.
	SpikeTimes(settleUs, recordUs float64) ([][]float64, error)
}

// The chip's fixed numbers that calibration needs.
const (
	// NumNeurons is the number of neuron circuits (AtomicNeuronOnDLS).
	NumNeurons = 512
	// NumQuadrants is the number of CapMem blocks, 128 neurons each.
	NumQuadrants = 4
	// NumCADCChannels counts the CADC channels (causal 0..511, acausal 512..1023).
	NumCADCChannels = 1024
	// CapMemMax is the largest CapMem value.
	CapMemMax = 1022
	// madcPeriodUs is the time between two MADC samples (500 MHz / 17).
	madcPeriodUs = 0.034
	// refractoryBaseUs is a refractory clock cycle at clock scale 0 (µs):
	// 2^scale / (250 MHz / 2).
	refractoryBaseUs = 0.008
)

// quadrant returns the CapMem quadrant of neuron n: 128 columns of one
// hemisphere.
func quadrant(n int) int { return (n/256)*2 + (n%256)/128 }
