package compare

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
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

// TestChangesFromReports: the weight discretisation of Spikey (a mapping
// report recorded from nmp compare on examples/benchmarks' synfire chain,
// its synapse table cut to 16 entries) and of SpiNNaker (a report in the
// shape the systems agreed on: "changes" entries of what "weights", and
// "weights_quantised"; written by hand until system/spinnaker reports it)
// become cause lines, once each.
func TestChangesFromReports(t *testing.T) {
	for _, tc := range []struct {
		file, detail, count string
		entries             int
	}{
		{"mapping-spikey.json", "4-bit synapses' steps of 0.001 uS", "weights_quantised: 3200 (the system's mapping report)", 8},
		{"mapping-spinnaker-convention.json", "16-bit synaptic word", "weights_quantised: 400 (the system's mapping report)", 1},
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		ref := &Run{Platform: "Demo", Populations: []*Population{pop("a", "IF_cond_exp", []float64{1})}}
		hw := &Run{Platform: "Chip", Mapping: m, Populations: []*Population{pop("a", "IF_cond_exp", []float64{1})}}
		got := changes(ref, hw)
		weights, counts := 0, 0
		for _, c := range got {
			if strings.HasPrefix(c, "weights: ") && strings.Contains(c, tc.detail) {
				weights++
			}
			if c == tc.count {
				counts++
			}
		}
		if weights != tc.entries || counts != 1 || len(got) != tc.entries+1 {
			t.Errorf("%s: %d weight lines (want %d), %d count lines, in all %q", tc.file, weights, tc.entries, counts, got)
		}
	}
}
