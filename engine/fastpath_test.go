package engine

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// TestFastPathsMatchReference runs networks whose populations take the
// homogeneous fast paths, once normally and once with Options.Plain, and
// requires bit-identical spikes and membrane traces.
func TestFastPathsMatchReference(t *testing.T) {
	cuba := func() *network.Description {
		b, err := os.ReadFile("../examples/cuba.json")
		if err != nil {
			t.Fatal(err)
		}
		d, err := network.DecodeJSON(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Schedule = nil
		return d
	}
	for name, mk := range map[string]func() *network.Description{"IF_cond_exp (COBA)": func() *network.Description { return coba(11) }, "IF_curr_exp (CUBA)": cuba} {
		run := func(plain bool) *Segment {
			d := mk()
			d.Recordings = append(d.Recordings, network.Recording{Selection: sel(0, 0, 7, 3199), Variables: []string{"v"}})
			s, err := New(d, Options{Threads: 2, Plain: plain})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Run(context.Background(), 200, nil); err != nil {
				t.Fatal(err)
			}
			return s.Segments()[0]
		}
		probe, err := New(mk(), Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		switch m := probe.pops[0].model.(type) {
		case *lifCond:
			if !m.hom {
				t.Fatalf("%s: the fast path is not taken, so this test compares nothing", name)
			}
		case *lifCurr:
			if !m.hom {
				t.Fatalf("%s: the fast path is not taken, so this test compares nothing", name)
			}
		}
		fast, ref := run(false), run(true)
		if len(ref.Spikes[0].IDs) < 100 {
			t.Fatalf("%s: too few spikes to compare (%d)", name, len(ref.Spikes[0].IDs))
		}
		if !reflect.DeepEqual(fast.Spikes, ref.Spikes) {
			t.Errorf("%s: spikes differ between the fast path and the reference", name)
		}
		if !reflect.DeepEqual(fast.Signals[0].Data, ref.Signals[0].Data) {
			t.Errorf("%s: traces differ between the fast path and the reference", name)
		}
	}
}
