package brainscales1

import (
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// BenchmarkMapFullWafer maps a full wafer: 98,304 neurons of size 2 (all
// 196,608 denmems of 384 HICANNs) with random connectivity of about 10
// million synapses (p = 0.001035), through the whole pipeline (expansion,
// placement, merger routing, L1 routing, driver and synapse assignment,
// parameter translation). docs/performance.md records the figure.
//
// Sub-benchmarks: the backbone router on a wafer without defects (the
// figure), the Dijkstra router, and the backbone on the virtual wafer's own
// defects (denmems, drivers, buses, mergers, synapses).
func BenchmarkMapFullWafer(b *testing.B) {
	for _, c := range []struct {
		name, routing, defects string
	}{{"backbone", "backbone", "none"}, {"dijkstra", "dijkstra", "none"}, {"backbone-defects", "backbone", "default"}} {
		b.Run(c.name, func(b *testing.B) { benchMapFullWafer(b, c.routing, c.defects) })
	}
}

func benchMapFullWafer(b *testing.B, routing, defects string) {
	n := numHICANNs * numDenmems / 2
	if defects != "none" {
		n = n * 9 / 10 // room for the defect denmems
	}
	self := true
	d := &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 0.1, Seed: 7},
		System: &network.Target{Name: "brainscales1", Options: opts(b, map[string]any{"neuron_size": 2, "backend": "none",
			"defects": map[string]any{"backend": defects}, "skip_hicanns_without_neuron_blacklisting": false,
			"continue_despite_synapse_loss": true, "l1_routing": routing})},
		Populations: []network.Population{{Label: "all", Size: n, CellType: "IF_cond_exp"}},
		Projections: []network.Projection{{Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 0}},
			Connector: &network.Connector{Type: "FixedProbabilityConnector", P: 0.001035, AllowSelfConnections: &self},
			Synapse:   network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}}},
	}
	for i := 0; i < b.N; i++ {
		m, err := mapDescription(d)
		if err != nil {
			b.Fatal(err)
		}
		total := int64(len(m.projs[0].src))
		lost := m.lost[lostL1] + m.lost[lostDriver] + m.lost[lostSynapse]
		b.ReportMetric(float64(total), "synapses")
		b.ReportMetric(100*float64(lost)/float64(total), "%lost")
		b.ReportMetric(m.timing["timeExpansion"], "ms-expansion")
		b.ReportMetric(m.timing["timePlacement"], "ms-placement")
		b.ReportMetric(m.timing["timeRouting"], "ms-routing")
		b.ReportMetric(m.timing["timeParameterTranslation"], "ms-translation")
	}
}
