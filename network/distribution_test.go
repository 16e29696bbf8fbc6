package network

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/internal/rng"
)

// TestDistributionOpenBounds checks that normal_clipped's infinite bounds
// (PyNN's low=-numpy.inf, high=numpy.inf) are read from the strings "-inf"
// and "inf", drawn from, and written back the same way.
func TestDistributionOpenBounds(t *testing.T) {
	t.Parallel()
	js := `{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},
	 "populations":[{"size":50,"cell_type":"IF_curr_exp",
	   "initial_values":{"v":{"distribution":"normal_clipped","parameters":{"mu":-65,"sigma":5,"low":"-inf","high":-60}}}},
	  {"size":5,"cell_type":"IF_curr_exp"}],
	 "projections":[{"pre":[{"population":0}],"post":[{"population":1}],
	   "synapse":{"type":"StaticSynapse","parameters":{"delay":1,
	     "weight":{"distribution":"normal_clipped_to_boundary","parameters":{"mu":0.1,"sigma":0.1,"low":0,"high":"inf"}}}},
	   "connector":{"type":"AllToAllConnector"}}]}`
	d, err := DecodeJSON([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(d, Standard, Limits{}); err != nil {
		t.Fatal(err)
	}
	v := d.Populations[0].InitialValues["v"].Dist
	if !math.IsInf(v.Parameters["low"], -1) || v.Parameters["high"] != -60 {
		t.Fatalf("v parameters: %v", v.Parameters)
	}
	w := d.Projections[0].Synapse.Parameters["weight"].Dist
	if !math.IsInf(w.Parameters["high"], 1) || w.Parameters["low"] != 0 {
		t.Fatalf("weight parameters: %v", w.Parameters)
	}
	const seed = 7
	t.Logf("seed %d", seed)
	r := rng.New(seed)
	for _, dist := range []*Distribution{v, w} {
		if err := dist.Check(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if x := v.Draw(&r); !(x <= -60) || math.IsInf(x, 0) {
			t.Fatalf("normal_clipped(-inf, -60) drew %v", x)
		}
		if x := w.Draw(&r); !(x >= 0) || math.IsInf(x, 0) {
			t.Fatalf("normal_clipped_to_boundary(0, inf) drew %v", x)
		}
	}

	// Written back, as JSON and as an archive, and read again.
	var buf bytes.Buffer
	if err := (Writer{}).Encode(&buf, d); err != nil {
		t.Fatal(err)
	}
	d2, err := DecodeBytes(buf.Bytes(), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := d2.Populations[0].InitialValues["v"].Dist.Parameters; !math.IsInf(p["low"], -1) || p["mu"] != -65 {
		t.Errorf("round trip: %v", p)
	}
	if p := d2.Projections[0].Synapse.Parameters["weight"].Dist.Parameters; !math.IsInf(p["high"], 1) {
		t.Errorf("round trip: %v", p)
	}
	b, err := d.Populations[0].InitialValues["v"].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"distribution":"normal_clipped","parameters":{"high":-60,"low":"-inf","mu":-65,"sigma":5}}`; string(b) != want {
		t.Errorf("MarshalJSON = %s, want %s", b, want)
	}
}

// TestDistributionNonFiniteParameters checks that non-finite numbers are
// refused where they mean nothing, with the distribution and parameter named.
func TestDistributionNonFiniteParameters(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"distribution":"uniform","parameters":{"low":0,"high":"inf"}}`:                              `distribution "uniform": high must be finite`,
		`{"distribution":"normal_clipped","parameters":{"mu":"inf","sigma":1,"low":0,"high":1}}`:      `distribution "normal_clipped": mu must be finite`,
		`{"distribution":"normal_clipped","parameters":{"mu":0,"sigma":1,"low":"nan","high":1}}`:      `distribution "normal_clipped": low is not a number`,
		`{"distribution":"normal_clipped","parameters":{"mu":0,"sigma":1,"low":"inf","high":"-inf"}}`: `low is above high`,
		`{"distribution":"normal","parameters":{"mu":0,"sigma":"wide"}}`:                              `distribution "normal" parameter "sigma": got the string "wide"`,
		`{"distribution":"normal","parameters":{"mu":0,"sigma":[1,2]}}`:                               `distribution "normal" parameter "sigma": expected a number (got array)`,
	}
	for js, want := range cases {
		var v Value
		err := v.UnmarshalJSON([]byte(js))
		if err == nil {
			err = v.Dist.Check()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  got %v\n  want %q", js, err, want)
		}
	}
}
