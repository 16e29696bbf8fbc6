package storetest

import (
	"fmt"
	"math"
	"sync"
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

// testJobClaimHold: a claim grows the job's hold towards what the runner asks,
// as far as the quota has room; concurrent claims never hold more than the
// quota has (issue 10, item 9: quota overspent 500 times).
func testJobClaimHold(t *testing.T, s store.Store) {
	pr := seed(t, s, "neuro", "Demo", 1)
	for range 3 {
		insert(t, s, job("neuro", "Demo"), 0.1)
	}
	var holds []float64
	for range 3 {
		j := must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "p", LeaseID: newUUID(), Lease: time.Minute, Now: t0, Hold: 0.5}))
		holds = append(holds, j.HoldAmount)
		if g := must(s.JobGet(ctx, j.ID)); math.Abs(g.HoldAmount-j.HoldAmount) > 1e-9 {
			t.Fatalf("claim answered hold %v, the job holds %v", j.HoldAmount, g.HoldAmount)
		}
	}
	if fmt.Sprintf("%.3f", holds) != "[0.500 0.400 0.100]" {
		t.Fatalf("holds %v, want 0.5, 0.4 (the rest of the quota), 0.1 (what it held)", holds)
	}
	if q := quotaOf(t, s, pr.ID, 0); math.Abs(q.Reserved-1) > 1e-9 {
		t.Fatalf("reserved %v of 1", q.Reserved)
	}
	// With MinHold, a job whose quota is held by a running job waits for it.
	pr3 := seed(t, s, "wait", "BrainScaleS", 1)
	a := insert(t, s, job("wait", "BrainScaleS"), 0.1)
	insert(t, s, job("wait", "BrainScaleS"), 0.1)
	claim := func() (*store.Job, error) {
		return s.JobClaim(ctx, &store.JobClaimParams{Platform: "BrainScaleS", Owner: "p", LeaseID: newUUID(), Lease: time.Minute, Now: t0, Hold: 1, MinHold: 0.2})
	}
	if ja := must(claim()); ja.ID != a.ID || math.Abs(ja.HoldAmount-0.9) > 1e-9 {
		t.Fatalf("first claim %+v", ja)
	}
	_, err := claim()
	wantErr(t, err, store.ErrNotFound)
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: a.ID, Status: ptr(store.StatusFinished), ResourceUsage: ptr(0.3), Now: t0}))
	if jb := must(claim()); math.Abs(jb.HoldAmount-0.7) > 1e-9 {
		t.Fatalf("second claim after the first ended: hold %v, want 0.7", jb.HoldAmount)
	}
	if q := quotaOf(t, s, pr3.ID, 0); math.Abs(q.Usage+q.Reserved-1) > 1e-9 {
		t.Fatalf("quota usage %v + reserved %v, want 1", q.Usage, q.Reserved)
	}

	// Concurrent claims of many jobs: their holds fit in the quota.
	pr2 := seed(t, s, "busy", "SpiNNaker", 2)
	for range 20 {
		insert(t, s, job("busy", "SpiNNaker"), 0.05)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0.0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := s.JobClaim(ctx, &store.JobClaimParams{Platform: "SpiNNaker", Owner: "p", LeaseID: newUUID(), Lease: time.Minute, Now: t0, Hold: 0.3})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			total += j.HoldAmount
			mu.Unlock()
		}()
	}
	wg.Wait()
	if q := quotaOf(t, s, pr2.ID, 0); total > 2+1e-9 || math.Abs(q.Reserved-total) > 1e-9 {
		t.Fatalf("20 concurrent claims hold %v (quota reserved %v) of a limit of 2", total, q.Reserved)
	}
}
