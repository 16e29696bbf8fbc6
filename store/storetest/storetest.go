package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// t0 is a fixed clock start so that results do not depend on when tests run.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// Exercise runs the conformance suite against fresh stores from open.
func Exercise(t *testing.T, open func(t testing.TB) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Collabs", testCollabs},
		{"Tokens", testTokens},
		{"Providers", testProviders},
		{"JobInsertGet", testJobInsertGet},
		{"JobList", testJobList},
		{"JobClaim", testJobClaim},
		{"JobClaimConcurrent", testJobClaimConcurrent},
		{"JobLease", testJobLease},
		{"JobRescue", testJobRescue},
		{"JobUpdate", testJobUpdate},
		{"JobCharge", testJobCharge},
		{"JobDelete", testJobDelete},
		{"StatsAggregates", testStatsAggregates},
		{"StatsConcurrent", testStatsConcurrent},
		{"QuotaAdmission", testQuotaAdmission},
		{"QuotaAdmissionConcurrent", testQuotaAdmissionConcurrent},
		{"Logs", testLogs},
		{"Tags", testTags},
		{"Comments", testComments},
		{"DataItems", testDataItems},
		{"StorageQuota", testStorageQuota},
		{"Projects", testProjects},
		{"Quotas", testQuotas},
		{"Sessions", testSessions},
		{"Settings", testSettings},
		{"Ephemeral", testEphemeral},
		{"BenchmarkSources", testBenchmarkSources},
		{"BenchmarkRuns", testBenchmarkRuns},
		{"BenchmarkRunsConcurrent", testBenchmarkRunsConcurrent},
		{"BenchmarkSystems", testBenchmarkSystems},
		{"Calibrations", testCalibrations},
		{"CalibrationClaimConcurrent", testCalibrationClaimConcurrent},
		{"JobStats", testJobStats},
		{"JobListSummary", testJobListSummary},
		{"JobIdempotency", testJobIdempotency},
		{"JobClaimHold", testJobClaimHold},
		{"JobsOverQuota", testJobsOverQuota},
		{"KeptFiles", testKeptFiles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					f, ok := r.(failure)
					if !ok {
						panic(r)
					}
					t.Fatalf("%s: %v", f.line, f.err)
				}
			}()
			tc.fn(t, open(t))
		})
	}
}

// failure carries an unexpected error from must to the subtest, which fails with it.
type failure struct {
	err  error
	line string
}

// must returns v, or fails the running subtest when err is set (see Exercise).
func must[T any](v T, err error) T {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{err, fmt.Sprintf("%s:%d", filepath.Base(file), line)})
	}
	return v
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		_, file, line, _ := runtime.Caller(1)
		panic(failure{err, fmt.Sprintf("%s:%d", filepath.Base(file), line)})
	}
	return a, b
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func ptr[T any](v T) *T { return &v }

var ctx = context.Background()

// seed creates a user, a collab and an accepted project with one quota on platform.
func seed(t *testing.T, s store.Store, collab, platform string, limit float64) *store.Project {
	t.Helper()
	if _, err := s.UserGet(ctx, "alice"); errors.Is(err, store.ErrNotFound) {
		must(s.UserCreate(ctx, &store.UserCreateParams{Username: "alice", Now: t0}))
	}
	if _, err := s.CollabGet(ctx, collab); errors.Is(err, store.ErrNotFound) {
		must(s.CollabCreate(ctx, &store.CollabCreateParams{Name: collab, Now: t0}))
	}
	p := must(s.ProjectCreate(ctx, &store.Project{ID: newUUID(), Collab: collab, Owner: "alice", Title: "t", Abstract: "a"}))
	return must(s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Decide: ptr(true), Grant: []store.Quota{{Platform: platform, Units: "hours", Limit: limit}}, Now: t0}))
}

func newUUID() string {
	b := randHex(16)
	return b[0:8] + "-" + b[8:12] + "-4" + b[13:16] + "-8" + b[17:20] + "-" + b[20:32]
}

func job(collab, platform string) store.Job {
	return store.Job{Code: "print(1)", Command: "run.py {system}", Collab: collab, UserID: "alice", HardwarePlatform: platform}
}

func insert(t *testing.T, s store.Store, j store.Job, reserve float64) *store.Job {
	t.Helper()
	return must(s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: t0, Reserve: reserve}))
}

func testUsers(t *testing.T, s store.Store) {
	u := must(s.UserCreate(ctx, &store.UserCreateParams{Username: "alice", Email: "a@example.org", GivenName: "Alice", FamilyName: "Liddell", Now: t0}))
	if u.Username != "alice" || u.Email != "a@example.org" || !u.CreatedAt.Equal(t0.Truncate(time.Microsecond)) || u.Admin {
		t.Fatalf("created user %+v", u)
	}
	_, err := s.UserCreate(ctx, &store.UserCreateParams{Username: "alice"})
	wantErr(t, err, store.ErrExists)
	_, err = s.UserGet(ctx, "bob")
	wantErr(t, err, store.ErrNotFound)
	u = must(s.UserUpdate(ctx, &store.UserUpdateParams{Username: "alice", Admin: ptr(true), PasswordHash: ptr("h")}))
	if !u.Admin || u.PasswordHash != "h" || u.GivenName != "Alice" {
		t.Fatalf("updated user %+v", u)
	}
	_, err = s.UserUpdate(ctx, &store.UserUpdateParams{Username: "bob", Admin: ptr(true)})
	wantErr(t, err, store.ErrNotFound)
	must(s.UserCreate(ctx, &store.UserCreateParams{Username: "bob"}))
	if us := must(s.UserList(ctx)); len(us) != 2 || us[0].Username != "alice" || us[1].Username != "bob" {
		t.Fatalf("users %+v", us)
	}
}

func testCollabs(t *testing.T, s store.Store) {
	must(s.UserCreate(ctx, &store.UserCreateParams{Username: "alice"}))
	must(s.UserCreate(ctx, &store.UserCreateParams{Username: "bob"}))
	c := must(s.CollabCreate(ctx, &store.CollabCreateParams{Name: "neuro", Title: "Neuro lab", Public: true, Now: t0}))
	if !c.Public || c.Title != "Neuro lab" {
		t.Fatalf("collab %+v", c)
	}
	_, err := s.CollabCreate(ctx, &store.CollabCreateParams{Name: "neuro"})
	wantErr(t, err, store.ErrExists)
	must(s.CollabCreate(ctx, &store.CollabCreateParams{Name: "secret"}))
	check(t, s.CollabMemberSet(ctx, &store.Member{Collab: "neuro", Username: "alice", Role: store.RoleEditor}))
	check(t, s.CollabMemberSet(ctx, &store.Member{Collab: "neuro", Username: "alice", Role: store.RoleAdministrator}))
	check(t, s.CollabMemberSet(ctx, &store.Member{Collab: "secret", Username: "alice", Role: store.RoleViewer}))
	check(t, s.CollabMemberSet(ctx, &store.Member{Collab: "neuro", Username: "bob", Role: store.RoleViewer}))
	wantErr(t, s.CollabMemberSet(ctx, &store.Member{Collab: "nope", Username: "bob", Role: store.RoleViewer}), store.ErrNotFound)
	wantErr(t, s.CollabMemberSet(ctx, &store.Member{Collab: "neuro", Username: "carol", Role: store.RoleViewer}), store.ErrNotFound)
	ms := must(s.CollabMemberList(ctx, &store.CollabMemberListParams{Username: "alice"}))
	if len(ms) != 2 || ms[0] != (store.Member{Collab: "neuro", Username: "alice", Role: store.RoleAdministrator}) || ms[1].Collab != "secret" {
		t.Fatalf("alice's memberships %+v", ms)
	}
	ms = must(s.CollabMemberList(ctx, &store.CollabMemberListParams{Collab: "neuro"}))
	if len(ms) != 2 {
		t.Fatalf("neuro members %+v", ms)
	}
	check(t, s.CollabMemberRemove(ctx, "neuro", "bob"))
	wantErr(t, s.CollabMemberRemove(ctx, "neuro", "bob"), store.ErrNotFound)
	if cs := must(s.CollabList(ctx)); len(cs) != 2 || cs[0].Name != "neuro" {
		t.Fatalf("collabs %+v", cs)
	}
}

func testTokens(t *testing.T, s store.Store) {
	must(s.UserCreate(ctx, &store.UserCreateParams{Username: "alice"}))
	tok := &store.Token{ID: "t1", Hash: "h1", Username: "alice", Label: "laptop", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	check(t, s.TokenCreate(ctx, tok))
	wantErr(t, s.TokenCreate(ctx, &store.Token{ID: "t2", Hash: "h1", Username: "alice", ExpiresAt: t0}), store.ErrExists)
	got := must(s.TokenGetByHash(ctx, "h1"))
	if got.ID != "t1" || got.Username != "alice" || !got.ExpiresAt.Equal(t0.Add(time.Hour).Truncate(time.Microsecond)) || got.RevokedAt != nil {
		t.Fatalf("token %+v", got)
	}
	_, err := s.TokenGetByHash(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	check(t, s.TokenRevoke(ctx, "t1", t0.Add(time.Minute)))
	wantErr(t, s.TokenRevoke(ctx, "t1", t0), store.ErrNotFound)
	if got = must(s.TokenGetByHash(ctx, "h1")); got.RevokedAt == nil {
		t.Fatal("revoked token has no revocation time")
	}
	if ts := must(s.TokenList(ctx, "alice")); len(ts) != 1 {
		t.Fatalf("tokens %+v", ts)
	}
}

func testProviders(t *testing.T, s store.Store) {
	check(t, s.ProviderCreate(ctx, &store.Provider{Name: "uhei", Platforms: []string{"BrainScaleS", "BrainScaleS-2"}, CreatedAt: t0}))
	wantErr(t, s.ProviderCreate(ctx, &store.Provider{Name: "uhei"}), store.ErrExists)
	p := must(s.ProviderGet(ctx, "uhei"))
	if strings.Join(p.Platforms, ",") != "BrainScaleS,BrainScaleS-2" {
		t.Fatalf("provider %+v", p)
	}
	check(t, s.APIKeyCreate(ctx, &store.APIKey{ID: "k1", Hash: "kh", Provider: "uhei", CreatedAt: t0}))
	if err := s.APIKeyCreate(ctx, &store.APIKey{ID: "k2", Hash: "kh2", Provider: "nobody", CreatedAt: t0}); err == nil {
		t.Fatal("api key for an unknown provider was accepted")
	}
	k := must(s.APIKeyGetByHash(ctx, "kh"))
	if k.Provider != "uhei" || k.ExpiresAt != nil || k.RevokedAt != nil {
		t.Fatalf("key %+v", k)
	}
	check(t, s.APIKeyRevoke(ctx, "k1", t0))
	if k = must(s.APIKeyGetByHash(ctx, "kh")); k.RevokedAt == nil {
		t.Fatal("revoked key has no revocation time")
	}
	if ps := must(s.ProviderList(ctx)); len(ps) != 1 || len(ps[0].Platforms) != 2 {
		t.Fatalf("providers %+v", ps)
	}
}

func testJobInsertGet(t *testing.T, s store.Store) {
	j := job("neuro", "SpiNNaker")
	j.HardwareConfig = json.RawMessage(`{"a":1}`)
	j.InputData = json.RawMessage(`[{"url":"http://example.com/x"}]`)
	j.Tags = []string{"b-tag", "a-tag"}
	got := insert(t, s, j, -1)
	if got.ID == 0 || got.Status != store.StatusSubmitted || !got.SubmittedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("inserted %+v", got)
	}
	if strings.Join(got.Tags, ",") != "a-tag,b-tag" {
		t.Fatalf("tags %v", got.Tags)
	}
	g := must(s.JobGet(ctx, got.ID))
	if string(g.HardwareConfig) != `{"a":1}` || string(g.InputData) != string(j.InputData) || g.Provenance != nil || g.StartedAt != nil || g.ResourceUsage != nil {
		t.Fatalf("got %+v", g)
	}
	_, err := s.JobGet(ctx, got.ID+100)
	wantErr(t, err, store.ErrNotFound)
	second := insert(t, s, job("neuro", "SpiNNaker"), -1)
	if second.ID <= got.ID {
		t.Fatalf("ids not increasing: %d then %d", got.ID, second.ID)
	}
}

func testJobList(t *testing.T, s store.Store) {
	var ids []int64
	for i := 0; i < 12; i++ {
		j := job([]string{"a", "b"}[i%2], []string{"SpiNNaker", "BrainScaleS"}[i%3/2])
		j.UserID = []string{"alice", "bob", "carol"}[i%3]
		if i%4 == 0 {
			j.Tags = []string{"even4"}
		}
		ids = append(ids, must(s.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: t0.Add(time.Duration(i) * time.Hour), Reserve: -1})).ID)
	}
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: ids[0], Status: ptr(store.StatusRemoved)}))
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: ids[1], Status: ptr(store.StatusFinished), Now: t0.Add(30 * time.Hour)}))
	list := func(p store.JobListParams) []int64 {
		t.Helper()
		js := must(s.JobList(ctx, &p))
		out := make([]int64, len(js))
		for i, j := range js {
			out[i] = j.ID
			if j.Tags == nil {
				t.Fatal("listed job without a tag slice")
			}
		}
		return out
	}
	all := list(store.JobListParams{})
	if len(all) != 11 || all[0] != ids[11] || all[10] != ids[1] {
		t.Fatalf("default list (newest first, no removed) %v", all)
	}
	if got := list(store.JobListParams{IncludeRemoved: true, Oldest: true, Limit: 2}); fmt.Sprint(got) != fmt.Sprint(ids[:2]) {
		t.Fatalf("oldest two %v", got)
	}
	if got := list(store.JobListParams{Limit: 3, Offset: 2}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[9], ids[8], ids[7]}) {
		t.Fatalf("paged %v", got)
	}
	if got := list(store.JobListParams{Collab: []string{"a"}, UserID: []string{"alice"}}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[6]}) {
		t.Fatalf("collab a, alice: %v", got)
	}
	if got := list(store.JobListParams{Status: []string{store.StatusFinished, store.StatusError}}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[1]}) {
		t.Fatalf("finished: %v", got)
	}
	if got := list(store.JobListParams{Tags: []string{"even4", "none"}}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[8], ids[4]}) {
		t.Fatalf("tagged: %v", got)
	}
	if got := list(store.JobListParams{HardwarePlatform: []string{"BrainScaleS"}}); len(got) != 4 {
		t.Fatalf("BrainScaleS: %v", got)
	}
	if got := list(store.JobListParams{SubmittedFrom: ptr(t0.Add(10 * time.Hour)), SubmittedTo: ptr(t0.Add(11 * time.Hour))}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[10]}) {
		t.Fatalf("date range: %v", got)
	}
	if got := list(store.JobListParams{CompletedFrom: ptr(t0.Add(29 * time.Hour))}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[1]}) {
		t.Fatalf("completed range: %v", got)
	}
	if n := must(s.JobCount(ctx, &store.JobCountParams{HardwarePlatform: "SpiNNaker", Status: store.StatusSubmitted})); n != 6 {
		t.Fatalf("count %d", n)
	}
}

func testJobClaim(t *testing.T, s store.Store) {
	_, err := s.JobClaim(ctx, &store.JobClaimParams{Platform: "SpiNNaker", LeaseID: "l0", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrNotFound)
	a := insert(t, s, job("c", "SpiNNaker"), -1)
	b := insert(t, s, job("c", "SpiNNaker"), -1)
	insert(t, s, job("c", "BrainScaleS"), -1)
	if n := must(s.JobNext(ctx, "SpiNNaker")); n.ID != a.ID || n.Status != store.StatusSubmitted {
		t.Fatalf("next %+v", n)
	}
	got := must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "SpiNNaker", Owner: "uman", LeaseID: "l1", Lease: time.Minute, Now: t0}))
	if got.ID != a.ID || got.Status != store.StatusRunning || got.LeaseID != "l1" || got.LeaseOwner != "uman" || got.Attempts != 1 ||
		!got.LeaseExpiresAt.Equal(t0.Add(time.Minute).Truncate(time.Microsecond)) || got.StartedAt == nil {
		t.Fatalf("claimed %+v", got)
	}
	if n := must(s.JobNext(ctx, "SpiNNaker")); n.ID != b.ID {
		t.Fatalf("next after claim %+v", n)
	}
	must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "SpiNNaker", LeaseID: "l2", Lease: time.Minute, Now: t0}))
	_, err = s.JobClaim(ctx, &store.JobClaimParams{Platform: "SpiNNaker", LeaseID: "l3", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.JobNext(ctx, "SpiNNaker")
	wantErr(t, err, store.ErrNotFound)
}

func testJobClaimConcurrent(t *testing.T, s store.Store) {
	const jobs, claimers = 60, 8
	for i := 0; i < jobs; i++ {
		insert(t, s, job("c", "Demo"), -1)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	var errs atomic.Int32
	for w := 0; w < claimers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				j, err := s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: fmt.Sprint(w), LeaseID: fmt.Sprintf("%d-%d", w, i), Lease: time.Minute})
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					errs.Add(1)
					return
				}
				mu.Lock()
				seen[j.ID]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if errs.Load() > 0 {
		return
	}
	if len(seen) != jobs {
		t.Fatalf("%d distinct jobs claimed, want %d", len(seen), jobs)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %d claimed %d times", id, n)
		}
	}
}

func testJobLease(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "Demo"), -1)
	_, err := s.JobLeaseRenew(ctx, &store.JobLeaseRenewParams{ID: j.ID, LeaseID: "x", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrLeaseLost)
	_, err = s.JobLeaseRenew(ctx, &store.JobLeaseRenewParams{ID: j.ID + 99, LeaseID: "x", Lease: time.Minute, Now: t0})
	wantErr(t, err, store.ErrNotFound)
	must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", LeaseID: "L", Lease: time.Minute, Now: t0}))
	r := must(s.JobLeaseRenew(ctx, &store.JobLeaseRenewParams{ID: j.ID, LeaseID: "L", Lease: 5 * time.Minute, Now: t0.Add(time.Minute)}))
	if !r.LeaseExpiresAt.Equal(t0.Add(6 * time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("renewed to %v", r.LeaseExpiresAt)
	}
	_, err = s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, LeaseID: "other", Status: ptr(store.StatusFinished)})
	wantErr(t, err, store.ErrLeaseLost)
	f := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, LeaseID: "L", Status: ptr(store.StatusFinished), Now: t0.Add(2 * time.Minute)}))
	if f.LeaseID != "" || f.LeaseExpiresAt != nil || f.CompletedAt == nil {
		t.Fatalf("finished job keeps its lease: %+v", f)
	}
	_, err = s.JobLeaseRenew(ctx, &store.JobLeaseRenewParams{ID: j.ID, LeaseID: "L", Lease: time.Minute})
	wantErr(t, err, store.ErrLeaseLost)
}

func testJobRescue(t *testing.T, s store.Store) {
	seed(t, s, "c", "Demo", 10)
	j := insert(t, s, job("c", "Demo"), 1)
	other := insert(t, s, job("c", "Demo"), 1)
	_ = other
	for attempt := 1; attempt <= 3; attempt++ {
		now := t0.Add(time.Duration(attempt) * time.Hour)
		c := must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "w", LeaseID: fmt.Sprint("L", attempt), Lease: time.Minute, Now: now}))
		if c.ID != j.ID || c.Attempts != attempt {
			t.Fatalf("attempt %d claimed %d (attempts %d)", attempt, c.ID, c.Attempts)
		}
		if rs := must(s.JobRescue(ctx, &store.JobRescueParams{Now: now.Add(30 * time.Second), MaxAttempts: 3})); len(rs) != 0 {
			t.Fatalf("rescued a job whose lease runs: %+v", rs)
		}
		rs := must(s.JobRescue(ctx, &store.JobRescueParams{Now: now.Add(2 * time.Minute), MaxAttempts: 3}))
		want := store.StatusSubmitted
		if attempt == 3 {
			want = store.StatusError
		}
		if len(rs) != 1 || rs[0].ID != j.ID || rs[0].Status != want {
			t.Fatalf("attempt %d: rescue %+v", attempt, rs)
		}
		got := must(s.JobGet(ctx, j.ID))
		if got.Status != want || got.LeaseID != "" {
			t.Fatalf("attempt %d: job after rescue %+v", attempt, got)
		}
		// The old runner comes back: its lease is gone.
		_, err := s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, LeaseID: fmt.Sprint("L", attempt), Status: ptr(store.StatusFinished)})
		wantErr(t, err, store.ErrLeaseLost)
	}
	log := must(s.JobLogGet(ctx, j.ID))
	if strings.Count(log, "lease of w") != 3 || !strings.Contains(log, "will not be retried") {
		t.Fatalf("log after rescues:\n%s", log)
	}
	// The errored job's reservation is released; the other's is held.
	q := must(s.ProjectList(ctx, &store.ProjectListParams{Collab: []string{"c"}}))[0].Quotas[0]
	if q.Reserved != 1 || q.Usage != 0 {
		t.Fatalf("quota after rescue %+v", q)
	}
}

func testJobUpdate(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "SpiNNaker"), -1)
	v := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusValidated), Now: t0}))
	if v.Status != store.StatusValidated || v.StartedAt == nil {
		t.Fatalf("validated %+v", v)
	}
	r := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusRunning), Provenance: json.RawMessage(`{"host":"x"}`), Repository: ptr("repo"), Now: t0.Add(time.Hour)}))
	if !r.StartedAt.Equal(v.StartedAt.Truncate(time.Microsecond)) || string(r.Provenance) != `{"host":"x"}` || r.OutputRepository != "repo" {
		t.Fatalf("running %+v", r)
	}
	back := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusSubmitted)}))
	if back.Status != store.StatusSubmitted {
		t.Fatalf("reset %+v", back)
	}
	e := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusError), Now: t0.Add(2 * time.Hour)}))
	if e.CompletedAt == nil || !e.CompletedAt.Equal(t0.Add(2*time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("error %+v", e)
	}
	// The same status again is a no-op (runners PUT the whole job repeatedly); a new one is refused.
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusError)}))
	_, err := s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusRunning)})
	wantErr(t, err, store.ErrConflict)
	_, err = s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID + 50, Status: ptr(store.StatusRunning)})
	wantErr(t, err, store.ErrNotFound)
	// An ended job can be removed (hidden), keeping its completion; a removed one stays removed.
	rm := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusRemoved)}))
	if rm.Status != store.StatusRemoved || rm.CompletedAt == nil || !rm.CompletedAt.Equal(e.CompletedAt.Truncate(time.Microsecond)) {
		t.Fatalf("removed %+v", rm)
	}
	_, err = s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusFinished)})
	wantErr(t, err, store.ErrConflict)
}

func quotaOf(t *testing.T, s store.Store, projectID string, i int) store.Quota {
	t.Helper()
	return must(s.ProjectGet(ctx, projectID)).Quotas[i]
}

func testJobCharge(t *testing.T, s store.Store) {
	p := seed(t, s, "c", "SpiNNaker", 10)
	second := must(s.QuotaCreate(ctx, &store.Quota{ProjectID: p.ID, Platform: "SpiNNaker", Units: "core-hours", Limit: 5}))
	j := insert(t, s, job("c", "SpiNNaker"), 2)
	if q := quotaOf(t, s, p.ID, 0); q.Reserved != 2 {
		t.Fatalf("reserved %+v", q)
	}
	// Usage reported while running is not charged yet.
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusRunning), ResourceUsage: ptr(4.0)}))
	if q := quotaOf(t, s, p.ID, 0); q.Usage != 0 {
		t.Fatalf("charged before the end %+v", q)
	}
	f := must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, Status: ptr(store.StatusFinished), ResourceUsage: ptr(12.0)}))
	if f.Charged != 12 || f.HoldAmount != 0 || f.HoldQuotaID != nil {
		t.Fatalf("finished %+v", f)
	}
	if q0, q1 := quotaOf(t, s, p.ID, 0), quotaOf(t, s, p.ID, 1); q0.Usage != 10 || q0.Reserved != 0 || q1.Usage != 2 || q1.ID != second.ID {
		t.Fatalf("spread: %+v %+v", q0, q1)
	}
	// A repeated report charges nothing more; a larger one charges the difference, past the limit.
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, ResourceUsage: ptr(12.0)}))
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, ResourceUsage: ptr(20.0)}))
	if q1 := quotaOf(t, s, p.ID, 1); q1.Usage != 10 {
		t.Fatalf("overrun not recorded: %+v", q1)
	}
	// With the quotas overspent, admission is refused.
	_, err := s.JobInsert(ctx, &store.JobInsertParams{Job: job("c", "SpiNNaker"), Reserve: 0})
	wantErr(t, err, store.ErrQuotaExceeded)
	// A corrected, smaller report refunds, newest quota first.
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, ResourceUsage: ptr(11.0)}))
	if q0, q1 := quotaOf(t, s, p.ID, 0), quotaOf(t, s, p.ID, 1); q0.Usage != 10 || q1.Usage != 1 {
		t.Fatalf("refund: %+v %+v", q0, q1)
	}
}

func testJobDelete(t *testing.T, s store.Store) {
	p := seed(t, s, "c", "Demo", 5)
	j := insert(t, s, job("c", "Demo"), 1)
	must(s.CommentCreate(ctx, &store.Comment{JobID: j.ID, UserID: "alice", Content: "x"}))
	check(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID, Content: "log"}))
	must(s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID, Path: "a", URL: "http://x/a"}, Collab: "c"}))
	check(t, s.JobDelete(ctx, j.ID))
	_, err := s.JobGet(ctx, j.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.JobDelete(ctx, j.ID), store.ErrNotFound)
	if q := quotaOf(t, s, p.ID, 0); q.Reserved != 0 {
		t.Fatalf("deleted job's hold kept: %+v", q)
	}
}

func testQuotaAdmission(t *testing.T, s store.Store) {
	// No project: refused.
	_, err := s.JobInsert(ctx, &store.JobInsertParams{Job: job("c", "Demo"), Reserve: 0})
	wantErr(t, err, store.ErrQuotaExceeded)
	p := seed(t, s, "c", "Demo", 3)
	// A project that is not accepted does not count.
	must(s.ProjectCreate(ctx, &store.Project{ID: newUUID(), Collab: "c", Owner: "alice", Title: "t", Abstract: "a"}))
	for i := 0; i < 3; i++ {
		insert(t, s, job("c", "Demo"), 1)
	}
	_, err = s.JobInsert(ctx, &store.JobInsertParams{Job: job("c", "Demo"), Reserve: 1})
	wantErr(t, err, store.ErrQuotaExceeded)
	// Other platforms and collabs have their own quotas.
	_, err = s.JobInsert(ctx, &store.JobInsertParams{Job: job("c", "SpiNNaker"), Reserve: 1})
	wantErr(t, err, store.ErrQuotaExceeded)
	// Ending a job frees its hold.
	first := must(s.JobList(ctx, &store.JobListParams{Oldest: true, Limit: 1}))[0]
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: first.ID, Status: ptr(store.StatusRemoved)}))
	insert(t, s, job("c", "Demo"), 1)
	if q := quotaOf(t, s, p.ID, 0); q.Reserved != 3 || q.Usage != 0 {
		t.Fatalf("quota %+v", q)
	}
}

func testQuotaAdmissionConcurrent(t *testing.T, s store.Store) {
	// Two quotas (15 + 10), so that admissions fill the first and move on to
	// the second while others race them: a test of lock ordering as well.
	const limit, tries = 25, 120
	p := seed(t, s, "c", "SpiNNaker", 15)
	must(s.QuotaCreate(ctx, &store.Quota{ProjectID: p.ID, Platform: "SpiNNaker", Units: "hours", Limit: 10}))
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := s.JobInsert(ctx, &store.JobInsertParams{Job: job("c", "SpiNNaker"), Reserve: 1})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrQuotaExceeded):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != limit || refused.Load() != tries-limit {
		t.Fatalf("admitted %d and refused %d of %d against a quota of %d", ok.Load(), refused.Load(), tries, limit)
	}
	if q0, q1 := quotaOf(t, s, p.ID, 0), quotaOf(t, s, p.ID, 1); math.Abs(q0.Reserved-15) > 1e-9 || math.Abs(q1.Reserved-10) > 1e-9 {
		t.Fatalf("reserved %v and %v, want 15 and 10", q0.Reserved, q1.Reserved)
	}
	// Charging concurrently never loses an update either.
	js := must(s.JobList(ctx, &store.JobListParams{}))
	for _, j := range js {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := s.JobUpdate(ctx, &store.JobUpdateParams{ID: id, Status: ptr(store.StatusFinished), ResourceUsage: ptr(0.5)}); err != nil {
				t.Error(err)
			}
		}(j.ID)
	}
	wg.Wait()
	q0, q1 := quotaOf(t, s, p.ID, 0), quotaOf(t, s, p.ID, 1)
	if math.Abs(q0.Usage+q1.Usage-limit*0.5) > 1e-9 || math.Abs(q0.Reserved)+math.Abs(q1.Reserved) > 1e-9 || q0.Usage < 12.5-1e-9 {
		t.Fatalf("after charging: %+v %+v", q0, q1)
	}
}

func testLogs(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "Demo"), -1)
	if l := must(s.JobLogGet(ctx, j.ID)); l != "" {
		t.Fatalf("new log %q", l)
	}
	_, err := s.JobLogGet(ctx, j.ID+7)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID + 7, Content: "x"}), store.ErrNotFound)
	check(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID, Content: "one\n", Append: true}))
	check(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID, Content: "two\n", Append: true}))
	if l := must(s.JobLogGet(ctx, j.ID)); l != "one\ntwo\n" {
		t.Fatalf("appended %q", l)
	}
	check(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID, Content: "whole\n"}))
	if l := must(s.JobLogGet(ctx, j.ID)); l != "whole\n" {
		t.Fatalf("replaced %q", l)
	}
	big := strings.Repeat("0123456789", 100)
	max := 300
	check(t, s.JobLogSet(ctx, &store.JobLogSetParams{ID: j.ID, Content: big + "END", Append: true, MaxBytes: max}))
	l := must(s.JobLogGet(ctx, j.ID))
	if len(l) != max || !strings.HasPrefix(l, "[nmp: earlier log lines were dropped") || !strings.HasSuffix(l, "789END") {
		t.Fatalf("capped log (%d bytes): %q", len(l), l)
	}
}

func testTags(t *testing.T, s store.Store) {
	a := insert(t, s, store.Job{Code: "x", Collab: "c1", UserID: "u", HardwarePlatform: "Demo", Tags: []string{"x1"}}, -1)
	insert(t, s, store.Job{Code: "x", Collab: "c2", UserID: "u", HardwarePlatform: "Demo", Tags: []string{"y1"}}, -1)
	tags := must(s.JobTagsAdd(ctx, a.ID, []string{"b", "a", "b"}))
	if strings.Join(tags, ",") != "a,b,x1" {
		t.Fatalf("tags %v", tags)
	}
	tags = must(s.JobTagsRemove(ctx, a.ID, []string{"b", "zz"}))
	if strings.Join(tags, ",") != "a,x1" {
		t.Fatalf("tags %v", tags)
	}
	_, err := s.JobTagsAdd(ctx, a.ID+9, []string{"q"})
	wantErr(t, err, store.ErrNotFound)
	if got := must(s.TagList(ctx, []string{"c1"})); strings.Join(got, ",") != "a,x1" {
		t.Fatalf("c1 tags %v", got)
	}
	if got := must(s.TagList(ctx, nil)); strings.Join(got, ",") != "a,x1,y1" {
		t.Fatalf("all tags %v", got)
	}
	if got := must(s.TagList(ctx, []string{})); len(got) != 0 {
		t.Fatalf("no collabs, tags %v", got)
	}
}

func testComments(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "Demo"), -1)
	c1 := must(s.CommentCreate(ctx, &store.Comment{JobID: j.ID, UserID: "alice", Content: "first", CreatedAt: t0}))
	must(s.CommentCreate(ctx, &store.Comment{JobID: j.ID, UserID: "bob", Content: "second", CreatedAt: t0}))
	_, err := s.CommentCreate(ctx, &store.Comment{JobID: j.ID + 3, UserID: "bob", Content: "x"})
	wantErr(t, err, store.ErrNotFound)
	cs := must(s.CommentList(ctx, j.ID))
	if len(cs) != 2 || cs[0].Content != "first" || cs[1].UserID != "bob" {
		t.Fatalf("comments %+v", cs)
	}
	u := must(s.CommentUpdate(ctx, c1.ID, "edited"))
	if u.Content != "edited" || u.UserID != "alice" {
		t.Fatalf("edited %+v", u)
	}
	check(t, s.CommentDelete(ctx, c1.ID))
	wantErr(t, s.CommentDelete(ctx, c1.ID), store.ErrNotFound)
	_, err = s.CommentGet(ctx, c1.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CommentUpdate(ctx, c1.ID, "x")
	wantErr(t, err, store.ErrNotFound)
}

func testDataItems(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "Demo"), -1)
	for i := 0; i < 3; i++ { // repeated posts do not duplicate
		must(s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID, Path: "out/spikes.dat", URL: fmt.Sprint("http://example.com/", i), Size: ptr(int64(10 + i))}, Collab: "c"}))
	}
	must(s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID, Path: "b.txt", URL: "http://example.com/b"}, Collab: "c"}))
	ds := must(s.DataItemList(ctx, []int64{j.ID}))
	if len(ds) != 2 || ds[0].Path != "out/spikes.dat" || ds[0].URL != "http://example.com/2" || *ds[0].Size != 12 || ds[1].Size != nil {
		t.Fatalf("items %+v", ds)
	}
	_, err := s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID + 5, Path: "x"}, Collab: "c"})
	wantErr(t, err, store.ErrNotFound)
	d := must(s.DataItemGet(ctx, j.ID, "b.txt"))
	if d.URL != "http://example.com/b" {
		t.Fatalf("item %+v", d)
	}
	_, err = s.DataItemGet(ctx, j.ID, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testStorageQuota(t *testing.T, s store.Store) {
	j := insert(t, s, job("c", "Demo"), -1)
	stored := func(path string, size int64, expires time.Time) error {
		_, err := s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID, Path: path, Size: &size, Stored: true, ExpiresAt: &expires}, Collab: "c", Now: t0})
		return err
	}
	// No storage quota: nothing may be stored.
	wantErr(t, stored("a", 1, t0.Add(time.Hour)), store.ErrStorageExceeded)
	p := must(s.ProjectCreate(ctx, &store.Project{ID: newUUID(), Collab: "c", Owner: "alice", Title: "t", Abstract: "a"}))
	must(s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Decide: ptr(true), Grant: []store.Quota{{Platform: "Storage", Units: "GB", Limit: 1e-6}}})) // 1000 bytes
	check(t, stored("a", 600, t0.Add(time.Hour)))
	wantErr(t, stored("b", 500, t0.Add(2*time.Hour)), store.ErrStorageExceeded)
	check(t, stored("a", 200, t0.Add(time.Hour))) // replacing a file frees its old size
	check(t, stored("b", 500, t0.Add(2*time.Hour)))
	used, limit := must2(s.StorageUsage(ctx, "c"))
	if used != 700 || limit != 1000 {
		t.Fatalf("usage %d of %d", used, limit)
	}
	if q := quotaOf(t, s, p.ID, 0); math.Abs(q.Usage-700e-9) > 1e-15 {
		t.Fatalf("storage quota usage %v", q.Usage)
	}
	// A file kept for good (copied to longer-term storage) never expires.
	check(t, stored("c", 100, t0.Add(time.Hour)))
	if n := must(s.DataItemRetain(ctx, j.ID, nil)); n != 3 {
		t.Fatalf("retained %d files", n)
	}
	check(t, stored("a", 200, t0.Add(time.Hour)))
	check(t, stored("b", 500, t0.Add(2*time.Hour)))
	c := must(s.DataItemGet(ctx, j.ID, "c"))
	if c.ExpiresAt != nil {
		t.Fatalf("retained file expires %v", c.ExpiresAt)
	}
	// Retention: "a" expires first; "c" stays.
	gone := must(s.DataItemExpire(ctx, &store.DataItemExpireParams{Now: t0.Add(90 * time.Minute)}))
	if len(gone) != 1 || gone[0].Path != "a" {
		t.Fatalf("expired %+v", gone)
	}
	if used, _ = must2(s.StorageUsage(ctx, "c")); used != 600 {
		t.Fatalf("usage after expiry %d", used)
	}
	if q := quotaOf(t, s, p.ID, 0); math.Abs(q.Usage-600e-9) > 1e-15 {
		t.Fatalf("storage quota usage after expiry %v", q.Usage)
	}
}

func testProjects(t *testing.T, s store.Store) {
	id := newUUID()
	p := must(s.ProjectCreate(ctx, &store.Project{ID: id, Collab: "c", Owner: "alice", Title: "T", Abstract: "A", CreatedAt: t0}))
	if p.Status() != store.ProjectInPreparation || p.Access != "test" || len(p.Quotas) != 0 || p.Quotas == nil {
		t.Fatalf("created %+v", p)
	}
	_, err := s.ProjectCreate(ctx, &store.Project{ID: id, Collab: "c", Owner: "alice", Title: "T", Abstract: "A"})
	wantErr(t, err, store.ErrExists)
	p = must(s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: id, Title: ptr("T2"), Submit: true, Now: t0}))
	if p.Status() != store.ProjectUnderReview || p.Title != "T2" {
		t.Fatalf("submitted %+v", p)
	}
	if p.DecisionReason != "" {
		t.Fatalf("a request under review has a decision reason: %+v", p)
	}
	p = must(s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: id, Decide: ptr(false), DecisionReason: ptr("no emulated wafer is free"), Now: t0}))
	if p.Status() != store.ProjectRejected || p.DecisionDate == nil || p.DecisionReason != "no emulated wafer is free" {
		t.Fatalf("rejected %+v", p)
	}
	if got := must(s.ProjectGet(ctx, id)); got.DecisionReason != "no emulated wafer is free" {
		t.Fatalf("the decision reason was not kept: %+v", got)
	}
	_, err = s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: id, Decide: ptr(true)})
	wantErr(t, err, store.ErrConflict)
	_, err = s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: newUUID(), Title: ptr("x")})
	wantErr(t, err, store.ErrNotFound)

	acc := seed(t, s, "c", "SpiNNaker", 5000)
	if acc.Status() != store.ProjectAccepted || len(acc.Quotas) != 1 || acc.Quotas[0].Limit != 5000 {
		t.Fatalf("accepted %+v", acc)
	}
	seed(t, s, "d", "SpiNNaker", 1)
	byStatus := func(st string, collabs ...string) int {
		return len(must(s.ProjectList(ctx, &store.ProjectListParams{Status: st, Collab: collabs})))
	}
	if byStatus("") != 3 || byStatus(store.ProjectAccepted) != 2 || byStatus(store.ProjectAccepted, "c") != 1 || byStatus(store.ProjectRejected) != 1 || byStatus(store.ProjectUnderReview) != 0 {
		t.Fatal("project list by status")
	}
	if got := must(s.ProjectList(ctx, &store.ProjectListParams{Limit: 1, Offset: 1})); len(got) != 1 || got[0].ID != acc.ID {
		t.Fatalf("paged %+v", got)
	}
	check(t, s.ProjectDelete(ctx, acc.ID))
	wantErr(t, s.ProjectDelete(ctx, acc.ID), store.ErrNotFound)
	_, err = s.QuotaGet(ctx, acc.Quotas[0].ID)
	wantErr(t, err, store.ErrNotFound)
}

func testQuotas(t *testing.T, s store.Store) {
	p := seed(t, s, "c", "SpiNNaker", 10)
	q := must(s.QuotaCreate(ctx, &store.Quota{ProjectID: p.ID, Platform: "BrainScaleS", Units: "wafer-hours", Limit: 0.1}))
	_, err := s.QuotaCreate(ctx, &store.Quota{ProjectID: newUUID(), Platform: "x", Units: "y", Limit: 1})
	wantErr(t, err, store.ErrNotFound)
	g := must(s.QuotaGet(ctx, q.ID))
	if g.ProjectID != p.ID || g.Limit != 0.1 || g.Units != "wafer-hours" {
		t.Fatalf("quota %+v", g)
	}
	u := must(s.QuotaUpdate(ctx, &store.QuotaUpdateParams{ID: q.ID, Usage: ptr(0.05)}))
	if u.Limit != 0.1 || u.Usage != 0.05 { // a missing limit stays as it was
		t.Fatalf("updated %+v", u)
	}
	check(t, s.QuotaDelete(ctx, q.ID))
	wantErr(t, s.QuotaDelete(ctx, q.ID), store.ErrNotFound)
	_, err = s.QuotaUpdate(ctx, &store.QuotaUpdateParams{ID: q.ID, Usage: ptr(1.0)})
	wantErr(t, err, store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	_, err := s.SessionInsert(ctx, &store.SessionInsertParams{Session: store.Session{Collab: "c", UserID: "alice", HardwarePlatform: "SpiNNaker"}})
	wantErr(t, err, store.ErrQuotaExceeded)
	p := seed(t, s, "c", "SpiNNaker", 10)
	x := must(s.SessionInsert(ctx, &store.SessionInsertParams{Session: store.Session{Collab: "c", UserID: "alice", HardwarePlatform: "SpiNNaker", HardwareConfig: json.RawMessage(`{"boards":1}`)}, Now: t0, Reserve: 1}))
	if x.Status != store.StatusRunning || string(x.HardwareConfig) != `{"boards":1}` {
		t.Fatalf("session %+v", x)
	}
	must(s.SessionUpdate(ctx, &store.SessionUpdateParams{ID: x.ID, ResourceUsage: ptr(3.0)}))
	if q := quotaOf(t, s, p.ID, 0); q.Usage != 0 || q.Reserved != 1 {
		t.Fatalf("charged before the end: %+v", q)
	}
	e := must(s.SessionUpdate(ctx, &store.SessionUpdateParams{ID: x.ID, Status: ptr(store.StatusFinished), Now: t0.Add(time.Hour)}))
	if e.EndedAt == nil || e.Charged != 3 {
		t.Fatalf("ended %+v", e)
	}
	if q := quotaOf(t, s, p.ID, 0); q.Usage != 3 || q.Reserved != 0 {
		t.Fatalf("after session: %+v", q)
	}
	_, err = s.SessionUpdate(ctx, &store.SessionUpdateParams{ID: x.ID, Status: ptr(store.StatusRunning)})
	wantErr(t, err, store.ErrConflict)
	_, err = s.SessionGet(ctx, x.ID+1)
	wantErr(t, err, store.ErrNotFound)
	if l := must(s.SessionList(ctx, &store.SessionListParams{Collab: []string{"c"}})); len(l) != 1 {
		t.Fatalf("sessions %+v", l)
	}
}

func testSettings(t *testing.T, s store.Store) {
	if v := must(s.SettingGetOrCreate(ctx, "k", "first")); v != "first" {
		t.Fatal(v)
	}
	if v := must(s.SettingGetOrCreate(ctx, "k", "second")); v != "first" {
		t.Fatal(v)
	}
}

func testEphemeral(t *testing.T, s store.Store) {
	now := time.Now()
	check(t, s.EphemeralPut(ctx, "state:a", "one", now.Add(time.Minute), now))
	check(t, s.EphemeralPut(ctx, "state:old", "gone", now.Add(time.Second), now))
	if v := must(s.EphemeralGet(ctx, "state:a", now)); v != "one" {
		t.Fatalf("get: %q", v)
	}
	check(t, s.EphemeralPut(ctx, "state:a", "two", now.Add(time.Minute), now))
	if v := must(s.EphemeralGet(ctx, "state:a", now)); v != "two" {
		t.Fatalf("replaced: %q", v)
	}
	_, err := s.EphemeralGet(ctx, "state:old", now.Add(2*time.Second))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.EphemeralTake(ctx, "state:old", now.Add(2*time.Second))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.EphemeralGet(ctx, "nothing", now)
	wantErr(t, err, store.ErrNotFound)
	// Taken once, by one of many callers at the same time.
	var wg sync.WaitGroup
	var got atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := s.EphemeralTake(ctx, "state:a", now); err == nil && v == "two" {
				got.Add(1)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 1 {
		t.Fatalf("taken %d times", got.Load())
	}
	// Putting deletes what expired.
	check(t, s.EphemeralPut(ctx, "state:b", "x", now.Add(time.Hour), now.Add(2*time.Second)))
	_, err = s.EphemeralGet(ctx, "state:old", now)
	wantErr(t, err, store.ErrNotFound)
}
