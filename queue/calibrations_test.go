package queue_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestCalibrationScheduler: every night at the hour, one calibration per
// chip a worker serves, asked for once even by several replicas at once;
// none for a chip calibrated since the hour, nor for one no worker has
// served for two days; a server down at the hour asks when it is back.
func TestCalibrationScheduler(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, d storetest.Driver) {
		ctx := context.Background()
		st := d.Open(t)
		loc := time.FixedZone("lab", 3600)
		now := time.Date(2025, 3, 14, 1, 30, 0, 0, loc) // before 2:00
		clock := func() time.Time { return now }
		seen := func(chip string, at time.Time) {
			if err := st.CalibrationChipSeen(ctx, &store.CalibrationChip{Chip: chip, Platform: "BrainScaleS-2", Provider: "p", LastSeen: at}); err != nil {
				t.Fatal(err)
			}
		}
		seen("hx-0", now)
		seen("hx-1", now)
		seen("hx-old", now.Add(-72*time.Hour))
		// hx-1 got its first calibration at 01:00 today: nothing due until 02:00.
		if _, err := queue.CalibrateNewChip(ctx, st, "hx-1", "BrainScaleS-2", now.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if asked, err := queue.CalibrateNewChip(ctx, st, "hx-1", "BrainScaleS-2", now); err != nil || asked {
			t.Fatalf("a second first calibration: %v %v", asked, err)
		}
		replicas := []*queue.CalibrationScheduler{
			{Store: st, Hour: 2, Location: loc, Now: clock},
			{Store: st, Hour: 2, Location: loc, Now: clock},
		}
		round := func() []store.Calibration {
			var mu sync.Mutex
			var all []store.Calibration
			var wg sync.WaitGroup
			for _, r := range replicas {
				wg.Add(1)
				go func(r *queue.CalibrationScheduler) {
					defer wg.Done()
					cs, err := r.RunOnce(ctx)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					all = append(all, cs...)
					mu.Unlock()
				}(r)
			}
			wg.Wait()
			return all
		}
		// 01:30: hx-0 has never been calibrated: yesterday's 02:00 is due for it.
		got := round()
		if len(got) != 1 || got[0].Chip != "hx-0" || got[0].Key != "nightly:2025-03-13" {
			t.Fatalf("01:30: %+v", got)
		}
		if got := round(); len(got) != 0 {
			t.Fatalf("01:30 again: %+v", got)
		}
		// 02:05: both served chips are due, once.
		now = time.Date(2025, 3, 14, 2, 5, 0, 0, loc)
		seen("hx-0", now)
		seen("hx-1", now)
		got = round()
		if len(got) != 2 || got[0].Key != "nightly:2025-03-14" || got[1].Key != "nightly:2025-03-14" || got[0].Chip == got[1].Chip {
			t.Fatalf("02:05: %+v", got)
		}
		if got := round(); len(got) != 0 {
			t.Fatalf("02:05 again: %+v", got)
		}
		// An administrator's calibration at 10:00 does not stop the next night's.
		now = time.Date(2025, 3, 14, 10, 0, 0, 0, loc)
		if _, err := st.CalibrationInsert(ctx, &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: "hx-0", Key: "admin:1"}, Now: now}); err != nil {
			t.Fatal(err)
		}
		if got := round(); len(got) != 0 {
			t.Fatalf("10:00: %+v", got)
		}
		// The server was down from 01:00 to 09:00 the next day: it asks then.
		now = time.Date(2025, 3, 15, 9, 0, 0, 0, loc)
		seen("hx-0", now)
		got = round()
		if len(got) != 2 || got[0].Key != "nightly:2025-03-15" {
			t.Fatalf("the next day: %+v", got)
		}
		// Two days without a worker for hx-1: no more calibrations for it.
		now = time.Date(2025, 3, 17, 3, 0, 0, 0, loc)
		seen("hx-0", now)
		got = round()
		if len(got) != 1 || got[0].Chip != "hx-0" {
			t.Fatalf("hx-1 gone: %+v", got)
		}
		cs, err := st.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{"hx-old"}})
		if err != nil || len(cs) != 0 {
			t.Fatalf("hx-old: %+v %v", cs, err)
		}
		if _, err := (&queue.CalibrationScheduler{Store: st, Hour: 24}).RunOnce(ctx); err == nil {
			t.Error("hour 24 accepted")
		}
	})
}

func TestCheckChipName(t *testing.T) {
	for _, ok := range []string{"nmp-virtual-hx-0", "W66F3", "a.b_c"} {
		if err := queue.CheckChipName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".hidden", "a/b", `a\b`, "a b", string(make([]byte, 101))} {
		if err := queue.CheckChipName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
