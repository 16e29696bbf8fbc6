package brainscales1

import (
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// TestSTPOwnDrivers: a source's static and depressing synapses onto the
// same neurons take separate synapse drivers (STP is set per driver), and
// the plan runs the depressing ones as Tsodyks-Markram synapses.
func TestSTPOwnDrivers(t *testing.T) {
	d := pairNet(t, enumOf(10, 7), enumOf(10, 8), t.TempDir(), "backbone")
	d.Projections = append(d.Projections, d.Projections[0])
	d.Projections[1].Synapse = network.Synapse{Type: "TsodyksMarkramSynapse", Parameters: map[string]network.Value{
		"weight": network.Scalar(0.001), "U": network.Scalar(0.6), "tau_rec": network.Scalar(50), "tau_facil": network.Scalar(0)}}
	m, err := mapDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	a, b := &m.projs[0], &m.projs[1]
	if a.status[0] != realized || b.status[0] != realized {
		t.Fatalf("status %d, %d", a.status[0], b.status[0])
	}
	if a.row[0]/2 == b.row[0]/2 {
		t.Fatalf("static and STP synapses share driver %d", a.row[0]/2)
	}
	plan, err := m.plan()
	if err != nil {
		t.Fatal(err)
	}
	syn := plan.Description.Projections[1].Synapse
	if syn.Type != "TsodyksMarkramSynapse" || syn.Parameters["U"].Scalar != 0.6 || syn.Parameters["tau_rec"].Scalar != 50 ||
		plan.Description.Projections[0].Synapse.Type != "StaticSynapse" {
		t.Fatalf("plan's synapses: %+v, %+v", plan.Description.Projections[0].Synapse, syn)
	}
	// one value per projection: the driver holds one configuration
	d.Projections[1].Synapse.Parameters["U"] = network.Floats([]float64{0.5})
	if _, err := mapDescription(d); err == nil || !strings.Contains(err.Error(), "set per synapse driver") {
		t.Fatalf("err = %v", err)
	}
}
