package network

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

func TestDecodeArchiveFromNumpy(t *testing.T) {
	t.Parallel()
	d, err := ReadFile("testdata/archive.npz", DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(d, Standard, Limits{}); err != nil {
		t.Fatal(err)
	}
	st := d.Populations[0].Parameters["spike_times"]
	if st.Kind != KindRagged || len(st.Seq(0)) != 2 || len(st.Seq(1)) != 0 || st.Seq(2)[1] != 5 {
		t.Errorf("spike_times: %v %v %v", st.Seq(0), st.Seq(1), st.Seq(2))
	}
	w := d.Projections[0].Connections.Parameters["weight"]
	if w.Array.Float(2) != 0.3 {
		t.Errorf("weights: %v", w.Array.Float64s())
	}
	// Write it back as an archive and read it again.
	var buf bytes.Buffer
	if err := (Writer{InlineMax: 1}).Encode(&buf, d); err != nil {
		t.Fatal(err)
	}
	d2, err := DecodeBytes(buf.Bytes(), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(d2, Standard, Limits{}); err != nil {
		t.Fatal(err)
	}
	if got := d2.Projections[0].Connections.Post.Array.Int(0); got != 3 {
		t.Errorf("round trip post[0] = %d", got)
	}
	if d.Projections[0].Connections.Pre.ref != "" {
		t.Errorf("Encode left array names behind in the description")
	}
}

func TestValueForms(t *testing.T) {
	t.Parallel()
	js := `{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},
	 "populations":[{"size":2,"cell_type":"IF_cond_exp","parameters":{"v_thresh":[-50,-49],"tau_m":"inf","cm":true},
	   "initial_values":{"v":{"distribution":"uniform","parameters":{"low":-70,"high":-60}}}},
	   {"size":2,"cell_type":"SpikeSourceArray","parameters":{"spike_times":[[1,2],[3]]}},
	   {"size":2,"cell_type":"SpikeSourceArray","parameters":{"spike_times":[1,2,3]}}]}`
	d, err := DecodeJSON([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Populations[0].Parameters
	if v := p["v_thresh"]; v.Kind != KindArray || v.At(1) != -49 {
		t.Errorf("array: %+v", v)
	}
	if v := p["tau_m"]; v.Kind != KindScalar || !math.IsInf(v.Scalar, 1) {
		t.Errorf("inf: %+v", v)
	}
	if v := p["cm"]; v.Scalar != 1 {
		t.Errorf("bool: %+v", v)
	}
	if v := d.Populations[0].InitialValues["v"]; v.Kind != KindRandom || v.Dist.Name != "uniform" {
		t.Errorf("distribution: %+v", v)
	}
	if v := d.Populations[1].Parameters["spike_times"]; v.Kind != KindRagged || len(v.Seq(1)) != 1 {
		t.Errorf("ragged: %+v", v)
	}
	if v := d.Populations[2].Parameters["spike_times"]; v.Kind != KindArray || len(v.Seq(1)) != 3 {
		t.Errorf("shared sequence: %+v", v)
	}
	// tau_m = inf is not a valid membrane time constant.
	err = Validate(d, Standard, Limits{})
	if err == nil || !strings.Contains(err.Error(), "populations[0].parameters.tau_m: is infinite") {
		t.Errorf("expected the infinite tau_m to be named: %v", err)
	}
}

// TestValidationNamesTheProblem checks that each kind of bad input is
// reported at its place, with a message a user can act on.
func TestValidationNamesTheProblem(t *testing.T) {
	t.Parallel()
	base := `{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},
	 "populations":[{"label":"exc","size":4,"cell_type":"IF_curr_exp"},{"label":"in","size":2,"cell_type":"SpikeSourcePoisson"}],
	 "projections":[{"label":"p","pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":0.1,"delay":1}},
	   "connector":{"type":"AllToAllConnector"}}]}`
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown cell type", `"cell_type":"IF_curr_exp"`, `"cell_type":"IF_cur_exp"`, `populations[0] "exc".cell_type: unknown cell type "IF_cur_exp"`},
		{"unknown parameter", `"cell_type":"IF_curr_exp"}`, `"cell_type":"IF_curr_exp","parameters":{"tau":3}}`, `populations[0] "exc".parameters.tau: unknown parameter`},
		{"out of range", `"cell_type":"IF_curr_exp"}`, `"cell_type":"IF_curr_exp","parameters":{"tau_m":[1,2,-3,4]}}`, `populations[0] "exc".parameters.tau_m: must be positive, got -3 at index 2`},
		{"length mismatch", `"cell_type":"IF_curr_exp"}`, `"cell_type":"IF_curr_exp","parameters":{"tau_m":[1,2,3]}}`, `has 3 values for 4 elements`},
		{"index out of bounds", `"post":[{"population":0}]`, `"post":[{"population":0,"indices":[0,7]}]`, `projections[0] "p".post[0].indices: index 7 at position 1 is out of bounds`},
		{"no such population", `"post":[{"population":0}]`, `"post":[{"population":5}]`, `projections[0] "p".post[0].population: there is no population 5`},
		{"delay below timestep", `"delay":1}`, `"delay":0.01}`, `projections[0] "p".delay: delay 0.01 ms is below the timestep 0.1 ms`},
		{"weight sign", `"weight":0.1`, `"weight":-0.1`, `weights must be positive for conductance-based and/or excitatory synapses`},
		{"unknown connector", `"AllToAllConnector"`, `"AllToAllConector"`, `projections[0] "p".connector.type: unknown connector "AllToAllConector"`},
		{"into a source", `"post":[{"population":0}]`, `"post":[{"population":1}]`, `is a spike source and cannot receive connections`},
		{"negative size", `"size":4`, `"size":-4`, `populations[0] "exc".size: must be at least 1, got -4`},
		{"bad receptor", `"synapse":{`, `"receptor_type":"dopamine","synapse":{`, `projections[0] "p".receptor_type: IF_curr_exp has no receptor "dopamine"`},
		{"wrong version", `"version":1`, `"version":7`, `version: is 7; this nmp reads version 1`},
		{"zero timestep", `"timestep":0.1`, `"timestep":0`, `simulation.timestep: must be a positive number of ms`},
		{"huge network", `"size":4`, `"size":2000000000`, `more than the`},
		{"huge projection", `{"type":"AllToAllConnector"}`, `{"type":"FixedProbabilityConnector","p":1}`, ``},
		{"bad probability", `{"type":"AllToAllConnector"}`, `{"type":"FixedProbabilityConnector","p":1.5}`, `projections[0] "p".connector.p: must be a probability between 0 and 1, got 1.5`},
		{"bad distribution", `"weight":0.1`, `"weight":{"distribution":"gauss","parameters":{}}`, `unknown distribution "gauss"`},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			js := strings.Replace(base, c.from, c.to, 1)
			if js == base {
				t.Fatalf("replacement %q not found", c.from)
			}
			d, err := DecodeJSON([]byte(js), nil)
			if err == nil {
				err = Validate(d, Standard, Limits{MaxBytes: 1 << 30})
			}
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n  %v\ndoes not contain\n  %s", err, c.want)
			}
			var ve *ValidationError
			if errors.As(err, &ve) && !errors.Is(err, ErrInvalid) {
				t.Errorf("validation error does not match ErrInvalid")
			}
		})
	}
}

func TestDecodeErrorsHavePlaces(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},"populations":[{"sise":3}]}`:  `unknown field "sise"`,
		`{"format":"nmp-network","version":1,"simulation":{"timestep":"x"}}`:                             `line 1`,
		"{\"format\":\"nmp-network\",\n\"version\":1,\n\"simulation\":{\"timestep\":0.1},}":              `line 3`,
		`{"populations":[{"size":1,"cell_type":"IF_curr_exp","parameters":{"tau_m":{"array":"nope"}}}]}`: `populations[0].parameters.tau_m: the archive has no array "nope"`,
		`{"populations":[{"size":1,"cell_type":"IF_curr_exp","parameters":{"tau_m":{"arr":"x"}}}]}`:      `value object`,
		`{"populations":[{"size":1,"cell_type":"IF_curr_exp","parameters":{"tau_m":"fast"}}]}`:           `got the string "fast"`,
	}
	for js, want := range cases {
		_, err := DecodeJSON([]byte(js), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  got %v\n  want %q", js, err, want)
		}
	}
}

func TestArchiveLimits(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/archive.npz")
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeBytes(b, DecodeOptions{MaxBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("expected the size bound to refuse the archive: %v", err)
	}
	_, err = DecodeBytes([]byte("PK\x03\x04garbage"), DecodeOptions{})
	if err == nil {
		t.Errorf("expected an error for a corrupt archive")
	}
}
