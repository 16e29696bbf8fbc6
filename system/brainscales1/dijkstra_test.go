package brainscales1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// pairNet: one neuron on HICANN a projecting to one on HICANN b, with the
// defects of the redman files in dir.
func pairNet(t *testing.T, a, b int, dir, algorithm string) *network.Description {
	o := map[string]any{"backend": "none", "defects": map[string]any{"backend": "xml", "path": dir}, "l1_routing": algorithm,
		"skip_hicanns_without_neuron_blacklisting": false, "continue_despite_synapse_loss": true,
		"manual": []any{map[string]any{"population": 0, "hicanns": []int{a}}, map[string]any{"population": 1, "hicanns": []int{b}}}}
	return &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation:  network.Simulation{Timestep: 0.1, Seed: 1},
		System:      &network.Target{Name: "brainscales1", Options: opts(t, o)},
		Populations: []network.Population{{Label: "pre", Size: 1, CellType: "IF_cond_exp"}, {Label: "post", Size: 1, CellType: "IF_cond_exp"}},
		Projections: []network.Projection{{Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 1}},
			Connector: &network.Connector{Type: "AllToAllConnector"}, ReceptorType: "excitatory",
			Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}}},
	}
}

func writeRedman(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDijkstraDetours: a HICANN in the way (disabled, or with every
// horizontal bus out through defect repeaters) cuts the backbone's route,
// which loses the synapse in L1 routing; the Dijkstra router goes around.
func TestDijkstraDetours(t *testing.T) {
	a, mid, b := enumOf(10, 7), enumOf(12, 7), enumOf(14, 7)
	all := make([]string, numHLines)
	for i := range all {
		all[i] = itoa(i)
	}
	for what, files := range map[string]map[string]string{
		"disabled HICANN": {"wafer-33.xml": "<redman><hicanns>" + itoa(mid) + "</hicanns></redman>"},
		"defect repeaters": {"hicann-33-" + itoa(mid) + ".xml": "<redman><hrepeaters>" + strings.Join(all[:32], " ") + "</hrepeaters><hbuses>" +
			strings.Join(all[32:], " ") + "</hbuses></redman>"},
	} {
		dir := t.TempDir()
		writeRedman(t, dir, files)
		m, err := mapDescription(pairNet(t, a, b, dir, "backbone"))
		if err != nil {
			t.Fatal(err)
		}
		if m.lost[lostL1] != 1 {
			t.Fatalf("%s: backbone lost %d synapses in L1 routing; want 1 (the route is cut)", what, m.lost[lostL1])
		}
		m, err = mapDescription(pairNet(t, a, b, dir, "dijkstra"))
		if err != nil {
			t.Fatal(err)
		}
		if m.projs[0].status[0] != realized {
			t.Fatalf("%s: dijkstra: the synapse was lost (cause %d)", what, m.projs[0].status[0])
		}
		if m.net.hUsed[mid] != 0 || m.net.vUsed[mid][0]+m.net.vUsed[mid][1] != 0 {
			t.Fatalf("%s: the route used the blocked HICANN", what)
		}
		detour := 0
		for h := 0; h < numHICANNs; h++ {
			if hicannXY[h][1] != 7 && (m.net.hUsed[h] > 0 || m.net.vUsed[h][0]+m.net.vUsed[h][1] > 0) {
				detour++
			}
		}
		if detour == 0 {
			t.Fatalf("%s: no bus off row 7 used", what)
		}
		t.Logf("%s: dijkstra detours over %d HICANNs off the row", what, detour)
	}
}

// TestDijkstraMatchesBackboneWithoutDefects: on a clean wafer the two
// routers realise the synapse-loss example alike (no L1 loss either way).
func TestDijkstraMatchesBackboneWithoutDefects(t *testing.T) {
	for _, alg := range []string{"backbone", "dijkstra"} {
		o := map[string]any{"neuron_size": 4, "driver_chain_length": 5, "continue_despite_synapse_loss": true, "l1_routing": alg,
			"defects": map[string]any{"backend": "none"}, "skip_hicanns_without_neuron_blacklisting": false, "backend": "none"}
		m, err := mapDescription(lossNet(t, 1, o))
		if err != nil {
			t.Fatal(err)
		}
		if m.lost[lostL1] != 0 || m.net.failed != 0 {
			t.Fatalf("%s: %d synapses lost in L1 routing", alg, m.lost[lostL1])
		}
	}
}

// TestDefectSynapses: synapses named defect are never used; a neuron whose
// every synapse of a row is defect loses what it would have had there.
func TestDefectSynapses(t *testing.T) {
	dir := t.TempDir()
	a, b := enumOf(10, 7), enumOf(10, 8)
	m, err := mapDescription(pairNet(t, a, b, dir, "backbone"))
	if err != nil {
		t.Fatal(err)
	}
	pc := &m.projs[0]
	if pc.status[0] != realized {
		t.Fatal("the synapse was not realised on a clean HICANN")
	}
	row, col := int(pc.row[0]), int(pc.col[0])
	writeRedman(t, dir, map[string]string{"hicann-33-" + itoa(b) + ".xml": "<redman><synapses>" + itoa(row*denmemsPerRow+col) + "</synapses></redman>"})
	m, err = mapDescription(pairNet(t, a, b, dir, "backbone"))
	if err != nil {
		t.Fatal(err)
	}
	pc = &m.projs[0]
	if pc.status[0] != realized || (int(pc.row[0]) == row && int(pc.col[0]) == col) {
		t.Fatalf("the synapse %d: row %d col %d; the defect synapse was row %d col %d", pc.status[0], pc.row[0], pc.col[0], row, col)
	}
	// every synapse row out: nothing left
	var rows []string
	for r := 0; r < numRows; r++ {
		rows = append(rows, itoa(r))
	}
	writeRedman(t, dir, map[string]string{"hicann-33-" + itoa(b) + ".xml": "<redman><synapserows>" + strings.Join(rows, " ") + "</synapserows></redman>"})
	m, err = mapDescription(pairNet(t, a, b, dir, "backbone"))
	if err != nil {
		t.Fatal(err)
	}
	if m.projs[0].status[0] != lostSynapse {
		t.Fatalf("status %d with every synapse row defect; want lost for want of synapses", m.projs[0].status[0])
	}
	// a defect synapse array disables its drivers
	writeRedman(t, dir, map[string]string{"hicann-33-" + itoa(b) + ".xml": "<redman><synapsearrays>0 1</synapsearrays></redman>"})
	m, err = mapDescription(pairNet(t, a, b, dir, "backbone"))
	if err != nil {
		t.Fatal(err)
	}
	if m.projs[0].status[0] != lostDriver {
		t.Fatalf("status %d with both synapse arrays defect; want lost for want of drivers", m.projs[0].status[0])
	}
}
