package engine

import (
	"context"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// cellNet is n neurons of a cell type driven by Poisson sources through
// excitatory and inhibitory projections and connected among themselves,
// with a steady current offset; it is the workload of the model benchmarks
// and of the thread-count test.
func cellNet(cell string, n int, params map[string]network.Value, wE, wI, wRec, rate float64, seed uint64) *network.Description {
	if params == nil {
		params = map[string]network.Value{}
	}
	rec := "excitatory"
	if wRec < 0 {
		rec = "inhibitory"
	}
	proj := func(pre, post int, w float64, receptor string, p float64) network.Projection {
		return network.Projection{Pre: network.Selection{{Population: pre}}, Post: network.Selection{{Population: post}},
			ReceptorType: receptor, Connector: &network.Connector{Type: "FixedProbabilityConnector", P: p},
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(w), "delay": network.Scalar(0.5)}}}
	}
	return &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		Populations: []network.Population{
			{Label: "noise", Size: 50, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{"rate": network.Scalar(rate)}},
			{Label: "cells", Size: n, CellType: cell, Parameters: params},
		},
		Projections: []network.Projection{
			proj(0, 1, wE, "excitatory", 0.3), proj(0, 1, wI, "inhibitory", 0.1), proj(1, 1, wRec, rec, 0.1),
		},
	}
}

// benchCells are workloads that keep each model firing at a moderate rate.
var benchCells = []struct {
	cell       string
	params     map[string]network.Value
	wE, wI, wR float64
}{
	{"IF_cond_exp", nil, 0.0012, 0.004, 0.0002},
	{"EIF_cond_exp_isfa_ista", nil, 0.0008, 0.001, 0.0002},
	{"EIF_cond_alpha_isfa_ista", nil, 0.0003, 0.0004, 0.0001},
	{"HH_cond_exp", nil, 0.004, 0.01, 0.001},
	{"Izhikevich", nil, 1, -1, 0.2},
	{"GIF_cond_exp", nil, 0.002, 0.004, 0.0005},
}

// BenchmarkModels reports the cost of a neuron-step of each model in a
// network of 1000 neurons firing at a few Hz to a few tens of Hz.
func BenchmarkModels(b *testing.B) {
	for _, bc := range benchCells {
		if _, ok := StandardModels[bc.cell]; !ok {
			continue
		}
		b.Run(bc.cell, func(b *testing.B) {
			const n, ms = 1000, 200.0
			var spikes int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := cellNet(bc.cell, n, bc.params, bc.wE, bc.wI, bc.wR, 200, uint64(i+1))
				d.Recordings = []network.Recording{{Selection: network.Selection{{Population: 1}}, Variables: []string{"spikes"}}}
				s, err := New(d, Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := s.Run(context.Background(), ms, nil); err != nil {
					b.Fatal(err)
				}
				spikes = len(s.Segments()[0].Spikes[1].IDs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*ms/0.1), "ns/neuron-step")
			b.ReportMetric(float64(spikes)/n/(ms/1000), "Hz")
		})
	}
}
