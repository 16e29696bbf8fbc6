package compare

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestVanRossum(t *testing.T) {
	if d := VanRossum([]float64{10, 20}, []float64{10, 20}, 5); d != 0 {
		t.Errorf("same trains: %g", d)
	}
	if d := VanRossum([]float64{1, 50, 100}, nil, 5); math.Abs(d-math.Sqrt(1.5)) > 1e-3 {
		t.Errorf("three spikes against none: %g, want sqrt(3/2)", d)
	}
	// One spike shifted by dt: D^2 = 1 - exp(-dt/tau).
	if d := VanRossum([]float64{10}, []float64{12}, 5); math.Abs(d*d-(1-math.Exp(-2.0/5))) > 1e-12 {
		t.Errorf("shifted: %g", d)
	}
	if VanRossum([]float64{10}, []float64{11}, 5) >= VanRossum([]float64{10}, []float64{14}, 5) {
		t.Error("a larger shift must be farther")
	}
}

func pop(label, cell string, trains ...[]float64) *Population {
	return &Population{Label: label, Size: len(trains), CellType: cell, Trains: trains, Recorded: len(trains)}
}

func TestCompare(t *testing.T) {
	ref := &Run{Platform: "Demo", System: "reference", SimulatedMs: 1000, ProjectionSizes: []int{400, 400}, ProjectionLabels: []string{"a->b", "b->c"},
		Populations: []*Population{pop("a", "IF_cond_exp", []float64{10}, []float64{11}), pop("b", "IF_cond_exp", []float64{14, 500}, []float64{15}),
			{Label: "in", Size: 3, CellType: "SpikeSourceArray"}}}
	hw := &Run{Platform: "Chip", System: "chip", SimulatedMs: 1000, ProjectionSizes: []int{400, 380}, ProjectionLabels: []string{"a->b", "b->c"},
		Mapping: map[string]any{"crossbar": map[string]any{"events": 900.0, "dropped": 12.0}, "weights_quantised": 3.0, "lost_ok": 0.0,
			"changes": []any{map[string]any{"what": "weights", "detail": "0.0015 uS becomes 0.0016 uS (6 bits)"}}},
		Populations: []*Population{pop("a", "IF_cond_exp", []float64{10}, []float64{11}), pop("b", "HXNeuron", []float64{16}, nil)}}
	refused := &Run{Platform: "Other", Refused: "AttributeError: no IF_cond_exp"}
	rep := Compare([]*Run{ref, hw, refused}, 5)
	if rep.Reference != "Demo" || len(rep.Systems) != 3 {
		t.Fatalf("%+v", rep)
	}
	h := rep.Systems[1]
	want := []string{`population "b": HXNeuron instead of the reference's IF_cond_exp`, `projection "b->c": 380 connections, the reference made 400 (20 lost)`,
		"weights: 0.0015 uS becomes 0.0016 uS (6 bits)", "crossbar.dropped: 12", "weights_quantised: 3"}
	if len(h.Changes) != len(want) {
		t.Fatalf("changes %q", h.Changes)
	}
	for i, w := range want {
		if !strings.HasPrefix(h.Changes[i], w) {
			t.Errorf("change %d: %q, want %q...", i, h.Changes[i], w)
		}
	}
	a, b := h.Populations[0], h.Populations[1]
	if *a.VanRossum != 0 || *a.RateDiffHz != 0 || *a.FirstDiffMs != 0 {
		t.Errorf("identical population a: %+v", a)
	}
	if math.Abs(*b.RateDiffHz-(-1)) > 1e-12 || *b.FirstDiffMs != 2 || *b.VanRossum <= 0 || b.Active != 1 {
		t.Errorf("population b: rate diff %g, first %g, van Rossum %g", *b.RateDiffHz, *b.FirstDiffMs, *b.VanRossum)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("the report does not marshal: %v", err)
	}
	text := rep.Text()
	for _, w := range []string{"== Chip", "did not run the script: AttributeError: no IF_cond_exp", "(spikes not recorded)", "20 lost", "van Rossum"} {
		if !strings.Contains(text, w) {
			t.Errorf("the report lacks %q:\n%s", w, text)
		}
	}
}
