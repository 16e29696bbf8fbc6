package brainscales2

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// lotParams is the tutorial's leak-over-threshold neuron.
const lotParams = `"leak_v_leak":1000,"leak_i_bias":200,"threshold_v_threshold":300,"reset_v_reset":400,
 "membrane_capacitance_capacitance":63,"refractory_period_refractory_time":120,"threshold_enable":true,
 "reset_i_bias":1022,"reset_enable_multiplication":true`

// desc builds a description for the chip from JSON fragments.
func desc(t testing.TB, options, populations, projections, recordings string) *network.Description {
	t.Helper()
	if options == "" {
		options = "{}"
	}
	if projections == "" {
		projections = "[]"
	}
	if recordings == "" {
		recordings = "[]"
	}
	return decode(t, fmt.Sprintf(`{"format":"nmp-network","version":1,"simulation":{"timestep":3.4e-5,"seed":%d},
	 "system":{"name":"brainscales2","options":%s},"populations":%s,"projections":%s,"recordings":%s}`,
		7, options, populations, projections, recordings))
}

func prepareErr(t *testing.T, d *network.Description) error {
	t.Helper()
	_, err := system.NewRun(context.Background(), System{}, d, system.RunOptions{Threads: 1})
	if err == nil {
		t.Fatal("expected an error")
	}
	return err
}

func wantMention(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestRefusesWhatTheChipCannotDo(t *testing.T) {
	hx := func(n int, label string) string {
		return fmt.Sprintf(`{"label":%q,"size":%d,"cell_type":"HXNeuron","parameters":{%s}}`, label, n, lotParams)
	}
	t.Run("capmem range", func(t *testing.T) {
		d := desc(t, "", `[{"label":"n","size":1,"cell_type":"HXNeuron","parameters":{"leak_v_leak":1023}}]`, "", "")
		wantMention(t, prepareErr(t, d), `"n"`, "leak_v_leak", "0 to 1022", "1023")
	})
	t.Run("too many neurons", func(t *testing.T) {
		d := desc(t, "", "["+hx(300, "a")+","+hx(213, "b")+"]", "", "")
		wantMention(t, prepareErr(t, d), `"b"`, "513", "512 neuron circuits")
	})
	t.Run("three neurons on the MADC", func(t *testing.T) {
		d := desc(t, "", "["+hx(3, "trio")+"]", "", `[{"selection":[{"population":0}],"variables":["v"]}]`)
		wantMention(t, prepareErr(t, d), "at most two neurons", "one on an even and one on an odd circuit", `"trio" neuron 0 (circuit 0)`, `"trio" neuron 2 (circuit 2)`)
	})
	t.Run("two even circuits on the MADC", func(t *testing.T) {
		d := desc(t, "", "["+hx(3, "p")+"]", "", `[{"selection":[{"population":0,"indices":[0,2]}],"variables":["v"]}]`)
		wantMention(t, prepareErr(t, d), "2 even circuits")
	})
	t.Run("two analog variables", func(t *testing.T) {
		d := desc(t, "", "["+hx(1, "p")+"]", "", `[{"selection":[{"population":0}],"variables":["v","exc_synin"]}]`)
		wantMention(t, prepareErr(t, d), "1 analog record type per neuron")
	})
	t.Run("delay", func(t *testing.T) {
		d := desc(t, "", "["+hx(1, "p")+`,{"label":"s","size":1,"cell_type":"SpikeSourceArray"}]`,
			`[{"label":"in","pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":5,"delay":1}},"connector":{"type":"AllToAllConnector"}}]`, "")
		wantMention(t, prepareErr(t, d), `"in"`, "delay unequal 0")
	})
	t.Run("weight sign", func(t *testing.T) {
		d := desc(t, "", "["+hx(1, "p")+`,{"label":"s","size":1,"cell_type":"SpikeSourceArray"}]`,
			`[{"label":"in","pre":[{"population":1}],"post":[{"population":0}],"receptor_type":"inhibitory","synapse":{"type":"StaticSynapse","parameters":{"weight":5}},"connector":{"type":"AllToAllConnector"}}]`, "")
		wantMention(t, prepareErr(t, d), `"in"`, "negative")
	})
	t.Run("synapse rows of a hemisphere", func(t *testing.T) {
		// 257 sources onto one neuron: each needs its own row in that column.
		d := desc(t, "", "["+hx(1, "p")+`,{"label":"many","size":257,"cell_type":"SpikeSourceArray"}]`,
			`[{"label":"fan-in","pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":5}},"connector":{"type":"AllToAllConnector"}}]`, "")
		wantMention(t, prepareErr(t, d), `"fan-in"`, "hemisphere 0", "256 rows", "128 synapse drivers")
	})
	t.Run("parallel synapses beyond a column", func(t *testing.T) {
		d := desc(t, "", "["+hx(1, "p")+`,{"label":"s","size":1,"cell_type":"SpikeSourceArray"}]`,
			`[{"label":"huge","pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":20000}},"connector":{"type":"AllToAllConnector"}}]`, "")
		wantMention(t, prepareErr(t, d), `"huge"`, "synapses in parallel", "256 rows")
	})
	t.Run("background generators", func(t *testing.T) {
		var pops []string
		pops = append(pops, hx(1, "p"))
		for i := 0; i < 9; i++ {
			pops = append(pops, fmt.Sprintf(`{"label":"bg%d","size":1,"cell_type":"SpikeSourcePoissonOnChip","parameters":{"rate":1000,"seed":1}}`, i))
		}
		d := desc(t, "", "["+strings.Join(pops, ",")+"]", "", "")
		wantMention(t, prepareErr(t, d), `"bg8"`, "8 background spike generators")
	})
	t.Run("background rate", func(t *testing.T) {
		d := desc(t, "", "["+hx(1, "p")+`,{"label":"fast","size":100,"cell_type":"SpikeSourcePoissonOnChip","parameters":{"rate":2e6,"seed":1}}]`, "", "")
		wantMention(t, prepareErr(t, d), `"fast"`, "rate can not be realized", "125")
	})
	t.Run("unknown option", func(t *testing.T) {
		d := desc(t, `{"chips":"x"}`, "["+hx(1, "p")+"]", "", "")
		wantMention(t, prepareErr(t, d), "system.options", "chips")
	})
	t.Run("multi-compartment switches", func(t *testing.T) {
		d := desc(t, "", `[{"label":"mc","size":2,"cell_type":"HXNeuron","parameters":{"multicompartment_connect_right":[0,1]}}]`, "", "")
		wantMention(t, prepareErr(t, d), `"mc"`, "multicompartment_connect_right", "not emulated")
	})
	t.Run("initial values", func(t *testing.T) {
		d := desc(t, "", `[{"label":"p","size":1,"cell_type":"HXNeuron","initial_values":{"v":0.5}}]`, "", "")
		wantMention(t, prepareErr(t, d), `"p"`, "cannot be set")
	})
}

func TestRecordActionsKeepTheMADCLimit(t *testing.T) {
	d := desc(t, "", `[{"label":"p","size":4,"cell_type":"HXNeuron","parameters":{`+lotParams+`}}]`, "",
		`[{"selection":[{"population":0,"indices":[0]}],"variables":["v"]}]`)
	s := build(t, d)
	s.run(0.01)
	if err := s.do(actionJSON(t, `{"record":{"selection":[{"population":0,"indices":[2]}],"variables":["v"]}}`)); err == nil {
		t.Fatal("a second even circuit on the MADC was accepted")
	}
	s.must(actionJSON(t, `{"record":{"selection":[{"population":0,"indices":[1]}],"variables":["exc_synin"]}}`))
	s.must(actionJSON(t, `{"record":{"selection":[{"population":0,"indices":[0]}],"variables":[]}}`))
	s.must(actionJSON(t, `{"record":{"selection":[{"population":0,"indices":[2]}],"variables":["v"]}}`))
	// The CADC takes all of them.
	s.must(actionJSON(t, `{"record":{"selection":[{"population":0}],"variables":["v@cadc"]}}`))
	s.run(0.01)
}

func TestPlacement(t *testing.T) {
	d := desc(t, `{"neuron_permutation":[300,301,5]}`,
		`[{"label":"n","size":3,"cell_type":"HXNeuron"},{"label":"s","size":2,"cell_type":"SpikeSourceArray"}]`,
		`[{"label":"e","pre":[{"population":1}],"post":[{"population":0}],"synapse":{"type":"StaticSynapse","parameters":{"weight":100}},"connector":{"type":"AllToAllConnector"}},
		  {"label":"i","pre":[{"population":1}],"post":[{"population":0}],"receptor_type":"inhibitory","synapse":{"type":"StaticSynapse","parameters":{"weight":-30}},"connector":{"type":"AllToAllConnector"}}]`, "")
	s := build(t, d)
	info := s.plan.Info
	neurons := info["neurons"].([]map[string]any)
	if got := fmt.Sprint(neurons[0]["circuits"]); got != "[300 301 5]" {
		t.Errorf("circuits %s, want the permutation", got)
	}
	projs := info["projections"].([]map[string]any)
	// weight 100: 63 + 37 on two rows, for 2 sources x 3 targets.
	if projs[0]["synapses"] != 12 || projs[1]["synapses"] != 6 {
		t.Errorf("synapses used %v and %v, want 12 and 6", projs[0]["synapses"], projs[1]["synapses"])
	}
	for _, h := range info["synapse_arrays"].([]map[string]any) {
		// Two sources share rows (their columns are the same, so they take
		// separate rows): exc 2 sources x 2 layers, inh 2 sources x 1.
		if h["hemisphere"] == 0 && (h["rows_excitatory"] != 4 || h["rows_inhibitory"] != 2) {
			t.Errorf("top hemisphere rows %v", h)
		}
		if h["hemisphere"] == 1 && (h["rows_excitatory"] != 4 || h["rows_inhibitory"] != 2) {
			t.Errorf("bottom hemisphere rows %v", h)
		}
	}
	cp := s.plan.Description.Projections[0].Connections.Parameters["weight"].Array.Float64s()
	for k, q := range cp {
		if math.Abs(q-100.0/63) > 0.3 {
			t.Errorf("connection %d: charge %g, want about 100/63 with mismatch", k, q)
		}
	}
	js, err := json.Marshal(info)
	if err != nil || !strings.Contains(string(js), `"rows"`) {
		t.Errorf("info does not encode: %v", err)
	}
}

func TestSplitWeight(t *testing.T) {
	for w, want := range map[int]string{0: "[0]", 63: "[63]", -64: "[63 1]", 126: "[63 63]", 200: "[63 63 63 11]"} {
		if got := fmt.Sprint(splitWeight(w)); got != want {
			t.Errorf("splitWeight(%d) = %s, want %s", w, got, want)
		}
	}
}

func FuzzOptions(f *testing.F) {
	f.Add([]byte(`{"chip":"a","timestep_us":0.1,"mismatch":{"synapse":0.1}}`))
	f.Add([]byte(`{"chip":3,"synapse_dac_bias":[1,2,3,4],"initial_config":{"neurons":{"leak_i_bias":[1]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseOptions(b)
		if err == nil && (o.TimestepUs <= 0 || o.Chip == "") {
			t.Fatalf("accepted bad options %+v", o)
		}
	})
}
