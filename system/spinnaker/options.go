package spinnaker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Options are the system options of a description for SpiNNaker (what
// pyNN.spiNNaker's setup() and spynnaker.cfg give).
type Options struct {
	// Version is a single board's version (3: 4 chips, 5: 48 chips), as
	// spynnaker.cfg's [Machine] version; 0 means the large machine, from
	// which the job gets the boards it needs.
	Version int `json:"version,omitempty"`
	// Boards is setup(n_boards_required=...): that many 48-chip boards.
	Boards int `json:"n_boards_required,omitempty"`
	// Virtual is [Machine] virtual_board: map, route and report, but run
	// nothing (runs advance the time and record no data).
	Virtual bool `json:"virtual_board,omitempty"`
	// TimeScaleFactor slows the machine: a tick lasts dt·factor of wall
	// time. 0: sPyNNaker's default, max(1, ceil(1 ms / dt)).
	TimeScaleFactor float64 `json:"time_scale_factor,omitempty"`
	// Machine describes the machine and its faults (docs/spinnaker.md).
	Machine *MachineFile `json:"machine,omitempty"`
	// SpikesPerSecond and RingBufferSigma are the weight-scaling
	// statistics' defaults (spynnaker.cfg [Simulation]: 30 and 5).
	SpikesPerSecond float64 `json:"spikes_per_second,omitempty"`
	RingBufferSigma float64 `json:"ring_buffer_sigma,omitempty"`
	// MaxAtomsPerCore by cell type (set_number_of_neurons_per_core).
	MaxAtomsPerCore map[string]int `json:"max_atoms_per_core,omitempty"`
	// Populations holds per-population settings by population index.
	Populations map[string]PopOptions `json:"populations,omitempty"`
}

// PopOptions are one population's settings.
type PopOptions struct {
	MaxAtomsPerCore int     `json:"max_atoms_per_core,omitempty"`
	SpikesPerSecond float64 `json:"spikes_per_second,omitempty"`
	RingBufferSigma float64 `json:"ring_buffer_sigma,omitempty"`
}

func parseOptions(raw []byte) (Options, error) {
	o := Options{}
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return o, fmt.Errorf("system.options: %w", err)
		}
	}
	if o.SpikesPerSecond == 0 {
		o.SpikesPerSecond = 30
	}
	if o.RingBufferSigma == 0 {
		o.RingBufferSigma = 5
	}
	switch {
	case o.Version != 0 && o.Version != 3 && o.Version != 5 && o.Version != 2 && o.Version != 4:
		return o, fmt.Errorf("system.options.version: %d: nmp emulates SpiNNaker-1 boards of version 3 (4 chips) and 5 (48 chips)", o.Version)
	case o.Boards < 0 || o.Boards > 1200:
		return o, fmt.Errorf("system.options.n_boards_required: %d is outside 1..1200", o.Boards)
	case o.TimeScaleFactor < 0 || math.IsNaN(o.TimeScaleFactor) || math.IsInf(o.TimeScaleFactor, 0):
		return o, fmt.Errorf("system.options.time_scale_factor: %g must be positive", o.TimeScaleFactor)
	case o.SpikesPerSecond < 0 || o.RingBufferSigma < 0:
		return o, fmt.Errorf("system.options: spikes_per_second and ring_buffer_sigma must be positive")
	}
	for k, v := range o.MaxAtomsPerCore {
		if v < 1 || v > maxAtomsPerCoreDef {
			return o, fmt.Errorf("system.options.max_atoms_per_core.%s: %d is outside 1..%d (a synaptic row indexes at most 256 neurons)", k, v, maxAtomsPerCoreDef)
		}
	}
	for k, p := range o.Populations {
		if p.MaxAtomsPerCore < 0 || p.MaxAtomsPerCore > maxAtomsPerCoreDef {
			return o, fmt.Errorf("system.options.populations.%s.max_atoms_per_core: %d is outside 1..%d (a synaptic row indexes at most 256 neurons)", k, p.MaxAtomsPerCore, maxAtomsPerCoreDef)
		}
		if p.SpikesPerSecond < 0 || p.RingBufferSigma < 0 {
			return o, fmt.Errorf("system.options.populations.%s: spikes_per_second and ring_buffer_sigma must be positive", k)
		}
	}
	if o.Machine != nil {
		if _, err := ParseMachineFile(mustJSON(o.Machine)); err != nil {
			return o, fmt.Errorf("system.options.machine: %w", err)
		}
	}
	return o, nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// tsf is the time scale factor for a time step of dt ms.
func (o *Options) tsf(dt float64) float64 {
	if o.TimeScaleFactor > 0 {
		return o.TimeScaleFactor
	}
	return math.Max(1, math.Ceil(1/dt-1e-9))
}
