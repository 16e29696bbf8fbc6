package brainscales1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Options are the system options of a description for the wafer: what
// pymarocco's PyMarocco object, the runtime's sthal wafer and the ESS
// configuration hold (docs/brainscales1.md lists them with marocco's names).
type Options struct {
	// Wafer is the wafer's number (marocco.default_wafer; the WAFER
	// environment variable of the seed's scripts). Each virtual wafer has
	// its own defects and fixed-pattern noise, drawn from this number.
	Wafer int `json:"wafer"`
	// Backend is "none" (map only), "ess" or "hardware".
	Backend string `json:"backend"`
	// NeuronSize is neuron_placement.default_neuron_size: denmems per
	// logical neuron, even, 2..64.
	NeuronSize int `json:"neuron_size"`
	// DriverChainLength is synapse_routing.driver_chain_length (>= 1; as
	// with marocco, a chain longer than a quadrant's 56 drivers acts as 56).
	DriverChainLength int `json:"driver_chain_length"`
	// ContinueDespiteSynapseLoss is marocco.continue_despite_synapse_loss.
	ContinueDespiteSynapseLoss bool `json:"continue_despite_synapse_loss"`
	// SkipHICANNsWithoutNeuronBlacklisting: when true (marocco's default),
	// HICANNs whose denmem blacklist is missing are not used.
	SkipHICANNsWithoutNeuronBlacklisting *bool `json:"skip_hicanns_without_neuron_blacklisting,omitempty"`
	// Defects: backend "default" (the virtual wafer's own defect set),
	// "xml" (redman files in Path), or "none"/"without" (no defects).
	Defects Store `json:"defects"`
	// Calib: backend "binary" or "xml" (the virtual wafer's calibration,
	// or calibtic files in Path), or "default" (no calibration).
	Calib Store `json:"calib"`
	// Manual is manual_placement's requests.
	Manual []Manual `json:"manual,omitempty"`
	// L1AddressAssignment: "high_first" (default), "low_first", "alternating".
	L1AddressAssignment string `json:"l1_address_assignment,omitempty"`
	// L1Routing is l1_routing.algorithm: "backbone" (default) or "dijkstra".
	L1Routing string `json:"l1_routing,omitempty"`
	// UseBigCapacitors is param_trafo.use_big_capacitors (default true).
	UseBigCapacitors *bool `json:"use_big_capacitors,omitempty"`
	// BkgGenISI (clock cycles) and PLLFreq (Hz) as PyMarocco has them.
	BkgGenISI int     `json:"bkg_gen_isi,omitempty"`
	PLLFreq   float64 `json:"pll_freq,omitempty"`
	// DurationMs is the run the build is for (biological ms): the FPGA's
	// playback is planned for it and Poisson sources are drawn over it.
	DurationMs float64 `json:"duration_ms,omitempty"`
	// ESS is the ESS configuration (pysthal.ESSConfig).
	ESS ESSConfig `json:"ess"`
	// HICANNs are low-level settings of the sthal wafer the user changed
	// after mapping (floating gates, gmax_div, digital weights).
	HICANNs []HICANNConfig `json:"hicanns,omitempty"`
}

// Store names where defects or calibration come from.
type Store struct {
	Backend string `json:"backend"`
	Path    string `json:"path,omitempty"`
}

// Manual is one manual placement request.
type Manual struct {
	Population int `json:"population"`
	// Mask lists the population's neurons it covers (nil: all).
	Mask []int `json:"mask,omitempty"`
	// HICANNs, Blocks ([HICANN, block]) or Neurons ([HICANN, x of the
	// first denmem]) restrict where; none of them: only the size.
	HICANNs []int    `json:"hicanns,omitempty"`
	Blocks  [][2]int `json:"blocks,omitempty"`
	Neurons [][2]int `json:"neurons,omitempty"`
	// Size is denmems per neuron (0: the default size).
	Size int `json:"size,omitempty"`
}

// ESSConfig is pysthal.ESSConfig.
type ESSConfig struct {
	EnableWeightDistortion bool    `json:"enable_weight_distortion"`
	WeightDistortion       float64 `json:"weight_distortion"`
	// Timestep is the integration step in biological ms (default 0.1).
	Timestep float64 `json:"timestep,omitempty"`
}

// HICANNConfig holds a HICANN's low-level settings.
type HICANNConfig struct {
	HICANN int `json:"hicann"`
	// VGmax[block][k] is shared_parameter.V_gmax<k> of floating-gate block
	// block (0..1023); nil keeps the translation's values.
	VGmax *[4][4]float64 `json:"v_gmax,omitempty"`
	// GmaxDiv, when set, holds 896 values: driver d (0..223), row r (0,1),
	// side s (left 0, right 1) at 4*d+2*r+s; -1 keeps the translation's.
	GmaxDiv []int `json:"gmax_div,omitempty"`
	// Weights overrides digital weights: [row 0..447, column 0..255, weight 0..15].
	Weights [][3]int `json:"weights,omitempty"`
	// Shared holds other shared floating-gate parameters the user set
	// (V_dllres, V_ccas, ...): accepted and reported, not modelled.
	Shared map[string]float64 `json:"shared,omitempty"`
}

func parseOptions(raw []byte) (Options, error) {
	o := Options{Wafer: 33, Backend: "hardware", NeuronSize: 4, DriverChainLength: 3,
		Defects: Store{Backend: "default"}, Calib: Store{Backend: "binary"}, L1AddressAssignment: "high_first", L1Routing: "backbone",
		BkgGenISI: 125, PLLFreq: 125e6}
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return o, fmt.Errorf("system.options: %w", err)
		}
	}
	return o, o.check()
}

func (o *Options) check() error {
	if o.Wafer < 0 || o.Wafer > 1<<20 {
		return fmt.Errorf("system.options.wafer: %d is not a wafer number", o.Wafer)
	}
	switch o.Backend {
	case "none", "ess", "hardware":
	default:
		return fmt.Errorf("system.options.backend: %q is not a marocco backend (None, ESS, Hardware)", o.Backend)
	}
	if err := checkNeuronSize(o.NeuronSize); err != nil {
		return fmt.Errorf("system.options.neuron_size (neuron_placement.default_neuron_size): %w", err)
	}
	if o.DriverChainLength < 1 {
		return fmt.Errorf("system.options.driver_chain_length (synapse_routing.driver_chain_length): %d is out of range: a chain holds at least 1 synapse driver", o.DriverChainLength)
	}
	switch o.Defects.Backend {
	case "default", "none", "without":
	case "xml":
		if o.Defects.Path == "" {
			return fmt.Errorf("system.options.defects.path: the XML defects backend needs marocco.defects.path")
		}
	default:
		return fmt.Errorf("system.options.defects.backend: %q is not a redman backend (XML, None, Without)", o.Defects.Backend)
	}
	switch o.Calib.Backend {
	case "binary", "default":
	case "xml":
	default:
		return fmt.Errorf("system.options.calib.backend: %q is not a calibtic backend (XML, Binary, Default)", o.Calib.Backend)
	}
	switch o.L1AddressAssignment {
	case "high_first", "low_first", "alternating":
	default:
		return fmt.Errorf("system.options.l1_address_assignment: %q is not a strategy (high_first, low_first, alternating)", o.L1AddressAssignment)
	}
	switch o.L1Routing {
	case "backbone", "dijkstra":
	default:
		return fmt.Errorf("system.options.l1_routing: %q is not an L1 routing algorithm (backbone, dijkstra)", o.L1Routing)
	}
	if o.BkgGenISI < 2 || o.BkgGenISI > 65535 {
		return fmt.Errorf("system.options.bkg_gen_isi: %d clock cycles is out of the background generator's range (2, 65535)", o.BkgGenISI)
	}
	if !(o.PLLFreq >= 50e6 && o.PLLFreq <= 250e6) {
		return fmt.Errorf("system.options.pll_freq: %g Hz is not a HICANN PLL frequency (50 to 250 MHz; marocco's default is 125 MHz)", o.PLLFreq)
	}
	if math.IsNaN(o.DurationMs) || o.DurationMs < 0 || o.DurationMs > 1e8 {
		return fmt.Errorf("system.options.duration_ms: %g is not a run duration", o.DurationMs)
	}
	if o.ESS.WeightDistortion < 0 || math.IsNaN(o.ESS.WeightDistortion) || o.ESS.WeightDistortion > 10 {
		return fmt.Errorf("system.options.ess.weight_distortion: %g is not a fraction (>= 0)", o.ESS.WeightDistortion)
	}
	if o.ESS.Timestep == 0 {
		o.ESS.Timestep = 0.1
	}
	if !(o.ESS.Timestep >= 0.001 && o.ESS.Timestep <= 1) {
		return fmt.Errorf("system.options.ess.timestep: %g ms is out of range (0.001 to 1)", o.ESS.Timestep)
	}
	for i, m := range o.Manual {
		if m.Size != 0 {
			if err := checkNeuronSize(m.Size); err != nil {
				return fmt.Errorf("system.options.manual[%d].size: %w", i, err)
			}
		}
		for _, h := range m.HICANNs {
			if h < 0 || h >= numHICANNs {
				return fmt.Errorf("system.options.manual[%d].hicanns: %d is not a HICANNOnWafer Enum (0..383)", i, h)
			}
		}
		for _, b := range m.Blocks {
			if b[0] < 0 || b[0] >= numHICANNs || b[1] < 0 || b[1] >= numBlocks {
				return fmt.Errorf("system.options.manual[%d].blocks: %v is not a neuron block (HICANN 0..383, block 0..7)", i, b)
			}
		}
		for _, n := range m.Neurons {
			if n[0] < 0 || n[0] >= numHICANNs || n[1] < 0 || n[1] >= denmemsPerRow {
				return fmt.Errorf("system.options.manual[%d].neurons: %v is not a logical neuron's first denmem (HICANN 0..383, X 0..255)", i, n)
			}
		}
	}
	for i, h := range o.HICANNs {
		if h.HICANN < 0 || h.HICANN >= numHICANNs {
			return fmt.Errorf("system.options.hicanns[%d].hicann: %d is not a HICANNOnWafer Enum", i, h.HICANN)
		}
		if h.VGmax != nil {
			for b := range h.VGmax {
				for k, v := range h.VGmax[b] {
					if !(v >= 0 && v <= 1023) {
						return fmt.Errorf("system.options.hicanns[%d]: V_gmax%d of FGBlockOnHICANN(%d) is %g; floating-gate values are 0..1023", i, k, b, v)
					}
				}
			}
		}
		if h.GmaxDiv != nil && len(h.GmaxDiv) != 4*numDrivers {
			return fmt.Errorf("system.options.hicanns[%d].gmax_div: %d values; want %d (224 drivers x 2 rows x 2 sides)", i, len(h.GmaxDiv), 4*numDrivers)
		}
		for _, g := range h.GmaxDiv {
			if g < -1 || g > 15 {
				return fmt.Errorf("system.options.hicanns[%d].gmax_div: %d is out of range 0..15", i, g)
			}
		}
		for _, w := range h.Weights {
			if w[0] < 0 || w[0] >= numRows || w[1] < 0 || w[1] >= denmemsPerRow || w[2] < 0 || w[2] > 15 {
				return fmt.Errorf("system.options.hicanns[%d].weights: %v is not [row 0..447, column 0..255, SynapseWeight 0..15]", i, w)
			}
		}
	}
	return nil
}

// checkNeuronSize is marocco's rule for logical neuron sizes.
func checkNeuronSize(n int) error {
	if n <= 0 || n%2 != 0 || n > 2*columnsPerBlock {
		return fmt.Errorf("neuron size %d: marocco requires multiple-of-two neuron size, must fit on neuron block (2, 4, ..., 64)", n)
	}
	return nil
}

func (o *Options) bigCaps() bool { return o.UseBigCapacitors == nil || *o.UseBigCapacitors }

func (o *Options) skipUnblacklisted() bool {
	return o.SkipHICANNsWithoutNeuronBlacklisting == nil || *o.SkipHICANNsWithoutNeuronBlacklisting
}
