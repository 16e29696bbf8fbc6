package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// coba is the Vogels-Abbott / Brette et al. (2007) COBA network: 4000
// IF_cond_exp neurons, 80/20 excitatory/inhibitory, 2 % connectivity, 6/67 nS,
// random initial state as in Brian's version.
func coba(seed uint64) *network.Description {
	cell := map[string]network.Value{
		"cm": network.Scalar(0.2), "tau_m": network.Scalar(20), "v_rest": network.Scalar(-60),
		"v_thresh": network.Scalar(-50), "v_reset": network.Scalar(-60), "tau_refrac": network.Scalar(5),
		"tau_syn_E": network.Scalar(5), "tau_syn_I": network.Scalar(10), "e_rev_E": network.Scalar(0), "e_rev_I": network.Scalar(-80),
	}
	init := map[string]network.Value{
		"v":        network.Random("normal", map[string]float64{"mu": -65, "sigma": 5}),
		"gsyn_exc": network.Random("normal", map[string]float64{"mu": 0.04, "sigma": 0.015}),
		"gsyn_inh": network.Random("normal", map[string]float64{"mu": 0.2, "sigma": 0.12}),
	}
	proj := func(pre, post int, w float64, rec string) network.Projection {
		return network.Projection{Pre: network.Selection{{Population: pre}}, Post: network.Selection{{Population: post}},
			ReceptorType: rec, Connector: &network.Connector{Type: "FixedProbabilityConnector", P: 0.02},
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(w), "delay": network.Scalar(0.1)}}}
	}
	return &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		Populations: []network.Population{
			{Label: "exc", Size: 3200, CellType: "IF_cond_exp", Parameters: cell, InitialValues: init},
			{Label: "inh", Size: 800, CellType: "IF_cond_exp", Parameters: cell, InitialValues: init},
		},
		Projections: []network.Projection{
			proj(0, 0, 0.006, "excitatory"), proj(0, 1, 0.006, "excitatory"),
			proj(1, 0, 0.067, "inhibitory"), proj(1, 1, 0.067, "inhibitory"),
		},
		Recordings: []network.Recording{
			{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}},
			{Selection: network.Selection{{Population: 1}}, Variables: []string{"spikes"}},
		},
	}
}

func BenchmarkCOBA(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			var spikes int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, err := New(coba(uint64(i+1)), Options{Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := s.Run(context.Background(), 1000, nil); err != nil {
					b.Fatal(err)
				}
				seg := s.Segments()[0]
				spikes = len(seg.Spikes[0].IDs) + len(seg.Spikes[1].IDs)
			}
			b.ReportMetric(float64(spikes)/4000, "Hz")
		})
	}
}
