package worker

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
)

// TestNightlyRunsDueChipsAtStart: a worker for BrainScaleS-2 runs its
// nightly task at start for its chip when due, and not for platforms
// without chips or of other systems; jobs get JobEnv.
func TestNightlyRunsDueChipsAtStart(t *testing.T) {
	var mu sync.Mutex
	var ran []string
	done := make(chan struct{}, 1)
	w := &Worker{log: slog.New(slog.NewTextHandler(io.Discard, nil)), cfg: Config{
		Platforms: []string{"BrainScaleS-2", "Demo", "BrainScaleS"}, PlatformTable: platform.Default(), Chip: "nmp-virtual-hx-4",
		JobEnv: []string{"NMP_BSS2_CALIBRATION_DIR=/x"},
		Nightly: &Nightly{System: "brainscales2", Hour: 2, Due: func(chip string) bool { return true }, Run: func(ctx context.Context, chip string) error {
			mu.Lock()
			ran = append(ran, chip)
			mu.Unlock()
			done <- struct{}{}
			return nil
		}}}}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() { w.nightly(ctx); close(finished) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the nightly task did not run at start")
	}
	cancel()
	<-finished
	if !slices.Equal(ran, []string{"nmp-virtual-hx-4"}) {
		t.Errorf("ran for %v", ran)
	}
	p, _ := platform.Default().Lookup("BrainScaleS-2")
	r := &jobRun{w: w, sys: p, job: &provider.Job{}}
	if env := r.env(); !slices.Contains(env, "NMP_BSS2_CALIBRATION_DIR=/x") || !slices.Contains(env, "NMP_BSS2_CHIP=nmp-virtual-hx-4") {
		t.Errorf("job environment %v", env)
	}
}
