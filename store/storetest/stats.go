package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// testJobStats holds the statistics' aggregates to what counting the jobs one
// by one gives.
func testJobStats(t *testing.T, s store.Store) {
	type spec struct {
		user, platform, status string
		submitDay, minutes     int // submitted t0 + submitDay days; ended minutes later
		usage                  float64
	}
	specs := []spec{
		{"alice", "SpiNNaker", store.StatusFinished, 0, 30, 2},
		{"alice", "SpiNNaker", store.StatusError, 0, 90, 1},
		{"bob", "SpiNNaker", store.StatusFinished, 1, 30, 4},
		{"bob", "Demo", store.StatusFinished, 3, 24*60 + 5, 0.5}, // completes the next day
		{"carol", "Demo", store.StatusRemoved, 5, 0, 0},
		{"carol", "Demo", store.StatusSubmitted, 6, 0, 0},
	}
	for _, sp := range specs {
		j := job("neuro", sp.platform)
		j.UserID = sp.user
		sub := t0.AddDate(0, 0, sp.submitDay)
		got := must(s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: sub, Reserve: -1}))
		if sp.status == store.StatusSubmitted {
			continue
		}
		p := &store.JobUpdateParams{ID: got.ID, Status: ptr(sp.status), Now: sub.Add(time.Duration(sp.minutes) * time.Minute)}
		if sp.usage > 0 {
			p.ResourceUsage = ptr(sp.usage)
		}
		must(s.JobUpdate(ctx, p))
	}
	day := func(d int) time.Time {
		x := t0.AddDate(0, 0, d)
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
	}
	str := func(v []store.JobStat) string {
		out := ""
		for _, x := range v {
			d := ""
			if !x.Day.IsZero() {
				d = x.Day.Format("01-02")
			}
			out += fmt.Sprintf("%s/%s/%s=%d,%g ", x.Platform, d, x.User, x.Count, x.Usage)
		}
		return out
	}
	from, to := day(0), day(5)
	got := str(must(s.JobStats(ctx, &store.JobStatsParams{Completed: true, From: &from, To: &to, ByDay: true})))
	if want := "SpiNNaker/03-14/=2,3 SpiNNaker/03-15/=1,4 Demo/03-18/=1,0.5 "; got != want {
		t.Fatalf("completed by day:\n got %s\nwant %s", got, want)
	}
	got = str(must(s.JobStats(ctx, &store.JobStatsParams{ByUser: true})))
	if want := "Demo//bob=1,0.5 Demo//carol=2,0 SpiNNaker//alice=2,3 SpiNNaker//bob=1,4 "; got != want {
		t.Fatalf("submitted by user:\n got %s\nwant %s", got, want)
	}
	to = day(1)
	got = str(must(s.JobStats(ctx, &store.JobStatsParams{From: &from, To: &to, ByDay: true, ByUser: true})))
	if want := "SpiNNaker/03-14/alice=2,3 "; got != want {
		t.Fatalf("submitted on the first day:\n got %s\nwant %s", got, want)
	}
	firsts := must(s.JobUserFirstDays(ctx, nil))
	if fmt.Sprint(len(firsts), firsts[0].Day.Equal(day(0)), firsts[0].Count, firsts[1].Day.Equal(day(1)), firsts[2].Day.Equal(day(5))) != "3 true 1 true true" {
		t.Fatalf("first days %+v", firsts)
	}
	if f := must(s.JobUserFirstDays(ctx, []string{"Demo"})); len(f) != 2 || !f[0].Day.Equal(day(3)) {
		t.Fatalf("first days on Demo %+v", f)
	}
	ds := must(s.JobDurations(ctx))
	gotd := ""
	for _, d := range ds {
		gotd += fmt.Sprintf("%s/%s/%d=%d ", d.Status, d.Platform, d.Seconds, d.Count)
	}
	if want := "error/SpiNNaker/5400=1 finished/Demo/86700=1 finished/SpiNNaker/1800=2 "; gotd != want {
		t.Fatalf("durations:\n got %s\nwant %s", gotd, want)
	}
}

// testJobListSummary: a listing with MaxCode leaves out long code, not short.
func testJobListSummary(t *testing.T, s store.Store) {
	long := job("neuro", "Demo")
	long.Code = fmt.Sprintf("%05000d", 7)
	a := insert(t, s, long, -1)
	b := insert(t, s, job("neuro", "Demo"), -1)
	got := must(s.JobList(ctx, &store.JobListParams{Collab: []string{"neuro"}, MaxCode: 1024, Oldest: true}))
	if len(got) != 2 || got[0].ID != a.ID || got[0].Code != "" || got[1].ID != b.ID || got[1].Code != "print(1)" {
		t.Fatalf("summary listing %+v", got)
	}
	if full := must(s.JobGet(ctx, a.ID)); full.Code != long.Code {
		t.Fatalf("the code was changed: %d characters", len(full.Code))
	}
}

// testJobIdempotency: the same user's second insertion with a key returns the
// first job; another user's, or another key's, inserts.
func testJobIdempotency(t *testing.T, s store.Store) {
	seed(t, s, "neuro", "Demo", 1)
	j := job("neuro", "Demo")
	j.IdempotencyKey = "k-1"
	first := must(s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: t0, Reserve: 0.1}))
	again, err := s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: t0, Reserve: 0.1})
	wantErr(t, err, store.ErrReplayed)
	if again == nil || again.ID != first.ID {
		t.Fatalf("replay returned %+v", again)
	}
	other := j
	other.UserID = "bob"
	if o := must(s.JobInsert(ctx, &store.JobInsertParams{Job: other, Now: t0, Reserve: 0.1})); o.ID == first.ID {
		t.Fatal("another user's key replayed alice's job")
	}
	// Concurrent retries with one key create one job and hold quota once.
	j.IdempotencyKey = "k-2"
	ids := make(chan int64, 8)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: t0, Reserve: 0.1})
			if err != nil && err != store.ErrReplayed {
				errs <- err
				return
			}
			ids <- got.ID
		}()
	}
	seen := map[int64]bool{}
	for range 8 {
		select {
		case id := <-ids:
			seen[id] = true
		case err := <-errs:
			t.Fatal(err)
		}
	}
	if len(seen) != 1 {
		t.Fatalf("8 retries with one key made %d jobs", len(seen))
	}
	q := must(s.JobList(ctx, &store.JobListParams{Collab: []string{"neuro"}}))
	held := 0.0
	for _, x := range q {
		held += x.HoldAmount
	}
	if len(q) != 3 || held < 0.29 || held > 0.31 {
		t.Fatalf("%d jobs holding %g, want 3 holding 0.3", len(q), held)
	}
}
