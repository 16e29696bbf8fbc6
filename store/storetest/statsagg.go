package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// The statistics' aggregates against plain reference implementations that
// read every job row (JobList with removed jobs) and count in Go, as the
// statistics were computed before the aggregates existed.

func refDay(t time.Time) int64 {
	return int64(math.Floor(float64(t.UTC().Truncate(time.Microsecond).UnixMicro()) / 86400e6))
}

func dayOf(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

func allJobs(ctx context.Context, s store.Store) ([]store.Job, error) {
	return s.JobList(ctx, &store.JobListParams{IncludeRemoved: true, Oldest: true})
}

// CheckStats recomputes every statistics aggregate from the jobs' rows and
// compares them with what the store answers from its aggregates: counts
// exactly, summed usage to 1e-9 (sums in another order round differently).
func CheckStats(ctx context.Context, s store.Store) error {
	jobs, err := allJobs(ctx, s)
	if err != nil {
		return err
	}
	// completed jobs per completion day and platform
	type dp struct {
		day      int64
		platform string
	}
	type cu struct {
		n     int
		usage float64
	}
	done := map[dp]cu{}
	type dur struct {
		status, platform string
		secs             int64
	}
	durs := map[dur]int{}
	userDays := map[[2]string]map[int64]bool{} // platform, user → submission days
	platforms := map[string]bool{}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, j := range jobs {
		platforms[j.HardwarePlatform] = true
		k := [2]string{j.HardwarePlatform, j.UserID}
		if userDays[k] == nil {
			userDays[k] = map[int64]bool{}
		}
		d := refDay(j.SubmittedAt)
		userDays[k][d] = true
		lo, hi = min(lo, d), max(hi, d)
		if (j.Status == store.StatusFinished || j.Status == store.StatusError) && j.CompletedAt != nil {
			c := done[dp{refDay(*j.CompletedAt), j.HardwarePlatform}]
			c.n++
			if j.ResourceUsage != nil {
				c.usage += *j.ResourceUsage
			}
			done[dp{refDay(*j.CompletedAt), j.HardwarePlatform}] = c
			lo, hi = min(lo, refDay(*j.CompletedAt)), max(hi, refDay(*j.CompletedAt))
			if !j.CompletedAt.Before(j.SubmittedAt) {
				durs[dur{j.Status, j.HardwarePlatform, int64(j.CompletedAt.Sub(j.SubmittedAt) / time.Second)}]++
			}
		}
	}
	if len(jobs) == 0 {
		lo, hi = refDay(t0), refDay(t0)
	}
	// completed by day, over all time and between two midnights
	for _, r := range [][2]*time.Time{{nil, nil}, {ptr(dayOf(lo + 1)), ptr(dayOf(hi))}} {
		got, err := s.JobStats(ctx, &store.JobStatsParams{Completed: true, ByDay: true, From: r[0], To: r[1]})
		if err != nil {
			return err
		}
		want := map[dp]cu{}
		for k, v := range done {
			if (r[0] == nil || k.day >= lo+1) && (r[1] == nil || k.day < hi) {
				want[k] = v
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("completed jobs by day: %d groups, want %d", len(got), len(want))
		}
		for i, g := range got {
			k := dp{refDay(g.Day), g.Platform}
			w, ok := want[k]
			if !ok || g.Count != w.n || math.Abs(g.Usage-w.usage) > 1e-9*(1+math.Abs(w.usage)) {
				return fmt.Errorf("completed jobs on %s on %s: %d jobs, usage %g; want %d, %g", g.Day.Format(time.DateOnly), g.Platform, g.Count, g.Usage, w.n, w.usage)
			}
			if i > 0 && (got[i-1].Day.After(g.Day) || got[i-1].Day.Equal(g.Day) && got[i-1].Platform >= g.Platform) {
				return fmt.Errorf("completed jobs by day: not ordered by day and platform at %d", i)
			}
		}
	}
	// jobs and usage per platform and user submitted between midnights (per-user)
	for _, r := range [][2]*time.Time{{nil, nil}, {ptr(dayOf(lo + 1)), ptr(dayOf(hi))}} {
		got, err := s.JobStats(ctx, &store.JobStatsParams{ByUser: true, From: r[0], To: r[1]})
		if err != nil {
			return err
		}
		want := map[[2]string]cu{}
		for _, j := range jobs {
			d := refDay(j.SubmittedAt)
			if (r[0] != nil && d < lo+1) || (r[1] != nil && d >= hi) {
				continue
			}
			k := [2]string{j.HardwarePlatform, j.UserID}
			c := want[k]
			c.n++
			if j.ResourceUsage != nil {
				c.usage += *j.ResourceUsage
			}
			want[k] = c
		}
		if len(got) != len(want) {
			return fmt.Errorf("jobs per user: %d groups, want %d", len(got), len(want))
		}
		for i, g := range got {
			w, ok := want[[2]string{g.Platform, g.User}]
			if !ok || g.Count != w.n || math.Abs(g.Usage-w.usage) > 1e-9*(1+math.Abs(w.usage)) {
				return fmt.Errorf("jobs of %s on %s: %d, usage %g; want %d, %g", g.User, g.Platform, g.Count, g.Usage, w.n, w.usage)
			}
			if i > 0 && (got[i-1].Platform > g.Platform || got[i-1].Platform == g.Platform && got[i-1].User >= g.User) {
				return fmt.Errorf("jobs per user: not ordered by platform and user at %d", i)
			}
		}
	}
	// durations
	gotd, err := s.JobDurations(ctx)
	if err != nil {
		return err
	}
	var wantd []store.JobDuration
	for k, n := range durs {
		wantd = append(wantd, store.JobDuration{Status: k.status, Platform: k.platform, Seconds: k.secs, Count: n})
	}
	sort.Slice(wantd, func(i, j int) bool {
		a, b := wantd[i], wantd[j]
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.Seconds < b.Seconds
	})
	if fmt.Sprint(gotd) != fmt.Sprint(wantd) {
		return fmt.Errorf("durations:\n got %v\nwant %v", gotd, wantd)
	}
	// first days, over all platforms, each one, and every pair
	var names []string
	for p := range platforms {
		names = append(names, p)
	}
	sort.Strings(names)
	sets := [][]string{nil}
	for i, p := range names {
		sets = append(sets, []string{p})
		for _, q := range names[i+1:] {
			sets = append(sets, []string{p, q})
		}
	}
	for _, set := range sets {
		in := map[string]bool{}
		for _, p := range set {
			in[p] = true
		}
		first := map[string]int64{}
		for k, days := range userDays {
			if len(set) > 0 && !in[k[0]] {
				continue
			}
			for d := range days {
				if f, ok := first[k[1]]; !ok || d < f {
					first[k[1]] = d
				}
			}
		}
		perDay := map[int64]int{}
		for _, d := range first {
			perDay[d]++
		}
		var want []store.DayCount
		for d, n := range perDay {
			want = append(want, store.DayCount{Day: dayOf(d), Count: n})
		}
		sort.Slice(want, func(i, j int) bool { return want[i].Day.Before(want[j].Day) })
		got, err := s.JobUserFirstDays(ctx, set)
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("first days on %v:\n got %v\nwant %v", set, got, want)
		}
	}
	// active users on every day from before the first job to after the last one's window
	var days []time.Time
	for d := lo - 2; d <= hi+store.ActiveDays+2; d++ {
		days = append(days, dayOf(d))
	}
	got, err := s.JobActiveUsers(ctx, days)
	if err != nil {
		return err
	}
	var want []store.JobStat
	for _, e := range days {
		d := refDay(e)
		for _, p := range names {
			n := 0
			for k, ds := range userDays {
				if k[0] != p {
					continue
				}
				for x := range ds {
					if x <= d && d <= x+store.ActiveDays {
						n++
						break
					}
				}
			}
			if n > 0 {
				want = append(want, store.JobStat{Platform: p, Day: e, Count: n})
			}
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("active users: %d day and platform counts, want %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].Platform != want[i].Platform || !got[i].Day.Equal(want[i].Day) || got[i].Count != want[i].Count {
			return fmt.Errorf("active users: on %s on %s %d, want %s on %s %d", got[i].Day.Format(time.DateOnly), got[i].Platform, got[i].Count,
				want[i].Day.Format(time.DateOnly), want[i].Platform, want[i].Count)
		}
	}
	return nil
}

// RandomJobs submits, claims, ends, reports, rescues, removes and deletes
// jobs at random (seeded) through the store, with a clock that moves by
// hours, sometimes by months, and sometimes ends jobs before they began.
// check, when not nil, runs every 20 steps.
func RandomJobs(t testing.TB, s store.Store, seed int64, steps int, check func()) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	users := []string{"ada", "bob", "cyd", "dee", "eve"}
	platforms := []string{"BrainScaleS-2", "Demo", "SpiNNaker"}
	clock := t0
	var ids []int64
	pick := func() int64 {
		if len(ids) == 0 {
			return 0
		}
		return ids[rng.Intn(len(ids))]
	}
	ok := func(err error) {
		t.Helper()
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrReplayed) {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	for step := 0; step < steps; step++ {
		clock = clock.Add(time.Duration(rng.Int63n(int64(9 * time.Hour))))
		if rng.Intn(30) == 0 {
			clock = clock.AddDate(0, 0, 60+rng.Intn(60))
		}
		switch r := rng.Intn(100); {
		case r < 40:
			j := job("lab", platforms[rng.Intn(len(platforms))])
			j.UserID = users[rng.Intn(len(users))]
			if rng.Intn(5) == 0 {
				j.IdempotencyKey = fmt.Sprintf("k%d", rng.Intn(10)) // a resubmission replays the first job
			}
			got, err := s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: clock, Reserve: -1})
			ok(err)
			if err == nil {
				ids = append(ids, got.ID)
			}
		case r < 65:
			statuses := []string{store.StatusRunning, store.StatusFinished, store.StatusFinished, store.StatusError, store.StatusRemoved, store.StatusSubmitted}
			p := &store.JobUpdateParams{ID: pick(), Status: ptr(statuses[rng.Intn(len(statuses))]), Now: clock.Add(time.Duration(rng.Int63n(int64(30*time.Hour)) - int64(2*time.Hour)))}
			if rng.Intn(2) == 0 {
				p.ResourceUsage = ptr(rng.Float64() * 10)
			}
			_, err := s.JobUpdate(ctx, p)
			ok(err)
		case r < 75:
			_, err := s.JobUpdate(ctx, &store.JobUpdateParams{ID: pick(), ResourceUsage: ptr(rng.Float64()), Now: clock})
			ok(err)
		case r < 82:
			_, err := s.JobClaim(ctx, &store.JobClaimParams{Platform: platforms[rng.Intn(len(platforms))], Owner: "runner", LeaseID: fmt.Sprint("lease", step), Lease: time.Hour, Now: clock})
			ok(err)
		case r < 88:
			_, err := s.JobRescue(ctx, &store.JobRescueParams{Now: clock.Add(2 * time.Hour), MaxAttempts: 2})
			ok(err)
		default:
			ok(s.JobDelete(ctx, pick()))
		}
		if check != nil && step%20 == 19 {
			check()
		}
	}
}

// testStatsAggregates holds the aggregates to the rows through a seeded
// random history of jobs, and a rebuild to the same.
func testStatsAggregates(t *testing.T, s store.Store) {
	seed := time.Now().UnixNano() % 1000000
	t.Logf("seed %d", seed)
	check := func() {
		t.Helper()
		if err := CheckStats(ctx, s); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	check() // empty
	RandomJobs(t, s, seed, 400, check)
	check()
	if r, ok := s.(interface{ StatsRebuild(context.Context) error }); ok {
		if err := r.StatsRebuild(ctx); err != nil {
			t.Fatal(err)
		}
		check()
	}
}

// UndoStatsMigration drops the aggregates and forgets migration 007, so that
// opening the database again runs it (and its backfill) on the jobs there are.
func UndoStatsMigration(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) {
	t.Helper()
	for _, q := range []string{"DROP TABLE stats_completed", "DROP TABLE stats_durations", "DROP TABLE stats_user_days",
		"DROP TABLE stats_user_first", "DROP TABLE stats_active", "DELETE FROM schema_migrations WHERE version = 7"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// CheckMigrationBackfill fails unless the migration file holds the backfill statements.
func CheckMigrationBackfill(t testing.TB, file string, stmts []string) {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if !strings.Contains(string(text), q) {
			t.Fatalf("%s does not hold the backfill statement of sqlstore.StatsBackfill:\n%s", file, q)
		}
	}
}

// testStatsConcurrent: submissions, ends and deletions of the same users'
// jobs at once, on days out of order, leave the aggregates right (on
// PostgreSQL this exercises the statistics' lock order: no deadlock, no
// lost update).
func testStatsConcurrent(t *testing.T, s store.Store) {
	seed := time.Now().UnixNano() % 1000000
	t.Logf("seed %d", seed)
	const workers, steps = 8, 30
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			rng := rand.New(rand.NewSource(seed + int64(w)))
			var mine []int64
			for i := 0; i < steps; i++ {
				var err error
				switch r := rng.Intn(10); {
				case r < 6 || len(mine) == 0:
					j := job("lab", []string{"Demo", "SpiNNaker"}[rng.Intn(2)])
					j.UserID = []string{"ada", "bob"}[rng.Intn(2)]
					var got *store.Job
					at := t0.AddDate(0, 0, rng.Intn(200)).Add(time.Duration(rng.Intn(86400)) * time.Second)
					if got, err = s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: at, Reserve: -1}); err == nil {
						mine = append(mine, got.ID)
					}
				case r < 8:
					_, err = s.JobUpdate(ctx, &store.JobUpdateParams{ID: mine[rng.Intn(len(mine))], Status: ptr(store.StatusFinished),
						ResourceUsage: ptr(1.5), Now: t0.AddDate(0, 0, rng.Intn(200))})
				default:
					k := rng.Intn(len(mine))
					err = s.JobDelete(ctx, mine[k])
					mine = append(mine[:k], mine[k+1:]...)
				}
				if err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- fmt.Errorf("worker %d step %d: %w", w, i, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	if err := CheckStats(ctx, s); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
}
