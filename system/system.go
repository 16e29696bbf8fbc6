// Package system defines what a neuromorphic system is to nmp, and keeps the
// registry of the systems this nmp emulates. A system takes a network
// description written for it, checks it against its resources, maps and
// translates it into what the shared engine runs, and turns the engine's
// results into what the real system would report. The ideal reference
// system (system/reference) does none of this; hardware emulations
// (system/brainscales2, ...) do all of it.
package system

import (
	"fmt"
	"sort"
	"sync"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

// System is one emulated system.
type System interface {
	// Name is the system's name in descriptions and on the command line.
	Name() string
	// Catalog is the models a user may write for the system.
	Catalog() *network.Catalog
	// Prepare validates d (network.Validate with Catalog), checks it against
	// the system's resources and returns the plan the engine runs. It must
	// not modify d. Errors name the population, projection or parameter and
	// the limit.
	Prepare(d *network.Description) (*Plan, error)
}

// Plan is a description mapped onto a system.
type Plan struct {
	// Description is what the engine runs.
	Description *network.Description
	// Catalog and Models are the engine-level models of Description (nil:
	// PyNN's standard library).
	Catalog *network.Catalog
	Models  map[string]engine.ModelFactory
	// Action translates an action between runs (nil: passed on as it is).
	// It may refuse what the system cannot do.
	Action func(a *network.Action) ([]network.Action, error)
	// Readout turns the engine's segments into the system's (nil: as they are).
	Readout func(segs []*engine.Segment) ([]*engine.Segment, error)
	// Info describes the mapping (placement, resources used) for the user
	// and for provenance.
	Info map[string]any
	// Validated says that Prepare validated Description itself against
	// Catalog (as when it passes on the description it was given), so that
	// the engine does not check it again.
	Validated bool
}

var (
	mu       sync.RWMutex
	registry = map[string]System{}
)

// Register makes a system available by name. Systems register in init.
func Register(s System) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[s.Name()]; dup {
		panic("system: registered twice: " + s.Name())
	}
	registry[s.Name()] = s
}

// Lookup returns the named system.
func Lookup(name string) (System, error) {
	mu.RLock()
	defer mu.RUnlock()
	if s, ok := registry[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown system %q (this nmp emulates: %v)", name, namesLocked())
}

// Names returns the registered systems' names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// For returns the system a description asks for: its "system" field, or
// the reference when it has none. override, when not empty, wins.
func For(d *network.Description, override string) (System, error) {
	name := override
	if name == "" && d.System != nil {
		name = d.System.Name
	}
	if name == "" {
		name = "reference"
	}
	return Lookup(name)
}
