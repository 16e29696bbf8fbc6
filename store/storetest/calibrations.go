package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

func calibration(chip, key string) *store.CalibrationInsertParams {
	return &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: chip, Platform: "BrainScaleS-2", Key: key, Reason: "nightly"}, Now: t0}
}

func testCalibrations(t *testing.T, s store.Store) {
	// Chips the workers serve.
	check(t, s.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: "hx-1", Platform: "BrainScaleS-2", Provider: "p", LastSeen: t0}))
	check(t, s.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: "hx-0", Platform: "BrainScaleS-2", Provider: "p", LastSeen: t0}))
	check(t, s.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: "hx-1", Platform: "BrainScaleS-2", Provider: "q", LastSeen: t0.Add(time.Hour)}))
	chips := must(s.CalibrationChipList(ctx))
	if len(chips) != 2 || chips[0].Chip != "hx-0" || chips[1].Provider != "q" || !chips[1].LastSeen.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("chips %+v", chips)
	}

	// One request per chip and key.
	_, err := s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0"}, LeaseID: "l0", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrNotFound)
	a := must(s.CalibrationInsert(ctx, calibration("hx-0", "nightly:2025-03-14")))
	if a.Status != store.CalibrationQueued || a.Chip != "hx-0" || a.Key != "nightly:2025-03-14" || a.Platform != "BrainScaleS-2" || !a.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("inserted %+v", a)
	}
	_, err = s.CalibrationInsert(ctx, calibration("hx-0", "nightly:2025-03-14"))
	wantErr(t, err, store.ErrExists)
	b := must(s.CalibrationInsert(ctx, calibration("hx-1", "nightly:2025-03-14")))
	c := must(s.CalibrationInsert(ctx, calibration("hx-0", "admin:x")))

	// Claims take the oldest of the chips asked for.
	got := must(s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0"}, Owner: "p", LeaseID: "l1", Lease: time.Minute, Now: t0}))
	if got.ID != a.ID || got.Status != store.CalibrationRunning || got.LeaseID != "l1" || got.LeaseOwner != "p" || got.Attempts != 1 || got.StartedAt == nil {
		t.Fatalf("claimed %+v", got)
	}
	got2 := must(s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0", "hx-9"}, Owner: "p", LeaseID: "l2", Lease: time.Minute, Now: t0}))
	if got2.ID != c.ID {
		t.Fatalf("second claim %+v, want %d", got2, c.ID)
	}
	_, err = s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0"}, LeaseID: "l3", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrNotFound)

	// Finishing needs the lease; a finished one keeps its files and summary.
	files := []store.CalibrationFile{{Name: "spiking_cocolist.pbin", Size: 10, Hash: "ab"}}
	_, err = s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: a.ID, LeaseID: "wrong", Status: store.CalibrationFinished, Now: t0})
	wantErr(t, err, store.ErrLeaseLost)
	_, err = s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: a.ID, LeaseID: "l1", Status: "done", Now: t0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: 9999, LeaseID: "l1", Status: store.CalibrationFinished, Now: t0})
	wantErr(t, err, store.ErrNotFound)
	fin := must(s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: a.ID, LeaseID: "l1", Status: store.CalibrationFinished,
		Summary: json.RawMessage(`{"failed_neurons":2}`), Files: files, Now: t0.Add(time.Second)}))
	if fin.Status != store.CalibrationFinished || fin.LeaseID != "" || fin.CompletedAt == nil || len(fin.Files) != 1 || fin.Files[0] != files[0] ||
		string(fin.Summary) != `{"failed_neurons":2}` {
		t.Fatalf("finished %+v", fin)
	}
	_, err = s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: a.ID, LeaseID: "l1", Status: store.CalibrationFailed, Now: t0})
	wantErr(t, err, store.ErrLeaseLost)
	failed := must(s.CalibrationFinish(ctx, &store.CalibrationFinishParams{ID: c.ID, LeaseID: "l2", Status: store.CalibrationFailed, Error: "CADC: out of range", Now: t0}))
	if failed.Status != store.CalibrationFailed || failed.Error != "CADC: out of range" || len(failed.Files) != 0 {
		t.Fatalf("failed %+v", failed)
	}
	if g := must(s.CalibrationGet(ctx, a.ID)); g.Status != store.CalibrationFinished || len(g.Files) != 1 {
		t.Fatalf("get %+v", g)
	}
	_, err = s.CalibrationGet(ctx, 9999)
	wantErr(t, err, store.ErrNotFound)

	// Lists: newest first, by chip and status.
	all := must(s.CalibrationList(ctx, &store.CalibrationListParams{}))
	if len(all) != 3 || all[0].ID != c.ID || all[2].ID != a.ID {
		t.Fatalf("list %+v", all)
	}
	latest := must(s.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{"hx-0"}, Status: []string{store.CalibrationFinished}, Limit: 1}))
	if len(latest) != 1 || latest[0].ID != a.ID {
		t.Fatalf("latest %+v", latest)
	}
	if l := must(s.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{"hx-1"}})); len(l) != 1 || l[0].ID != b.ID {
		t.Fatalf("hx-1 %+v", l)
	}
	if l := must(s.CalibrationList(ctx, &store.CalibrationListParams{Limit: 1, Offset: 1})); len(l) != 1 || l[0].ID != b.ID {
		t.Fatalf("offset %+v", l)
	}

	// A worker that stops: the lease expires and the calibration is taken
	// again, up to MaxAttempts, then it fails.
	for i := 1; i <= 2; i++ {
		now := t0.Add(time.Duration(i) * time.Hour)
		r := must(s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-1"}, LeaseID: fmt.Sprint("r", i), Lease: time.Minute, MaxAttempts: 2, Now: now}))
		if r.ID != b.ID || r.Attempts != i {
			t.Fatalf("claim %d: %+v", i, r)
		}
		_, err := s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-1"}, LeaseID: "x", Lease: time.Minute, MaxAttempts: 2, Now: now})
		wantErr(t, err, store.ErrNotFound)
	}
	_, err = s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-1"}, LeaseID: "r3", Lease: time.Minute, MaxAttempts: 2, Now: t0.Add(3 * time.Hour)})
	wantErr(t, err, store.ErrNotFound)
	if g := must(s.CalibrationGet(ctx, b.ID)); g.Status != store.CalibrationFailed || g.Error == "" || g.CompletedAt == nil {
		t.Fatalf("gave up %+v", g)
	}
}

func testCalibrationClaimConcurrent(t *testing.T, s store.Store) {
	const n, claimers = 20, 6
	for i := 0; i < n; i++ {
		must(s.CalibrationInsert(ctx, calibration(fmt.Sprint("hx-", i%3), fmt.Sprint("k", i))))
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for w := 0; w < claimers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				c, err := s.CalibrationClaim(ctx, &store.CalibrationClaimParams{Chips: []string{"hx-0", "hx-1", "hx-2"}, LeaseID: fmt.Sprint(w, "-", i), Lease: time.Hour, Now: t0})
				if err != nil {
					if !errors.Is(err, store.ErrNotFound) {
						errs <- err
					}
					return
				}
				mu.Lock()
				seen[c.ID]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d of %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("calibration %d claimed %d times", id, k)
		}
	}
}
