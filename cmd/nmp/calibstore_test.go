package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

// TestStoreKeepsHistoryAndTheLatest: two runs give two versions, the
// second the latest; a failing run leaves the latest and its files as they
// were and is recorded. The first run is a real calibration.
func TestStoreKeepsHistoryAndTheLatest(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	s := &calibStore{Dir: dir, Now: func() time.Time { return clock }}
	v1, err := s.Run(context.Background(), "nmp-virtual-hx-0")
	if err != nil {
		t.Fatal(err)
	}
	latest := filepath.Join(dir, "nmp-virtual-hx-0", "stable", "latest", "spiking_cocolist.pbin")
	b, err := os.ReadFile(latest)
	if err != nil {
		t.Fatal(err)
	}
	r, err := calib.Read(b)
	if err != nil || r.Chip != "nmp-virtual-hx-0" {
		t.Fatalf("latest: %v %v", err, r)
	}
	if _, err := os.Stat(filepath.Join(dir, "nmp-virtual-hx-0", "stable", "latest", "spiking2_cocolist.json")); err != nil {
		t.Error(err)
	}
	// The second run: the same calibration again (cheap), a day later.
	real := r
	clock = clock.AddDate(0, 0, 1)
	s.Calibrate = func(ctx context.Context, chip, preset string, seed uint64) (*calib.SpikingResult, error) {
		return real, nil
	}
	v2, err := s.Run(context.Background(), "nmp-virtual-hx-0")
	if err != nil {
		t.Fatal(err)
	}
	// A failing third run.
	clock = clock.AddDate(0, 0, 1)
	calls := 0
	s.Calibrate = func(ctx context.Context, chip, preset string, seed uint64) (*calib.SpikingResult, error) {
		calls++
		if preset == "spiking2" {
			return nil, errors.New("the chip did not answer")
		}
		return real, nil
	}
	if _, err := s.Run(context.Background(), "nmp-virtual-hx-0"); err == nil || !strings.Contains(err.Error(), "previous calibration stays") {
		t.Fatalf("failing run: %v", err)
	}
	vs, fs, err := s.List("nmp-virtual-hx-0")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[0].Version != v2.Version || !vs[0].Latest || vs[1].Version != v1.Version || vs[1].Latest {
		t.Errorf("history %+v", vs)
	}
	if len(fs) != 1 || !strings.Contains(fs[0].Error, "did not answer") {
		t.Errorf("failures %+v", fs)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "nmp-virtual-hx-0", "history"))
	if len(entries) != 2 {
		t.Errorf("history directory holds %d entries after a failed run, want 2", len(entries))
	}
	if _, err := s.Run(context.Background(), "../x"); err == nil {
		t.Error("a chip name with a path was accepted")
	}
}
