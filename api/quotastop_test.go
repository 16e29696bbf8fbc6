package api_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestQuotaRemovedStopsRunningJobs: once a quota is removed (or lowered
// below what running jobs hold), the next lease renewal of those jobs asks
// their runner to stop them, the lease staying valid, and their logs say who
// changed the quota (issue 10, item 9).
func TestQuotaRemovedStopsRunningJobs(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		c := provider.New(b.srv.URL, b.key["local"])
		first := b.submit("alice", "lab", "Demo")
		second := b.submit("alice", "lab", "Demo")
		claim := func() *provider.Job {
			t.Helper()
			j, err := c.ClaimHold(ctx, "Demo", 0.4, 0)
			noErr(t, err)
			return j
		}
		j1, j2 := claim(), claim()
		if j1.ID != first || j2.ID != second || j1.Lease.Hold != 0.4 || j2.Lease.Hold != 0.4 {
			t.Fatalf("claims %d %+v, %d %+v", j1.ID, j1.Lease, j2.ID, j2.Lease)
		}
		noErr(t, c.Renew(ctx, j1))
		noErr(t, c.Renew(ctx, j2))
		q := quota(t, b, "lab", "Demo") // 1 hour
		// Lowered to 0.5: the newer claim no longer fits; the older does.
		b.want(b.do("PUT", fmt.Sprintf("/projects/%s/quotas/%d", b.project["lab"], q.ID), "admin", map[string]any{"limit": 0.5}), 200, "lower")
		noErr(t, c.Renew(ctx, j1))
		var se *provider.StopError
		if err := c.Renew(ctx, j2); !errors.As(err, &se) || !errors.Is(err, provider.ErrStop) ||
			!strings.Contains(se.Reason, "the collab lab has 0.5 hours left on Demo, less than this job's hold of 0.4 hours with the 0.4 hours held by jobs claimed before it") {
			t.Fatalf("renewal of the newer claim: %v", err)
		}
		// The lease is still valid: the runner ends the job under it, charged what it used.
		noErr(t, c.AppendLog(ctx, j2, "stopped\n"))
		noErr(t, c.Finish(ctx, j2, provider.Error, &provider.Usage{Value: 0.01, Units: "hours"}))
		noErr(t, c.Renew(ctx, j1))
		// Removed: the other one is stopped too.
		b.want(b.do("DELETE", fmt.Sprintf("/projects/%s/quotas/%d", b.project["lab"], q.ID), "admin", nil), 200, "remove")
		if err := c.Renew(ctx, j1); !errors.As(err, &se) || !strings.Contains(se.Reason, "the collab lab has no quota left on Demo for this job's hold of 0.4 hours") {
			t.Fatalf("renewal after the removal: %v", err)
		}
		// Deleting an accepted request (its quotas go with it) stops the jobs it covered.
		third := b.submit("dave", "pub", "Demo")
		j3, err := c.ClaimHold(ctx, "Demo", 0.4, 0)
		noErr(t, err)
		noErr(t, c.Renew(ctx, j3))
		b.want(b.do("DELETE", "/projects/"+b.project["pub"]+"?as_admin=true", "admin", nil), 200, "delete pub's request")
		if err := c.Renew(ctx, j3); !errors.Is(err, provider.ErrStop) {
			t.Fatalf("renewal after the request's deletion: %v", err)
		}
		if log, _ := b.st.JobLogGet(ctx, third); !strings.Contains(log, "nmp: the quota of collab pub on Demo was removed (1 hours) with its resource request "+b.project["pub"]+" by admin at ") {
			t.Errorf("job %d's log:\n%s", third, log)
		}
		for id, want := range map[int64]string{
			second: "nmp: the quota of collab lab on Demo was lowered from 1 to 0.5 hours by admin at ",
			first:  "nmp: the quota of collab lab on Demo was removed (0.5 hours) by admin at ",
		} {
			log, err := b.st.JobLogGet(ctx, id)
			noErr(t, err)
			if !strings.Contains(log, want) || strings.Count(log, "nmp: the quota") != 1 {
				t.Errorf("job %d's log:\n%s", id, log)
			}
		}
	})
}
