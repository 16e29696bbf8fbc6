// Package network is nmp's network description: the one versioned format in
// which front ends (the PyNN backend, description files, the CLI) hand an
// experiment to the Go side. A Description holds the network (populations,
// projections, current sources, recording requests), the simulation settings
// and the run schedule. It is read from JSON, or from a zip archive in numpy's
// .npz layout holding the JSON document and the large arrays as .npy members,
// and it is checked by Validate before anything runs.
//
// The format is documented in docs/network-description.md.
package network

import (
	"encoding/json"

	"github.com/nmp-platform/nmp/npy"
)

// FormatName and FormatVersion identify the format in every document.
const (
	FormatName    = "nmp-network"
	FormatVersion = 1
)

// Description is a whole experiment.
type Description struct {
	Format  string `json:"format"`
	Version int    `json:"version"`

	Simulation     Simulation      `json:"simulation"`
	System         *Target         `json:"system,omitempty"`
	Populations    []Population    `json:"populations"`
	Projections    []Projection    `json:"projections,omitempty"`
	CurrentSources []CurrentSource `json:"current_sources,omitempty"`
	Recordings     []Recording     `json:"recordings,omitempty"`
	Schedule       []Action        `json:"schedule,omitempty"`

	Annotations map[string]any `json:"annotations,omitempty"`

	// arrays holds the binary members an archive brought, by name, until they
	// are resolved into the Values that reference them.
	arrays map[string]*npy.Array
}

// Simulation holds the settings of PyNN's setup().
type Simulation struct {
	// Timestep is the integration step in ms (PyNN's default 0.1).
	Timestep float64 `json:"timestep"`
	// MinDelay and MaxDelay are in ms; 0 means "auto": the timestep, and the
	// largest delay of any projection.
	MinDelay float64 `json:"min_delay,omitempty"`
	MaxDelay float64 `json:"max_delay,omitempty"`
	// Seed derives every random stream of the simulation.
	Seed uint64 `json:"seed"`
	// Threads is a hint; the command line overrides it. 0 means all cores.
	Threads int `json:"threads,omitempty"`
}

// Target names the system the description is written for (its "system"
// field), with that system's own options (chip identity, calibration, ...).
// Absent means the ideal reference. It is a reference to a system, not the
// system itself, which is package system's.
type Target struct {
	Name    string          `json:"name"`
	Options json.RawMessage `json:"options,omitempty"`
}

// Population is a group of neurons or spike sources of one cell type.
type Population struct {
	Label    string `json:"label,omitempty"`
	Size     int    `json:"size"`
	CellType string `json:"cell_type"`
	// Parameters and InitialValues map names to homogeneous or per-neuron values.
	// Missing parameters take the cell type's defaults.
	Parameters    map[string]Value `json:"parameters,omitempty"`
	InitialValues map[string]Value `json:"initial_values,omitempty"`
	Annotations   map[string]any   `json:"annotations,omitempty"`
}

// Selection is a set of neurons a projection connects, recording covers or a
// current source feeds: one or more populations (an Assembly), each whole or a
// subset (a PopulationView). Its neurons are numbered in the order of the
// parts, and within a part in the order of its indices.
type Selection []SelectionPart

// SelectionPart is a whole population, or the listed neurons of it.
type SelectionPart struct {
	Population int `json:"population"`
	// Indices lists neurons of the population; nil means all of them.
	Indices *Value `json:"indices,omitempty"`
}

// Projection is a set of connections from one selection to another, of one
// synapse type, onto one receptor type.
type Projection struct {
	Label        string    `json:"label,omitempty"`
	Pre          Selection `json:"pre"`
	Post         Selection `json:"post"`
	ReceptorType string    `json:"receptor_type,omitempty"`
	Synapse      Synapse   `json:"synapse"`
	// Exactly one of Connector and Connections is set.
	Connector   *Connector   `json:"connector,omitempty"`
	Connections *Connections `json:"connections,omitempty"`
}

// Synapse is a synapse type with its parameters. Weight and delay, and any
// other per-connection parameter, may be overridden per connection by
// Connections or drawn by a Connector.
type Synapse struct {
	Type       string           `json:"type"`
	Parameters map[string]Value `json:"parameters,omitempty"`
	// For STDPMechanism: the timing rule and weight dependence, each a
	// component with its own type and parameters.
	TimingDependence *Component `json:"timing_dependence,omitempty"`
	WeightDependence *Component `json:"weight_dependence,omitempty"`
}

// Component is a part of a composite synapse type.
type Component struct {
	Type       string           `json:"type"`
	Parameters map[string]Value `json:"parameters,omitempty"`
}

// Connector is a procedural connection rule, expanded on the Go side from a
// seed.
type Connector struct {
	Type string `json:"type"`
	// P for FixedProbabilityConnector.
	P float64 `json:"p,omitempty"`
	// N for FixedNumberPreConnector and FixedNumberPostConnector (per neuron),
	// and FixedTotalNumberConnector (in all).
	N int `json:"n,omitempty"`
	// AllowSelfConnections defaults to true, as in PyNN.
	AllowSelfConnections *bool `json:"allow_self_connections,omitempty"`
	// WithReplacement lets FixedNumber connectors draw a partner more than once.
	WithReplacement bool `json:"with_replacement,omitempty"`
	// Seed overrides the stream derived from the simulation seed and the
	// projection's position.
	Seed *uint64 `json:"seed,omitempty"`
}

// Self reports whether self connections are allowed.
func (c *Connector) Self() bool { return c.AllowSelfConnections == nil || *c.AllowSelfConnections }

// Connections is an explicit connection list: the i-th connection goes from
// neuron Pre[i] of the pre selection to Post[i] of the post selection.
// Parameters holds per-connection values (weight, delay, U, ...) or
// homogeneous ones.
type Connections struct {
	Pre        Value            `json:"pre"`
	Post       Value            `json:"post"`
	Parameters map[string]Value `json:"parameters,omitempty"`
}

// CurrentSource injects current into a selection of neurons.
type CurrentSource struct {
	Label      string           `json:"label,omitempty"`
	Type       string           `json:"type"`
	Parameters map[string]Value `json:"parameters,omitempty"`
	Targets    Selection        `json:"targets"`
}

// Recording asks for variables of a selection to be recorded.
type Recording struct {
	Selection Selection `json:"selection"`
	Variables []string  `json:"variables"`
	// SamplingInterval in ms for sampled signals; 0 means the timestep.
	SamplingInterval float64 `json:"sampling_interval,omitempty"`
}

// Action is one step of the run schedule. Exactly one field is set.
type Action struct {
	// Run advances the simulation by this many ms.
	Run *float64 `json:"run,omitempty"`
	// Reset returns to t = 0 with the initial values, starting a new segment
	// of results. Synaptic weights keep their values, as in PyNN.
	Reset bool `json:"reset,omitempty"`
	// Set changes parameters or initial values of a population.
	Set *SetAction `json:"set,omitempty"`
	// SetSynapses changes a parameter (weight, delay, ...) of a projection's connections.
	SetSynapses *SetSynapsesAction `json:"set_synapses,omitempty"`
	// Record replaces the recording requests of a selection: the listed
	// variables are recorded from now on; an empty list stops recording.
	Record *Recording `json:"record,omitempty"`
	// SetCurrentSource changes a current source's parameters.
	SetCurrentSource *SetCurrentSourceAction `json:"set_current_source,omitempty"`
}

// SetAction changes parameters of neurons of a selection.
type SetAction struct {
	Selection Selection `json:"selection"`
	// Parameters and InitialValues are given for the selection's neurons, in
	// its order. Initial values take effect on the next reset, or at once
	// when nothing has run yet; Initialize sets the current state now.
	Parameters    map[string]Value `json:"parameters,omitempty"`
	InitialValues map[string]Value `json:"initial_values,omitempty"`
	State         map[string]Value `json:"state,omitempty"`
}

// SetSynapsesAction sets one parameter of all connections of a projection,
// in the projection's connection order (see docs/network-description.md).
type SetSynapsesAction struct {
	Projection int              `json:"projection"`
	Parameters map[string]Value `json:"parameters"`
}

// SetCurrentSourceAction changes a current source's parameters.
type SetCurrentSourceAction struct {
	Source     int              `json:"source"`
	Parameters map[string]Value `json:"parameters"`
}
