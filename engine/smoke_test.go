package engine

import (
	"context"
	"math"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

func f64(x float64) *float64 { return &x }

func TestSmokeLIF(t *testing.T) {
	d := &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: 1},
		Populations: []network.Population{{Label: "n", Size: 1, CellType: "IF_curr_exp",
			Parameters: map[string]network.Value{"i_offset": network.Scalar(0.1), "v_thresh": network.Scalar(100)}}},
		Recordings: []network.Recording{{Selection: network.Selection{{Population: 0}}, Variables: []string{"v", "spikes"}}},
	}
	s, err := New(d, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), 100, nil); err != nil {
		t.Fatal(err)
	}
	seg := s.Segments()[0]
	sig := seg.Signals[0]
	if sig.Samples() != 1001 {
		t.Fatalf("samples %d", sig.Samples())
	}
	for k := 0; k <= 1000; k += 100 {
		tt := float64(k) * 0.1
		want := -65 + 20*0.1*(1-math.Exp(-tt/20))
		if math.Abs(sig.Data[k]-want) > 1e-9 {
			t.Errorf("t=%g v=%g want %g", tt, sig.Data[k], want)
		}
	}
}
