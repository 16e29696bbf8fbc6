package queue

import (
	"reflect"
	"testing"

	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/store"
)

// TestGrant holds the grants to the figures the queue had before they moved
// into the platform table (and to their order, which quota listings show).
func TestGrant(t *testing.T) {
	want := map[string][]store.Quota{
		AccessTest: {
			{Platform: "SpiNNaker", Units: "core-hours", Limit: 5000},
			{Platform: "BrainScaleS", Units: "wafer-hours", Limit: 0.1},
			{Platform: "BrainScaleS-2", Units: "chip-hours", Limit: 1},
			{Platform: "BrainScaleS-ESS", Units: "hours", Limit: 1},
			{Platform: "Spikey", Units: "hours", Limit: 1},
			{Platform: "Demo", Units: "hours", Limit: 1},
			{Platform: "Storage", Units: "GB", Limit: 1},
		},
		AccessPreparatory: {
			{Platform: "SpiNNaker", Units: "core-hours", Limit: 500000},
			{Platform: "BrainScaleS", Units: "wafer-hours", Limit: 10},
			{Platform: "BrainScaleS-2", Units: "chip-hours", Limit: 100},
			{Platform: "BrainScaleS-ESS", Units: "hours", Limit: 100},
			{Platform: "Spikey", Units: "hours", Limit: 100},
			{Platform: "Demo", Units: "hours", Limit: 100},
			{Platform: "Storage", Units: "GB", Limit: 10},
		},
		AccessProject: nil,
		"other":       nil,
	}
	for access, w := range want {
		if got := Grant(nil, access); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %+v\nwant %+v", access, got, w)
		}
	}
	for _, a := range []string{AccessTest, AccessPreparatory, AccessProject} {
		if err := ValidAccess(a); err != nil {
			t.Error(err)
		}
	}
	if ValidAccess("other") == nil {
		t.Error("other: accepted")
	}
	// A fake row's grant joins the others, before storage.
	tab := append(platform.Default(), platform.Platform{Name: "Fake", Units: "fake-hours", TestGrant: 2})
	g := Grant(tab, AccessTest)
	if n := len(g); n != 8 || g[6] != (store.Quota{Platform: "Fake", Units: "fake-hours", Limit: 2}) || g[7].Platform != platform.Storage {
		t.Errorf("with a fake row: %+v", g)
	}
}
