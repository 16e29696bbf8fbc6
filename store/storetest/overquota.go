package storetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// testJobsOverQuota: lowering, using up or removing a collab's quota puts
// the running jobs whose holds no longer fit over it, newest claims first.
func testJobsOverQuota(t *testing.T, s store.Store) {
	pr := seed(t, s, "c", "Demo", 10)
	other := seed(t, s, "d", "Demo", 10)
	var ids []int64
	for range 3 {
		insert(t, s, job("c", "Demo"), 1)
	}
	od := insert(t, s, job("d", "Demo"), 1)
	for i := range 3 {
		j := must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "p", LeaseID: newUUID(), Lease: time.Minute,
			Now: t0.Add(time.Duration(i) * time.Second), Hold: 4}))
		ids = append(ids, j.ID)
	}
	must(s.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "p", LeaseID: newUUID(), Lease: time.Minute, Now: t0, Hold: 4}))
	// Holds 4, 4, 2 (what was left) of 10: all fit.
	over := func(p store.JobsOverQuotaParams) string {
		t.Helper()
		var out []string
		for _, o := range must(s.JobsOverQuota(ctx, &p)) {
			i := 0
			for i < len(ids) && ids[i] != o.ID {
				i++
			}
			out = append(out, fmt.Sprintf("%d:%s/%s hold %g before %g left %g", i, o.Collab, o.Platform, o.Hold, o.Before, o.Left))
		}
		return fmt.Sprint(out)
	}
	if got := over(store.JobsOverQuotaParams{}); got != "[]" {
		t.Fatalf("over with every hold fitting: %s", got)
	}
	if got := over(store.JobsOverQuotaParams{JobID: ids[2], Collab: "c", Platform: "Demo"}); got != "[]" {
		t.Fatalf("the newest claim with every hold fitting: %s", got)
	}
	q := quotaOf(t, s, pr.ID, 0)
	must(s.QuotaUpdate(ctx, &store.QuotaUpdateParams{ID: q.ID, Limit: ptr(9.0)}))
	if got := over(store.JobsOverQuotaParams{Collab: "c"}); got != "[2:c/Demo hold 2 before 8 left 9]" {
		t.Fatalf("limit 9: %s", got)
	}
	// As a lease renewal asks: one job, with its collab and platform.
	for i, want := range []string{"[]", "[]", "[2:c/Demo hold 2 before 8 left 9]"} {
		if got := over(store.JobsOverQuotaParams{JobID: ids[i], Collab: "c", Platform: "Demo"}); got != want {
			t.Fatalf("limit 9, job %d: %s, want %s", i, got, want)
		}
	}
	if got := over(store.JobsOverQuotaParams{Collab: "d", Platform: "Demo"}); got != "[]" {
		t.Fatalf("the other collab: %s", got)
	}
	// Usage counts: 10 less 5 used leaves 5, for the oldest claim only.
	must(s.QuotaUpdate(ctx, &store.QuotaUpdateParams{ID: q.ID, Limit: ptr(10.0), Usage: ptr(5.0)}))
	if got := over(store.JobsOverQuotaParams{}); got != "[1:c/Demo hold 4 before 4 left 5 2:c/Demo hold 2 before 8 left 5]" {
		t.Fatalf("usage 5: %s", got)
	}
	if got := over(store.JobsOverQuotaParams{JobID: ids[1]}); got != "[1:c/Demo hold 4 before 4 left 5]" {
		t.Fatalf("one job: %s", got)
	}
	if got := over(store.JobsOverQuotaParams{JobID: ids[0]}); got != "[]" {
		t.Fatalf("the oldest claim fits: %s", got)
	}
	// A second quota of the collab on the platform adds its room.
	second := must(s.QuotaCreate(ctx, &store.Quota{ProjectID: pr.ID, Platform: "Demo", Units: "hours", Limit: 5}))
	if got := over(store.JobsOverQuotaParams{}); got != "[]" {
		t.Fatalf("with a second quota: %s", got)
	}
	// Removing the quotas leaves nothing: every running job of the collab is over, none of the other collab.
	check(t, s.QuotaDelete(ctx, second.ID))
	check(t, s.QuotaDelete(ctx, q.ID))
	if got := over(store.JobsOverQuotaParams{Platform: "Demo"}); got != "[0:c/Demo hold 4 before 0 left 0 1:c/Demo hold 4 before 4 left 0 2:c/Demo hold 2 before 8 left 0]" {
		t.Fatalf("quota removed: %s", got)
	}
	// An ended job holds nothing.
	must(s.JobUpdate(ctx, &store.JobUpdateParams{ID: ids[0], Status: ptr(store.StatusError), ResourceUsage: ptr(1.0)}))
	if got := over(store.JobsOverQuotaParams{Collab: "c"}); got != "[1:c/Demo hold 4 before 0 left 0 2:c/Demo hold 2 before 4 left 0]" {
		t.Fatalf("after the first ended: %s", got)
	}
	if oq := quotaOf(t, s, other.ID, 0); math.Abs(oq.Reserved-4) > 1e-9 {
		t.Fatalf("the other collab's quota: %+v", oq)
	}
	_ = od
}
