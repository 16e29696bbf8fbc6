package benchmark

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The guidebook's example (chapter 7.1.2).
const guidebookReport = `{
  "model": "ModelB", "task": "taskB3alpha", "timestamp": "2015-06-05T11:13:59.535885",
  "results": [
    {"type": "quality", "name": "norm_diff_frequency", "value": 0.0073371188622418891, "measure": "norm"},
    {"type": "performance", "name": "setup_time", "value": 0.026206016540527344, "units": "s", "measure": "time"},
    {"type": "performance", "name": "run_time", "value": 1.419724941253662, "units": "s", "measure": "time", "std_dev": 0.1, "min": 1.2, "max": 1.6}
  ]
}`

func TestParseReport(t *testing.T) {
	r, err := ParseReport([]byte(guidebookReport), "ModelB", "taskB3alpha")
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "ModelB" || len(r.Results) != 3 || r.Results[0].Value != 0.0073371188622418891 || r.Results[2].StdDev == nil || *r.Results[2].Max != 1.6 ||
		!r.Timestamp.Equal(time.Date(2015, 6, 5, 11, 13, 59, 535885000, time.UTC)) || len(r.Filled) != 0 {
		t.Fatalf("%+v", r)
	}
	// The public repository's scripts write no model or task: the job's are taken.
	r, err = ParseReport([]byte(`{"timestamp": "2016-03-15T20:44:06+01:00", "results": [{"type": "quality", "name": "ks", "value": 0.5, "measure": "min-p-value"}],
		"configuration": {"model": {"N": 8}}, "command_line_options": {"simulator": "nmp"}}`), "SpikeSourcePoisson", "run20s")
	if err != nil {
		t.Fatal(err)
	}
	if r.Model != "SpikeSourcePoisson" || r.Task != "run20s" || strings.Join(r.Filled, ",") != "model,task" || r.Timestamp.Hour() != 19 || string(r.Configuration) != `{"model": {"N": 8}}` {
		t.Fatalf("%+v", r)
	}
}

func TestParseReportErrors(t *testing.T) {
	ok := `"model": "M", "task": "T", "timestamp": "2015-06-05T11:13:59"`
	for _, tc := range []struct{ in, want string }{
		{`[]`, "must be a JSON object"},
		{`{"model": "X", "task": "T", "timestamp": "2015-06-05", "results": []}`, `model: "X", but the job ran model "M"`},
		{`{"model": "M", "task": "T", "results": []}`, "timestamp: missing"},
		{`{"model": "M", "task": "T", "timestamp": "yesterday", "results": []}`, `timestamp: "yesterday" is not an ISO 8601`},
		{`{` + ok + `}`, "results: missing"},
		{`{` + ok + `, "results": []}`, "results: empty"},
		{`{` + ok + `, "results": [{"type": "quality", "value": 1, "measure": "norm"}]}`, "results[0]: name: missing"},
		{`{` + ok + `, "results": [{"name": "a", "value": 1, "measure": "norm"}]}`, `results[0]: ("a") type: missing`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "value": 1}]}`, `("a") measure: missing`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m"}]}`, `("a") value: missing`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": "1.0"}]}`, `a string, "1.0", where a number belongs`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": NaN}]}`, `("a") value: NaN is not a finite number`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": 1, "std_dev": -Infinity}]}`, `std_dev: -Infinity is not a finite number`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": 1, "std_dev": -1}]}`, `std_dev: -1 is negative`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": 1, "min": 2, "max": 1}]}`, `min 2 is above max 1`},
		{`{` + ok + `, "results": [{"name": "a", "type": "q", "measure": "m", "value": 1}, {"name": "a", "type": "q", "measure": "m", "value": 2}]}`, `results[1] ("a"): the name is used by results[0] too`},
	} {
		_, err := ParseReport([]byte(tc.in), "M", "T")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant ...%s...", tc.in, err, tc.want)
		}
	}
	// NaN inside a string is text, not a number.
	if _, err := ParseReport([]byte(`{`+ok+`, "results": [{"name": "NaN Infinity", "type": "q", "measure": "m", "value": 1}]}`), "M", "T"); err != nil {
		t.Error(err)
	}
}

func TestIsReport(t *testing.T) {
	if !IsReport([]byte(guidebookReport)) || !IsReport([]byte(`{"results": [{"value": NaN}]}`)) {
		t.Error("a report not recognised")
	}
	if IsReport([]byte(`{"setup": {"timestep": 0.1}}`)) || IsReport([]byte(`[1]`)) || IsReport([]byte(`x`)) {
		t.Error("not a report, recognised")
	}
}

func TestBand(t *testing.T) {
	if _, ok := BandOf([]float64{1, 2, 3}); ok {
		t.Error("a band from 2 earlier values")
	}
	b, ok := BandOf([]float64{1.0, 1.1, 0.9, 1.0, 1.05})
	if !ok || b.Regressed || b.N != 4 || math.Abs(b.Mean-1.0) > 1e-12 {
		t.Fatalf("%+v", b)
	}
	if b, _ := BandOf([]float64{1.0, 1.1, 0.9, 1.0, 2.0}); !b.Regressed {
		t.Errorf("a jump not flagged: %+v", b)
	}
	// A deterministic measure flags any change, and no change.
	if b, _ := BandOf([]float64{0.5, 0.5, 0.5, 0.5}); b.Regressed {
		t.Errorf("no change flagged: %+v", b)
	}
	if b, _ := BandOf([]float64{0.5, 0.5, 0.5, 0.5001}); !b.Regressed {
		t.Errorf("a change of a deterministic value not flagged: %+v", b)
	}
	// Only the last Window values count.
	vals := append(make([]float64, 50), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	if b, _ := BandOf(vals); b.N != Window || b.Regressed {
		t.Errorf("%+v", b)
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add([]byte(guidebookReport))
	f.Add([]byte(`{"timestamp": "2015-06-05", "results": [{"name": "x", "type": "q", "measure": "m", "value": NaN, "min": Infinity}]}`))
	f.Add([]byte(`{"model": "M", "results": [{"name": "\"NaN\\\"", "value": -Infinity}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReport(data, "M", "T")
		if err != nil {
			return
		}
		if r.Model != "M" || r.Task != "T" || len(r.Results) == 0 || r.Timestamp.IsZero() {
			t.Fatalf("accepted %+v", r)
		}
		for _, res := range r.Results {
			if math.IsNaN(res.Value) || math.IsInf(res.Value, 0) || res.Name == "" || res.Type == "" || res.Measure == "" {
				t.Fatalf("accepted result %+v", res)
			}
		}
	})
}
