package engine

import (
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// A synapse type the catalog knows but the engine cannot run must be
// refused, not run as a static synapse.
func TestUnimplementedSynapseTypeRefused(t *testing.T) {
	cat := network.Standard.Clone()
	cat.Synapses["NoSuchDynamics"] = &network.SynapseType{Name: "NoSuchDynamics",
		Params: []network.Param{{Name: "weight"}, {Name: "delay", Units: "ms"}}}
	d := &network.Description{Format: network.FormatName, Version: 1,
		Simulation:  network.Simulation{Timestep: 0.1, Seed: 1},
		Populations: []network.Population{{Size: 2, CellType: "IF_cond_exp"}},
		Projections: []network.Projection{{Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 0}},
			Synapse:   network.Synapse{Type: "NoSuchDynamics"},
			Connector: &network.Connector{Type: "AllToAllConnector"}}},
	}
	_, err := New(d, Options{Threads: 1, Catalog: cat})
	if err == nil || !strings.Contains(err.Error(), "NoSuchDynamics has no implementation") {
		t.Fatalf("err = %v, want a refusal naming the synapse type", err)
	}
}
