package brainscales1

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// TestBadKnobsAndLimits sweeps bad values of every option (marocco's knobs,
// the ESS configuration, the runtime's low-level settings) and every
// mapping limit: each gives an error naming what is wrong, none panics.
func TestBadKnobsAndLimits(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"backend": "none", "defects": map[string]any{"backend": "none"}, "skip_hicanns_without_neuron_blacklisting": false}
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyDir := t.TempDir()
	disabled := t.TempDir()
	if err := os.WriteFile(filepath.Join(disabled, "wafer-Wafer(33).xml"), []byte("<redman><hicanns>"+itoa(enumOf(5, 5))+"</hicanns></redman>"), 0o644); err != nil {
		t.Fatal(err)
	}
	badXML := t.TempDir()
	if err := os.WriteFile(filepath.Join(badXML, "hicann-33-0.xml"), []byte("<redman><neurons>7 x</neurons></redman>"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := enumOf(5, 5)
	knobs := []struct {
		key  string
		val  any
		want string
	}{
		{"wafer", -1, "system.options.wafer"},
		{"backend", "Hardwar", `"Hardwar" is not a marocco backend`},
		{"neuron_size", 0, "multiple-of-two neuron size"},
		{"neuron_size", 3, "multiple-of-two neuron size"},
		{"neuron_size", 66, "must fit on neuron block"},
		{"driver_chain_length", 0, "driver_chain_length"},
		{"driver_chain_length", -3, "driver_chain_length"},
		{"defects", map[string]any{"backend": "sql"}, "not a redman backend"},
		{"defects", map[string]any{"backend": "xml"}, "defects.path"},
		{"defects", map[string]any{"backend": "xml", "path": notDir}, "is not a directory of redman XML files"},
		{"defects", map[string]any{"backend": "xml", "path": badXML}, `"x" is not a component Enum`},
		{"calib", map[string]any{"backend": "json"}, "not a calibtic backend"},
		{"l1_address_assignment", "random", "not a strategy"},
		{"l1_routing", "astar", "not an L1 routing algorithm"},
		{"bkg_gen_isi", 1, "background generator's range"},
		{"bkg_gen_isi", 70000, "background generator's range"},
		{"pll_freq", 1e6, "not a HICANN PLL frequency"},
		{"pll_freq", 1e9, "not a HICANN PLL frequency"},
		{"duration_ms", -5, "duration_ms"},
		{"ess", map[string]any{"weight_distortion": -0.1}, "weight_distortion"},
		{"ess", map[string]any{"timestep": 5}, "ess.timestep"},
		{"unknown_knob", 1, `unknown field "unknown_knob"`},
		{"neuron_size", "four", "system.options"},
		{"manual", []any{map[string]any{"population": 9, "hicanns": []int{h}}}, "population 9 does not exist"},
		{"manual", []any{map[string]any{"population": 0, "hicanns": []int{384}}}, "not a HICANNOnWafer Enum"},
		{"manual", []any{map[string]any{"population": 0, "blocks": [][2]int{{h, 8}}}}, "not a neuron block"},
		{"manual", []any{map[string]any{"population": 0, "neurons": [][2]int{{h, 256}}}}, "not a logical neuron's first denmem"},
		{"manual", []any{map[string]any{"population": 0, "neurons": [][2]int{{h, 31}}, "size": 4}}, "does not fit at NeuronOnHICANN(X(31), top)"},
		{"manual", []any{map[string]any{"population": 0, "hicanns": []int{h}, "size": 5}}, "manual[0].size"},
		{"manual", []any{map[string]any{"population": 0, "hicanns": []int{h}, "mask": []int{200}}}, "neuron 200 does not exist"},
		{"manual", []any{map[string]any{"population": 1, "blocks": [][2]int{{h, 0}}}}, "spike sources are placed on HICANNs"},
		{"manual", []any{map[string]any{"population": 0, "hicanns": []int{h}, "size": 64}}, "does not fit on HICANNOnWafer(X(5), Y(5))"},
		{"hicanns", []any{map[string]any{"hicann": 400}}, "hicanns[0].hicann"},
		{"hicanns", []any{map[string]any{"hicann": h, "v_gmax": [4][4]float64{{2000}}}}, "floating-gate values are 0..1023"},
		{"hicanns", []any{map[string]any{"hicann": h, "gmax_div": []int{1, 2}}}, "want 896"},
		{"hicanns", []any{map[string]any{"hicann": h, "weights": [][3]int{{0, 0, 16}}}}, "SynapseWeight 0..15"},
		{"hicanns", []any{map[string]any{"hicann": h, "weights": [][3]int{{448, 0, 1}}}}, "row 0..447"},
	}
	net := func(o map[string]any) *network.Description {
		return &network.Description{Format: network.FormatName, Version: network.FormatVersion,
			Simulation: network.Simulation{Timestep: 0.1, Seed: 1},
			System:     &network.Target{Name: "brainscales1", Options: opts(t, o)},
			Populations: []network.Population{{Label: "cells", Size: 20, CellType: "IF_cond_exp"},
				{Label: "stim", Size: 5, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{"rate": network.Scalar(5)}}},
			Projections: []network.Projection{{Label: "in", Pre: network.Selection{{Population: 1}}, Post: network.Selection{{Population: 0}},
				Connector: &network.Connector{Type: "AllToAllConnector"}, ReceptorType: "excitatory",
				Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}}},
		}
	}
	check := func(name string, d *network.Description, want string) {
		t.Helper()
		_, err := System{}.Prepare(d)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v; want %q", name, err, want)
		}
	}
	for _, k := range knobs {
		o := base()
		o[k.key] = k.val
		b, _ := json.Marshal(k.val)
		check(k.key+"="+string(b), net(o), k.want)
	}
	// mapping limits and what the wafer cannot do
	o := base()
	o["defects"] = map[string]any{"backend": "xml", "path": disabled}
	o["manual"] = []any{map[string]any{"population": 0, "hicanns": []int{h}}}
	check("manual placement on a disabled HICANN", net(o), "HICANNOnWafer(X(5), Y(5)) is not available")
	o = base()
	o["defects"] = map[string]any{"backend": "xml", "path": emptyDir}
	o["skip_hicanns_without_neuron_blacklisting"] = true
	check("no HICANN with defect data", net(o), "capacity")

	d := net(base())
	d.Populations[0].Size = numHICANNs*numDenmems/4 + 1
	check("capacity", d, "hardware capacity too low")
	d = net(base())
	d.Populations[1].Parameters["rate"] = network.Scalar(5e4)
	d.Populations[1].Size = 500
	check("input bandwidth", d, "input placement failed for spike sources")
	o = base()
	o["driver_chain_length"] = 1
	o["neuron_size"] = 2
	d = net(o)
	d.Projections = append(d.Projections, network.Projection{Label: "rec", Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 0}},
		Connector: &network.Connector{Type: "AllToAllConnector"}, ReceptorType: "excitatory", Synapse: d.Projections[0].Synapse})
	check("synapse loss", d, "Synapses lost but synapse loss is not accepted")
	d = net(base())
	d.Populations[0].Parameters = map[string]network.Value{"i_offset": network.Scalar(0.1)}
	check("i_offset", d, "i_offset, are not supported")
	d = net(base())
	d.Projections[0].ReceptorType = "NMDA"
	check("receptor", d, `has no receptor "NMDA"`)
	d = net(base())
	d.Projections[0].Synapse.Parameters["weight"] = network.Scalar(-0.001)
	check("negative weight", d, "weights must be positive")
	d = net(base())
	d.Populations[0].CellType = "IF_curr_exp"
	check("cell type", d, "IF_curr_exp")
	d = net(base())
	d.Projections[0].Synapse = network.Synapse{Type: "TsodyksMarkramSynapse", Parameters: map[string]network.Value{
		"weight": network.Scalar(0.001), "U": network.Floats([]float64{0.1})}}
	check("STP per synapse", d, "set per synapse driver")
	d = net(base())
	d.Projections[0].Synapse = network.Synapse{Type: "STDPMechanism"}
	check("STDP", d, "STDPMechanism")
}
