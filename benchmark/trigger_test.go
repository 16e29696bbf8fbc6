package benchmark

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/sqlite"
)

// TestCalibrationTriggers: a new nightly calibration of a BrainScaleS-2
// chip (asked for by the queue's scheduler, finished by a worker) changes
// the platform's fingerprint, so its benchmarks run again there, and only
// there; a failed calibration changes nothing.
func TestCalibrationTriggers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "nmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repo := filepath.Join(dir, "repo")
	os.MkdirAll(repo, 0o755)
	os.WriteFile(filepath.Join(repo, "benchmarks.json"), []byte(`[{"model": {"name": "m"}, "tasks": [{"name": "t", "command": "run.py {system}"}]}]`), 0o644)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.email=b@example.org", "-c", "user.name=b", "commit", "-q", "-m", "first"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, b)
		}
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	svc, err := New(Config{Store: st, Queue: client.New("http://127.0.0.1:9", "unused"), Collab: "benchmarks", CacheDir: filepath.Join(dir, "cache"),
		AllowLocal: true, Now: func() time.Time { return now },
		Platforms:   []Platform{{Name: "BrainScaleS-2", Backend: "brainscales2"}, {Name: "Demo", Backend: "nmp"}},
		Fingerprint: func(p string) string { return Fingerprint("nmp", "v1", "platform", p) }})
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := svc.AddSource(ctx, AddParams{Name: "s", URL: repo, Kind: KindGit})
	if err != nil {
		t.Fatal(err)
	}
	// newRuns ends the pending runs (as if their jobs had finished) after
	// a pass of the system checks, and returns those the pass queued.
	newRuns := func() map[string]string {
		t.Helper()
		if err := svc.checkSystems(ctx); err != nil {
			t.Fatal(err)
		}
		rs, err := st.BenchmarkRunList(ctx, &store.BenchmarkRunListParams{SourceID: src.ID, Status: []string{"queued"}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rs {
			out[r.Platform] = r.Trigger
			if _, err := st.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r.ID, Status: "finished", Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	newRuns() // the registration's runs, and the systems first seen
	if rs := newRuns(); len(rs) != 0 {
		t.Fatalf("nothing changed, yet runs: %v", rs)
	}
	// A worker serves chip hx-0: the scheduler asks for its calibration at
	// night, the worker finishes it.
	calibrate := func(status string, hash string) {
		t.Helper()
		if err := st.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: "hx-0", Platform: "BrainScaleS-2", Provider: "w", LastSeen: now}); err != nil {
			t.Fatal(err)
		}
		sched := &queue.CalibrationScheduler{Store: st, Hour: 2, Location: time.UTC, Now: func() time.Time { return now }}
		asked, err := sched.RunOnce(ctx)
		if err != nil || len(asked) != 1 {
			t.Fatalf("the scheduler asked for %v: %v", asked, err)
		}
		c, err := st.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0"}, Owner: "w", LeaseID: "l", Lease: time.Minute, MaxAttempts: 3, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: c.ID, LeaseID: "l", Status: status, Now: now,
			Files: []store.CalibrationFile{{Name: "calibration.json", Size: 10, Hash: hash}}}); err != nil {
			t.Fatal(err)
		}
	}
	calibrate(store.CalibrationFinished, "aa")
	rs := newRuns()
	if len(rs) != 1 || !strings.Contains(rs["BrainScaleS-2"], "calibration (none) -> hx-0=") {
		t.Fatalf("after the first calibration of hx-0: runs %v, want one on BrainScaleS-2 naming the calibration", rs)
	}
	if rs := newRuns(); len(rs) != 0 {
		t.Fatalf("the same calibration triggered again: %v", rs)
	}
	now = now.Add(24 * time.Hour) // the next night
	calibrate(store.CalibrationFailed, "")
	if rs := newRuns(); len(rs) != 0 {
		t.Fatalf("a failed calibration triggered: %v", rs)
	}
	now = now.Add(24 * time.Hour)
	calibrate(store.CalibrationFinished, "bb")
	if rs := newRuns(); len(rs) != 1 || !strings.Contains(rs["BrainScaleS-2"], "calibration hx-0=") {
		t.Fatalf("after the next night's calibration: runs %v, want one on BrainScaleS-2", rs)
	}
}
