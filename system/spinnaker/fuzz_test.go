package spinnaker

import (
	"testing"
)

// A machine description or system options from a user never panic the
// parser, and what parses builds a machine or fails with an error.
func FuzzMachineFile(f *testing.F) {
	for _, s := range []string{`{}`, `{"version":3}`, `{"boards":4,"dead_chips":[[0,0]]}`,
		`{"version":5,"dead_cores":[[1,0,1]],"dead_links":[[1,0,1]],"router_entries":4}`, `{"boards":-1}`, `[`, `{"dead_links":[[1,1,9]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMachineFile(data)
		if err != nil {
			return
		}
		if m.Boards > 60 {
			return // large machines are slow to build, not wrong
		}
		if mm, err := m.Build(1); err == nil && mm.AppCores() < 0 {
			t.Fatal("negative cores")
		}
	})
}

func FuzzOptions(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `{"version":3,"time_scale_factor":2}`, `{"populations":{"0":{"max_atoms_per_core":3}}}`,
		`{"max_atoms_per_core":{"IF_curr_exp":0}}`, `{"machine":{"boards":2}}`, `{"time_scale_factor":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseOptions(data)
		if err != nil {
			return
		}
		if o.tsf(0.1) <= 0 || o.SpikesPerSecond < 0 {
			t.Fatalf("accepted %+v", o)
		}
	})
}
