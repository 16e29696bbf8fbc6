package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

func testBenchmarkSources(t *testing.T, s store.Store) {
	due := t0.Add(time.Hour)
	src := must(s.BenchmarkSourceCreate(ctx, &store.BenchmarkSource{Name: "hw", Kind: "git", URL: "https://example.org/hw.git",
		Every: 24 * time.Hour, CreatedBy: "alice", CreatedAt: t0, NextDue: &due}))
	if src.ID == 0 || src.Name != "hw" || src.Every != 24*time.Hour || !src.CreatedAt.Equal(t0) || src.NextDue == nil || !src.NextDue.Equal(due) || src.CheckedAt != nil {
		t.Fatalf("created %+v", src)
	}
	_, err := s.BenchmarkSourceCreate(ctx, &store.BenchmarkSource{Name: "hw", Kind: "git", URL: "x", CreatedBy: "bob"})
	wantErr(t, err, store.ErrExists)
	_, err = s.BenchmarkSourceGet(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	checked := t0.Add(2 * time.Hour)
	up := must(s.BenchmarkSourceUpdate(ctx, &store.BenchmarkSourceUpdateParams{ID: src.ID, Commit: ptr("abc"), Message: ptr("docs [skip ci]"),
		SkippedCI: ptr(true), CheckedAt: &checked, Error: ptr("")}))
	if up.Commit != "abc" || up.Message != "docs [skip ci]" || !up.SkippedCI || up.CheckedAt == nil || !up.CheckedAt.Equal(checked) || up.URL != src.URL {
		t.Fatalf("updated %+v", up)
	}
	got := must(s.BenchmarkSourceGet(ctx, "hw"))
	if got.Commit != "abc" || !got.SkippedCI {
		t.Fatalf("read back %+v", got)
	}
	_, err = s.BenchmarkSourceUpdate(ctx, &store.BenchmarkSourceUpdateParams{ID: 999999, Commit: ptr("x")})
	wantErr(t, err, store.ErrNotFound)
	must(s.BenchmarkSourceCreate(ctx, &store.BenchmarkSource{Name: "dir", Kind: "archive", URL: "http://127.0.0.1/code/x", CreatedBy: "alice"}))
	if l := must(s.BenchmarkSourceList(ctx)); len(l) != 2 || l[0].Name != "hw" || l[1].Name != "dir" {
		t.Fatalf("list %+v", l)
	}

	// Deleting a source takes its runs and measurements along.
	r, _ := must2(s.BenchmarkRunCreate(ctx, &store.BenchmarkRun{SourceID: src.ID, Commit: "abc", Model: "m", Task: "t", Platform: "Demo", Command: "run.py {system}"}))
	must(s.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r.ID, Status: store.RunFinished,
		Measurements: []store.BenchmarkMeasurement{{JobID: 1, Model: "m", Task: "t", Platform: "Demo", Type: "quality", Name: "n", Value: 1, Measure: "norm", Timestamp: t0}}}))
	check(t, s.BenchmarkSourceDelete(ctx, "hw"))
	wantErr(t, s.BenchmarkSourceDelete(ctx, "hw"), store.ErrNotFound)
	if l := must(s.BenchmarkMeasurementList(ctx, &store.BenchmarkMeasurementListParams{})); len(l) != 0 {
		t.Fatalf("measurements left after the source was deleted: %+v", l)
	}
	_, err = s.BenchmarkRunGet(ctx, r.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testBenchmarkRuns(t *testing.T, s store.Store) {
	src := must(s.BenchmarkSourceCreate(ctx, &store.BenchmarkSource{Name: "hw", Kind: "git", URL: "u", CreatedBy: "alice", CreatedAt: t0}))
	base := store.BenchmarkRun{SourceID: src.ID, Commit: "c1", Model: "IF_cond_exp", Task: "I_f_curve", Platform: "Demo", Command: "run.py {system}", Trigger: "commit c1", CreatedAt: t0}
	r1, created := must2(s.BenchmarkRunCreate(ctx, &base))
	if !created || r1.Status != store.RunQueued || r1.Trigger != "commit c1" || r1.JobID != nil {
		t.Fatalf("created %v %+v", created, r1)
	}
	// A duplicate of a pending run coalesces with it.
	dup := base
	dup.Trigger = "manual"
	r1b, created := must2(s.BenchmarkRunCreate(ctx, &dup))
	if created || r1b.ID != r1.ID {
		t.Fatalf("duplicate: created %v, run %d (want %d)", created, r1b.ID, r1.ID)
	}
	other := base
	other.Platform = "BrainScaleS-2"
	r2, created := must2(s.BenchmarkRunCreate(ctx, &other))
	if !created || r2.ID == r1.ID {
		t.Fatal("another platform must be another run")
	}
	r1 = must(s.BenchmarkRunUpdate(ctx, &store.BenchmarkRunUpdateParams{ID: r1.ID, Status: ptr(store.RunSubmitted), JobID: ptr(int64(42))}))
	if r1.Status != store.RunSubmitted || r1.JobID == nil || *r1.JobID != 42 {
		t.Fatalf("updated %+v", r1)
	}
	if _, created := must2(s.BenchmarkRunCreate(ctx, &dup)); created {
		t.Fatal("a submitted run must coalesce duplicates too")
	}
	if l := must(s.BenchmarkRunList(ctx, &store.BenchmarkRunListParams{Status: []string{store.RunQueued}})); len(l) != 1 || l[0].ID != r2.ID {
		t.Fatalf("queued runs: %+v", l)
	}
	_, err := s.BenchmarkRunUpdate(ctx, &store.BenchmarkRunUpdateParams{ID: r1.ID, Status: ptr(store.RunFinished)})
	wantErr(t, err, store.ErrConflict)

	sd := 0.5
	ms := []store.BenchmarkMeasurement{
		{JobID: 42, Model: "IF_cond_exp", Task: "I_f_curve", Platform: "Demo", Type: "quality", Name: "norm_diff_frequency", Value: 0.0073, Measure: "norm",
			Timestamp: t0.Add(time.Minute), NMPVersion: "v1", Commit: "c1", Machine: "local/Demo", File: "results/x.json", Configuration: json.RawMessage(`{"N":50}`)},
		{JobID: 42, Model: "IF_cond_exp", Task: "I_f_curve", Platform: "Demo", Type: "performance", Name: "run_time", Value: 1.42, Units: "s", StdDev: &sd, Measure: "time",
			Timestamp: t0.Add(time.Minute)},
	}
	end := must(s.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r1.ID, Status: store.RunFinished, Measurements: ms, Now: t0.Add(2 * time.Minute)}))
	if end.Status != store.RunFinished || end.Measurements != 2 || end.EndedAt == nil {
		t.Fatalf("ended %+v", end)
	}
	_, err = s.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r1.ID, Status: store.RunError, Error: "again"})
	wantErr(t, err, store.ErrConflict)
	// Once ended, the same run may be queued again.
	if _, created := must2(s.BenchmarkRunCreate(ctx, &dup)); !created {
		t.Fatal("a new run of an ended one must be created")
	}
	must(s.BenchmarkRunEnd(ctx, &store.BenchmarkRunEndParams{ID: r2.ID, Status: store.RunError, Error: "job 43 ended with an error: exit status 1"}))
	if got := must(s.BenchmarkRunGet(ctx, r2.ID)); got.Status != store.RunError || got.Error == "" || got.Measurements != 0 {
		t.Fatalf("errored run %+v", got)
	}

	all := must(s.BenchmarkMeasurementList(ctx, &store.BenchmarkMeasurementListParams{Model: "IF_cond_exp"}))
	if len(all) != 2 || all[0].Name != "norm_diff_frequency" || all[0].SourceID != src.ID || all[0].RunID != r1.ID ||
		string(all[0].Configuration) != `{"N":50}` || all[0].Machine != "local/Demo" || !all[0].Timestamp.Equal(t0.Add(time.Minute)) {
		t.Fatalf("measurements %+v", all)
	}
	if all[1].StdDev == nil || *all[1].StdDev != 0.5 || all[1].Min != nil || all[1].Units != "s" {
		t.Fatalf("optional fields %+v", all[1])
	}
	from, to := t0, t0.Add(30*time.Second)
	if l := must(s.BenchmarkMeasurementList(ctx, &store.BenchmarkMeasurementListParams{From: &from, To: &to})); len(l) != 0 {
		t.Fatalf("time range: %+v", l)
	}
	if l := must(s.BenchmarkMeasurementList(ctx, &store.BenchmarkMeasurementListParams{Measure: "time", Platform: "Demo"})); len(l) != 1 || l[0].Name != "run_time" {
		t.Fatalf("by measure: %+v", l)
	}
}

// testBenchmarkRunsConcurrent: triggers racing to queue the same run make one.
func testBenchmarkRunsConcurrent(t *testing.T, s store.Store) {
	src := must(s.BenchmarkSourceCreate(ctx, &store.BenchmarkSource{Name: "hw", Kind: "git", URL: "u", CreatedBy: "alice"}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[int64]int{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, created, err := s.BenchmarkRunCreate(ctx, &store.BenchmarkRun{SourceID: src.ID, Commit: "c", Model: "m", Task: "t", Platform: "Demo", Command: "x {system}"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[r.ID]++
			if created {
				ids[0]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ids[0] != 1 {
		t.Fatalf("%d runs created for one (source, commit, task, platform), want 1 (%v)", ids[0], ids)
	}
	if l := must(s.BenchmarkRunList(ctx, &store.BenchmarkRunListParams{SourceID: src.ID})); len(l) != 1 {
		t.Fatalf("%d runs stored, want 1", len(l))
	}
}

func testBenchmarkSystems(t *testing.T, s store.Store) {
	prev, changed := must2(s.BenchmarkSystemSet(ctx, "BrainScaleS-2", "nmp v1; chip a", t0))
	if prev != "" || !changed {
		t.Fatalf("first: %q %v", prev, changed)
	}
	prev, changed = must2(s.BenchmarkSystemSet(ctx, "BrainScaleS-2", "nmp v1; chip a", t0))
	if prev != "nmp v1; chip a" || changed {
		t.Fatalf("same: %q %v", prev, changed)
	}
	prev, changed = must2(s.BenchmarkSystemSet(ctx, "BrainScaleS-2", "nmp v1; chip b", t0))
	if prev != "nmp v1; chip a" || !changed {
		t.Fatalf("changed: %q %v", prev, changed)
	}
	if _, changed := must2(s.BenchmarkSystemSet(ctx, "Demo", "nmp v1", t0)); !changed {
		t.Fatal("another platform is new")
	}
}
