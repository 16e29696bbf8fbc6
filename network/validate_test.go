package network

import (
	"slices"
	"strings"
	"testing"
)

// set_synapses may give one value per connection: their number is known
// only once the projection is built, so validation must not count them
// against anything, while still checking each value's range.
func TestValidateSetSynapsesArray(t *testing.T) {
	run := 10.0
	d := &Description{Format: FormatName, Version: FormatVersion,
		Simulation:  Simulation{Timestep: 0.1},
		Populations: []Population{{Size: 2, CellType: "IF_cond_exp"}},
		Projections: []Projection{{Pre: Selection{{Population: 0}}, Post: Selection{{Population: 0}},
			Synapse: Synapse{Type: "StaticSynapse"}, Connector: &Connector{Type: "AllToAllConnector"}}},
		Schedule: []Action{
			{SetSynapses: &SetSynapsesAction{Projection: 0, Parameters: map[string]Value{"weight": Floats([]float64{0.1, 0.2, 0.3, 0.4})}}},
			{Run: &run},
		},
	}
	if err := Validate(d, Standard, Limits{}); err != nil {
		t.Fatalf("valid set_synapses refused: %v", err)
	}
	d.Schedule[0].SetSynapses.Parameters["delay"] = Floats([]float64{1, 1, -1, 1})
	err := Validate(d, Standard, Limits{})
	if err == nil || !strings.Contains(err.Error(), "delay") {
		t.Fatalf("negative delay accepted: %v", err)
	}
}

func TestSelectionIDs(t *testing.T) {
	d := &Description{Populations: []Population{{Size: 3}, {Size: 4}}}
	idx := Ints([]int64{3, 0})
	sel := Selection{{Population: 1, Indices: &idx}, {Population: 0}}
	got := d.SelectionIDs(sel, []int{10, 20})
	want := []int{23, 20, 10, 11, 12}
	if !slices.Equal(got, want) {
		t.Fatalf("SelectionIDs = %v, want %v", got, want)
	}
}

// TestSynapseStateIsAParameter: the state variables of a synapse type are
// given like its parameters, so each must be one of them, and the types with
// Tsodyks-Markram dynamics have the state PyNN's and NEST's users initialise.
func TestSynapseStateIsAParameter(t *testing.T) {
	for name, st := range Standard.Synapses {
		for _, s := range st.State {
			if st.Param(s) == nil {
				t.Errorf("%s: state variable %q is not among its parameters", name, s)
			}
		}
	}
	for name, want := range map[string]string{"TsodyksMarkramSynapse": "u x", "StochasticTsodyksMarkramSynapse": "u R", "MultiQuantalSynapse": "u a"} {
		if got := strings.Join(Standard.Synapses[name].State, " "); got != want {
			t.Errorf("%s: state %q, want %q", name, got, want)
		}
	}
}

// A system that cannot start a synapse from a given state drops the state
// variables, so that an initial value is refused by name, not ignored.
func TestWithoutStateRefusesInitialValues(t *testing.T) {
	cat := &Catalog{Cells: Standard.Cells, Synapses: map[string]*SynapseType{
		"TsodyksMarkramSynapse": Standard.Synapses["TsodyksMarkramSynapse"].WithoutState()}}
	if st := cat.Synapses["TsodyksMarkramSynapse"]; st.Param("x") != nil || st.Param("u") != nil || st.Param("tau_rec") == nil || len(st.State) != 0 {
		t.Fatalf("WithoutState kept %+v", st)
	}
	if Standard.Synapses["TsodyksMarkramSynapse"].Param("x") == nil {
		t.Fatal("WithoutState changed the standard catalog")
	}
	d := &Description{Format: FormatName, Version: FormatVersion, Simulation: Simulation{Timestep: 0.1},
		Populations: []Population{{Label: "a", Size: 2, CellType: "IF_curr_exp"}},
		Projections: []Projection{{Label: "p", Pre: Selection{{Population: 0}}, Post: Selection{{Population: 0}},
			Synapse:   Synapse{Type: "TsodyksMarkramSynapse", Parameters: map[string]Value{"x": Scalar(0.5)}},
			Connector: &Connector{Type: "AllToAllConnector"}}}}
	err := Validate(d, cat, Limits{})
	if err == nil || !strings.Contains(err.Error(), "x") {
		t.Fatalf("an initial x on a synapse without state: %v", err)
	}
	t.Log(err)
}
