package brainscales1

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

func opts(t testing.TB, o map[string]any) json.RawMessage {
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lossNet is the guidebook's synapse-loss example: 50 neurons, 50 Poisson
// sources, two projections with p = 0.5, neuron size 4, chain length 5.
func lossNet(t testing.TB, seed uint64, o map[string]any) *network.Description {
	self := true
	conn := &network.Connector{Type: "FixedProbabilityConnector", P: 0.5, AllowSelfConnections: &self}
	w := map[string]network.Value{"weight": network.Scalar(0.00425)}
	return &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		System:     &network.Target{Name: "brainscales1", Options: opts(t, o)},
		Populations: []network.Population{
			{Label: "neuron", Size: 50, CellType: "IF_cond_exp"},
			{Label: "source", Size: 50, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{"rate": network.Scalar(2)}},
		},
		Projections: []network.Projection{
			{Pre: network.Selection{{Population: 1}}, Post: network.Selection{{Population: 0}}, ReceptorType: "excitatory", Connector: conn, Synapse: network.Synapse{Type: "StaticSynapse", Parameters: w}},
			{Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 0}}, ReceptorType: "excitatory", Connector: conn, Synapse: network.Synapse{Type: "StaticSynapse", Parameters: w}},
		},
	}
}

func TestSynapseLossExample(t *testing.T) {
	o := map[string]any{"neuron_size": 4, "driver_chain_length": 5, "continue_despite_synapse_loss": true,
		"calib": map[string]any{"backend": "default"}, "skip_hicanns_without_neuron_blacklisting": false, "backend": "none"}
	for seed := uint64(1); seed <= 5; seed++ {
		m, err := mapDescription(lossNet(t, seed, o))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var total, lost int64
		for i := range m.projs {
			for _, s := range m.projs[i].status {
				total++
				if s != realized {
					lost++
				}
			}
		}
		frac := float64(lost) / float64(total)
		t.Logf("seed %d: %d synapses, %d lost (%.1f%%): l1 %d drivers %d synapses %d", seed, total, lost, 100*frac, m.lost[lostL1], m.lost[lostDriver], m.lost[lostSynapse])
		if total < 2237 || total > 2735 {
			t.Errorf("seed %d: %d synapses; the guidebook's example has 2486 +- 10%%", seed, total)
		}
		if frac < 0.18 || frac > 0.28 {
			t.Errorf("seed %d: %.1f%% lost; the guidebook's example loses 23.4%% (want 23 +- 5)", seed, 100*frac)
		}
		if m.lost[lostL1]+m.lost[lostDriver]+m.lost[lostSynapse] != lost {
			t.Errorf("seed %d: the causes (%v) do not add up to the loss %d", seed, m.lost, lost)
		}
	}
}

func TestSynapseLossRefused(t *testing.T) {
	o := map[string]any{"neuron_size": 4, "driver_chain_length": 5, "skip_hicanns_without_neuron_blacklisting": false, "backend": "none"}
	_, err := System{}.Prepare(lossNet(t, 1, o))
	if err == nil || !strings.Contains(err.Error(), "Synapses lost but synapse loss is not accepted") {
		t.Fatalf("err = %v; want marocco's refusal", err)
	}
}

func TestManualPlacementIntro(t *testing.T) {
	d := &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 0.1, Seed: 1},
		System: &network.Target{Name: "brainscales1", Options: opts(t, map[string]any{"defects": map[string]any{"backend": "none"},
			"skip_hicanns_without_neuron_blacklisting": false, "calib": map[string]any{"backend": "default"},
			"manual": []any{map[string]any{"population": 0, "hicanns": []int{enumOf(5, 5)}, "size": 4}}})},
		Populations: []network.Population{{Size: 1, CellType: "IF_cond_exp"}}}
	m, err := mapDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	k := m.pl.of[0][0]
	if h := int(m.pl.hicann[k]); h != enumOf(5, 5) || m.pl.x[k] != 0 || m.pl.size[k] != 4 {
		t.Fatalf("placed on %s at X(%d), size %d; want HICANNOnWafer(X(5), Y(5)), X(0), size 4", hicannName(h), m.pl.x[k], m.pl.size[k])
	}
	// default placement starts at the wafer's centre
	d.System.Options = opts(t, map[string]any{"defects": map[string]any{"backend": "none"}, "skip_hicanns_without_neuron_blacklisting": false})
	m, err = mapDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := hicannName(int(m.pl.hicann[m.pl.of[0][0]])); got != "HICANNOnWafer(X(18), Y(7))" {
		t.Fatalf("default placement chose %s; marocco chooses HICANNOnWafer(X(18), Y(7))", got)
	}
	// without defect data and with the skip flag set, nothing is available
	d.System.Options = opts(t, map[string]any{"defects": map[string]any{"backend": "none"}})
	if _, err := mapDescription(d); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("err = %v; want a capacity error", err)
	}
}

func TestWaferGrid(t *testing.T) {
	if enumOf(18, 7) < 0 || enumOf(0, 0) != -1 || enumOf(12, 0) != 0 || enumOf(23, 15) != 383 {
		t.Fatalf("grid: (18,7)=%d (0,0)=%d (12,0)=%d (23,15)=%d", enumOf(18, 7), enumOf(0, 0), enumOf(12, 0), enumOf(23, 15))
	}
	if h := enumOf(5, 5); hicannXY[h] != [2]int{5, 5} {
		t.Fatal("xy round trip")
	}
	seen := map[int]int{}
	for h := 0; h < numHICANNs; h++ {
		seen[reticleOf(h)]++
	}
	if len(seen) != numReticles {
		t.Fatalf("%d reticles", len(seen))
	}
	for r, n := range seen {
		if n > hicannsPerRet {
			t.Fatalf("reticle %d has %d HICANNs", r, n)
		}
	}
	if got := len(l1AddressOrder("high_first")); got != l1Addresses {
		t.Fatalf("%d L1 addresses", got)
	}
}

func TestBadOptions(t *testing.T) {
	for _, c := range []struct {
		o    map[string]any
		want string
	}{
		{map[string]any{"neuron_size": 3}, "multiple-of-two"},
		{map[string]any{"neuron_size": 66}, "must fit on neuron block"},
		{map[string]any{"driver_chain_length": 0}, "driver_chain_length"},
		{map[string]any{"backend": "fpga"}, "backend"},
		{map[string]any{"defects": map[string]any{"backend": "xml"}}, "defects.path"},
		{map[string]any{"bkg_gen_isi": 1}, "bkg_gen_isi"},
		{map[string]any{"nonsense": 1}, "unknown field"},
		{map[string]any{"manual": []any{map[string]any{"population": 0, "hicanns": []int{400}}}}, "HICANNOnWafer"},
	} {
		d := lossNet(t, 1, c.o)
		_, err := System{}.Prepare(d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v; want it to mention %q", c.o, err, c.want)
		}
	}
}

// A driver chain longer than a quadrant's 56 drivers is taken, as marocco
// takes it, and maps exactly as 56 does; lengths below 1 stay refused.
func TestDriverChainLongerThanQuadrant(t *testing.T) {
	const seed = 3
	lostBy := func(chain int) [3]int64 {
		o := map[string]any{"neuron_size": 4, "driver_chain_length": chain, "continue_despite_synapse_loss": true,
			"calib": map[string]any{"backend": "default"}, "skip_hicanns_without_neuron_blacklisting": false, "backend": "none"}
		m, err := mapDescription(lossNet(t, seed, o))
		if err != nil {
			t.Fatalf("seed %d, driver_chain_length %d: %v", seed, chain, err)
		}
		return [3]int64{m.lost[lostL1], m.lost[lostDriver], m.lost[lostSynapse]}
	}
	at56, at100, at3 := lostBy(56), lostBy(100), lostBy(3)
	if at56 != at100 {
		t.Errorf("seed %d: losses by cause with chain 100 %v differ from chain 56 %v", seed, at100, at56)
	}
	if at3 == at56 {
		t.Errorf("seed %d: chain 3 and 56 lose the same %v: the chain length has no effect, so the test proves nothing", seed, at3)
	}
}

// Spike sources named in manual placement (on_hicann) go to that HICANN, as
// marocco's input placement does, not near their targets.
func TestManualPlacementOfSources(t *testing.T) {
	h := enumOf(12, 5)
	d := &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 0.1, Seed: 1},
		System: &network.Target{Name: "brainscales1", Options: opts(t, map[string]any{"defects": map[string]any{"backend": "none"},
			"skip_hicanns_without_neuron_blacklisting": false, "calib": map[string]any{"backend": "default"}, "backend": "none", "duration_ms": 1000,
			"manual": []any{map[string]any{"population": 1, "hicanns": []int{h}}}})},
		Populations: []network.Population{{Size: 1, CellType: "IF_cond_exp"},
			{Size: 3, CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Scalar(1)}}},
		Projections: []network.Projection{{Pre: network.Selection{{Population: 1}}, Post: network.Selection{{Population: 0}},
			ReceptorType: "excitatory", Connector: &network.Connector{Type: "AllToAllConnector"},
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}}},
	}
	m, err := mapDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	target := int(m.pl.hicann[m.pl.of[0][0]])
	if target == h {
		t.Fatalf("the target neuron sits on %s too: the test cannot tell manual from default input placement", hicannName(h))
	}
	for i := 0; i < 3; i++ {
		if got := int(m.pl.hicann[m.pl.of[1][i]]); got != h {
			t.Errorf("source %d placed on %s; manual placement named %s", i, hicannName(got), hicannName(h))
		}
	}
}
