package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestStatisticsBounded: statistics refuse answers too large to compute cheaply
// (issue 10: start=0001-01-01&interval=1 answered 104 MB).
func TestStatisticsBounded(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		for _, p := range []string{"job-count", "cumulative-job-count", "active-user-count", "resource-usage"} {
			r := b.want(b.do("GET", "/statistics/"+p+"?start=0001-01-01&interval=1", "", nil), 422, p)
			if !strings.Contains(r.detail(t), "interval:") {
				t.Fatalf("%s: %s", p, r.body)
			}
			b.want(b.do("GET", "/statistics/"+p+"?start=0001-01-01&interval=1000", "", nil), 200, p+" with wide intervals")
			b.want(b.do("GET", "/statistics/"+p+"?interval=99999999999", "", nil), 422, p+" with a huge interval")
		}
		b.want(b.do("GET", "/statistics/job-duration?n_bins=100000000", "", nil), 422, "n_bins")
	})
}

// TestStatisticsActiveUsers holds active-user-count (computed from per-day
// aggregates) to its definition: users with a job submitted in the 90 days up
// to the end of each period.
func TestStatisticsActiveUsers(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		now := time.Now().UTC()
		at := func(user string, daysAgo int) {
			_, err := b.st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "lab", UserID: user, HardwarePlatform: "Demo"},
				Now: now.AddDate(0, 0, -daysAgo), Reserve: -1})
			noErr(t, err)
		}
		at("alice", 200) // before every window
		at("bob", 105)   // active until 15 days ago
		at("bob", 103)
		at("carol", 5) // active from 5 days ago
		at("carol", 3)
		var out []struct {
			Start, End string
			Count      map[string]int
		}
		q := fmt.Sprintf("/statistics/active-user-count?start=%s&end=%s&interval=10", now.AddDate(0, 0, -30).Format("2006-01-02"), now.Format("2006-01-02"))
		b.want(b.do("GET", q, "", nil), 200, "active users").json(t, &out)
		var got []int
		for _, o := range out {
			got = append(got, o.Count["Demo"])
		}
		// periods end 20, 10 and 0 days ago: bob (last job 103 days ago) is active at 20 but not 10 days ago
		if fmt.Sprint(got) != "[1 0 1]" {
			t.Fatalf("active Demo users per period %v (%+v)", got, out)
		}
	})
}

// BenchmarkStatistics answers each statistics endpoint on a store of 100 000
// finished jobs (2 KiB of code each, 200 users, spread over a year), over the
// default range (the last 30 days) and over the whole year ("/year"):
//
//	go test -run '^$' -bench Statistics -benchtime 20x ./api/
func BenchmarkStatistics(b *testing.B) {
	for _, d := range storetest.Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			bb := setup(b, d)
			fillJobs(b, bb.st, d.Name, 100000)
			c := newClient()
			year := "&start=" + time.Now().AddDate(-1, 0, 0).Format("2006-01-02")
			for _, p := range []string{"job-count?interval=7", "job-count?interval=7" + year, "cumulative-job-count?interval=7",
				"cumulative-user-count", "active-user-count?interval=7", "active-user-count?interval=7" + year,
				"resource-usage?interval=7", "resource-usage?interval=7" + year, "job-duration?n_bins=50", "queue-length",
				"per-user?interval=7", "per-user?interval=7" + year} {
				name := strings.SplitN(p, "?", 2)[0]
				if strings.Contains(p, "start=") {
					name += "/year"
				}
				b.Run(name, func(b *testing.B) {
					cpu0 := processCPU()
					defer func() {
						// the process's CPU time (client and server, not PostgreSQL's) per answer: what the load of others does not distort
						b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
					}()
					for i := 0; i < b.N; i++ {
						// a query of its own each time: the answer cache must not answer
						sep := "?"
						if strings.Contains(p, "?") {
							sep = "&"
						}
						req, err := http.NewRequest("GET", fmt.Sprintf("%s/statistics/%s%sbench=%d", bb.srv.URL, p, sep, i), nil)
						if err != nil {
							b.Fatal(err)
						}
						if strings.HasPrefix(p, "per-user") { // administrators only
							req.Header.Set("Authorization", "Bearer "+bb.tok["admin"])
						}
						resp, err := c.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Fatalf("%s: %d", p, resp.StatusCode)
						}
					}
				})
			}
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fillJobs inserts n finished jobs straight into the database (seeded, so
// every run measures the same store).
func fillJobs(b testing.TB, st store.Store, dialect string, n int) {
	db := st.(interface{ DB() *sql.DB }).DB()
	rng := rand.New(rand.NewSource(1))
	code := strings.Repeat("import pyNN.nest as sim  # padding\n", 60)
	now := time.Now().UTC()
	tm := func(t time.Time) any {
		if dialect == "sqlite" {
			return t.UnixMicro()
		}
		return t
	}
	platforms := []string{"Demo", "BrainScaleS-2", "SpiNNaker"}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 500
	for i := 0; i < n; i += batch {
		var vals []string
		var args []any
		for k := 0; k < batch && i+k < n; k++ {
			sub := now.Add(-time.Duration(rng.Int63n(int64(365 * 24 * time.Hour))))
			done := sub.Add(time.Duration(rng.Int63n(int64(2 * time.Hour))))
			status := "finished"
			if rng.Intn(10) == 0 {
				status = "error"
			}
			j := len(args)
			vals = append(vals, fmt.Sprintf("($%d, 'lab', $%d, $%d, $%d, $%d, $%d, $%d)", j+1, j+2, j+3, j+4, j+5, j+6, j+7))
			args = append(args, code, fmt.Sprintf("user%03d", rng.Intn(200)), status, platforms[rng.Intn(3)], tm(sub), tm(done), rng.Float64())
		}
		if _, err := tx.Exec(`INSERT INTO jobs (code, collab, user_id, status, hardware_platform, submitted_at, completed_at, resource_usage) VALUES `+strings.Join(vals, ", "), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// The rows went in around the store: compute the statistics' aggregates
	// from them, as migration 007 does for an existing database.
	cpu0, t0 := processCPU(), time.Now()
	if err := st.(interface{ StatsRebuild(context.Context) error }).StatsRebuild(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: aggregates of %d jobs built in %v (this process's CPU: %v)", dialect, n, time.Since(t0).Round(time.Millisecond), (processCPU() - cpu0).Round(time.Millisecond))
	analyze := `ANALYZE`
	if dialect == "postgres" {
		analyze = `VACUUM ANALYZE`
	}
	if _, err := db.Exec(analyze); err != nil {
		b.Fatal(err)
	}
}

// TestStatisticsActiveUsersAsBefore holds active-user-count, now computed
// from the store's per-day aggregates, to the way it was computed before
// them (from one row per platform, user and submission day) on a seeded
// random history of jobs, over ranges and intervals of several sizes.
func TestStatisticsActiveUsersAsBefore(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		seed := time.Now().UnixNano() % 1000000
		t.Logf("seed %d", seed)
		storetest.RandomJobs(t, b.st, seed, 300, nil)
		jobs, err := b.st.JobList(ctx, &store.JobListParams{IncludeRemoved: true, Oldest: true})
		noErr(t, err)
		first, last := jobs[0].SubmittedAt, jobs[len(jobs)-1].SubmittedAt
		rng := rand.New(rand.NewSource(seed))
		active := 0
		for k := 0; k < 12; k++ {
			start := first.AddDate(0, 0, rng.Intn(200)-100)
			end := start.AddDate(0, 0, rng.Intn(int(last.Sub(start).Hours()/24)+200))
			interval := 1 + rng.Intn(40)
			if k%3 == 0 { // every day of 900
				end, interval = start.AddDate(0, 0, 900), 1
			}
			for int(end.Sub(start).Hours()/24)/interval+1 > api.MaxStatsIntervals {
				interval++
			}
			q := fmt.Sprintf("/statistics/active-user-count?start=%s&end=%s&interval=%d", start.Format(time.DateOnly), end.Format(time.DateOnly), interval)
			var got []struct {
				Start, End string
				Count      map[string]int
			}
			b.want(b.do("GET", q, "", nil), 200, q).json(t, &got)
			want := activeUsersBefore(t, b.st, start, end, interval)
			if len(got) != len(want) {
				t.Fatalf("seed %d: %s: %d periods, want %d", seed, q, len(got), len(want))
			}
			for i := range got {
				if len(got[i].Count) == 0 {
					t.Fatalf("%s: no platforms in %+v", q, got[i])
				}
				for p, n := range got[i].Count {
					active += n
					if want[i][p] != n {
						t.Fatalf("seed %d: %s: period %s–%s on %s: %d active users, before %d", seed, q, got[i].Start, got[i].End, p, n, want[i][p])
					}
				}
			}
		}
		if active == 0 {
			t.Fatal("no active users in any period: the comparison tells nothing")
		}
		t.Logf("%d active users counted over all periods", active)
	})
}

// activeUsersBefore is active-user-count as it was computed before the
// aggregates: from one row per platform, user and submission day.
func activeUsersBefore(t *testing.T, st store.Store, start, end time.Time, interval int) []map[string]int {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	start, end = day(start), day(end)
	from, to := start.AddDate(0, 0, -90), end.AddDate(0, 0, 1)
	rows, err := st.JobStats(ctx, &store.JobStatsParams{From: &from, To: &to, ByDay: true, ByUser: true})
	noErr(t, err)
	var edges []time.Time
	for b := start; b.Before(end); b = b.AddDate(0, 0, interval) {
		edges = append(edges, b)
	}
	edges = append(edges, end)
	counts := make([]map[string]int, len(edges)-1)
	for i := range counts {
		counts[i] = map[string]int{}
	}
	ends := edges[1:]
	next := map[[2]string]int{}
	for _, x := range rows {
		k := [2]string{x.Platform, x.User}
		i := sort.Search(len(ends), func(i int) bool { return !ends[i].Before(x.Day) })
		if n := next[k]; n > i {
			i = n
		}
		horizon := x.Day.AddDate(0, 0, 90)
		for ; i < len(ends) && !ends[i].After(horizon); i++ {
			counts[i][x.Platform]++
			next[k] = i + 1
		}
	}
	return counts
}

// TestStatisticsJobDurationAsBefore holds job-duration, now summed by the
// store per bin, to the way it was computed before (binning every distinct
// second of duration) on a seeded random history of jobs, for several bin
// counts, maxima and both scales.
func TestStatisticsJobDurationAsBefore(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		seed := time.Now().UnixNano() % 1000000
		t.Logf("seed %d", seed)
		storetest.RandomJobs(t, b.st, seed, 300, nil)
		// jobs that last exactly a maximum asked below: the last bin includes its upper edge
		finished := store.StatusFinished
		for _, secs := range []int{10, 3600, 86400} {
			at := time.Date(2025, 3, 14, 23, 59, 59, 123456000, time.UTC)
			j, err := b.st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "lab", UserID: "alice", HardwarePlatform: "Demo"}, Now: at, Reserve: -1})
			noErr(t, err)
			_, err = b.st.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: &finished, Now: at.Add(time.Duration(secs) * time.Second)})
			noErr(t, err)
		}
		rows, err := b.st.JobDurations(ctx)
		noErr(t, err)
		drawn := 0
		for _, q := range []string{"", "n_bins=1", "n_bins=7", "n_bins=1000", "requested_max=3600", "requested_max=1", "n_bins=13&requested_max=86400",
			"scale=log", "scale=log&n_bins=7", "scale=log&requested_max=1", "scale=log&requested_max=10&n_bins=3", "scale=log&n_bins=1000"} {
			var got []json.RawMessage
			b.want(b.do("GET", "/statistics/job-duration?"+q, "", nil), 200, q).json(t, &got)
			vals, _ := url.ParseQuery(q)
			n, max := 50, 0
			if v := vals.Get("n_bins"); v != "" {
				n, _ = strconv.Atoi(v)
			}
			if v := vals.Get("requested_max"); v != "" {
				max, _ = strconv.Atoi(v)
			}
			want := jobDurationBefore(rows, n, max, vals.Get("scale"))
			if len(got) != len(want) {
				t.Fatalf("seed %d: %s: %d histograms, want %d", seed, q, len(got), len(want))
			}
			for i := range got {
				var g, w any
				wj, _ := json.Marshal(want[i])
				noErr(t, json.Unmarshal(got[i], &g))
				noErr(t, json.Unmarshal(wj, &w))
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("seed %d: %s:\n got %s\nwant %s", seed, q, got[i], wj)
				}
				for _, v := range want[i].Values {
					drawn += v
				}
			}
		}
		if drawn == 0 {
			t.Fatal("no job in any histogram: the comparison tells nothing")
		}
	})
}

type durationHistogram struct {
	Platform string    `json:"platform"`
	Status   string    `json:"status"`
	Values   []int     `json:"values"`
	Bins     []float64 `json:"bins"`
	Scale    string    `json:"scale"`
	Max      float64   `json:"max"`
}

// jobDurationBefore is job-duration as it was computed before the store
// summed bins: every distinct second binned here. Platforms are those the
// test server lists (statsPlatforms), in its order.
func jobDurationBefore(all []store.JobDuration, nBins, reqMax int, scale string) []durationHistogram {
	if scale != "log" {
		scale = "linear"
	}
	type dur struct {
		sec float64
		n   int
	}
	groups := map[[2]string][]dur{}
	for _, d := range all {
		k := [2]string{d.Status, d.Platform}
		groups[k] = append(groups[k], dur{float64(d.Seconds), d.Count})
	}
	out := []durationHistogram{}
	for _, status := range []string{store.StatusFinished, store.StatusError} {
		for _, p := range testStatsPlatforms {
			ds := groups[[2]string{status, p}]
			if len(ds) == 0 {
				continue
			}
			max := float64(reqMax)
			if reqMax == 0 {
				m := 0.0
				for _, d := range ds {
					m = math.Max(m, d.sec)
				}
				max = (math.Floor(m/float64(nBins)) + 1) * float64(nBins)
			}
			h := durationHistogram{Platform: p, Status: status, Values: make([]int, nBins), Bins: make([]float64, nBins+1), Scale: scale, Max: max}
			lo, hi := 0.0, max
			if scale == "log" {
				hi = math.Ceil(math.Log10(math.Max(max, 1)))
			}
			for i := range h.Bins {
				h.Bins[i] = lo + (hi-lo)*float64(i)/float64(nBins)
			}
			for _, d := range ds {
				x := d.sec
				if scale == "log" {
					x = math.Log10(math.Max(d.sec, 1))
				}
				i := int((x - lo) / (hi - lo) * float64(nBins))
				if i == nBins && x == hi {
					i--
				}
				if i >= 0 && i < nBins {
					h.Values[i] += d.n
				}
			}
			out = append(out, h)
		}
	}
	return out
}

// testStatsPlatforms are the default table's platforms that statistics list.
var testStatsPlatforms = func() []string {
	var out []string
	t := platform.Table(nil).OrDefault()
	for _, p := range t.Names() {
		if row, _ := t.Lookup(p); !row.TestOnly {
			out = append(out, p)
		}
	}
	return out
}()
