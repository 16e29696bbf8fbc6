package worker

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// TestWorkerQuotaLoweredMidRun: an administrator lowers a collab's quota
// below what a running job holds; the job is stopped within seconds, what it
// wrote is uploaded, it ends as an error whose log says who lowered the quota
// and when, and what it used is charged once (issue 10, item 9).
func TestWorkerQuotaLoweredMidRun(t *testing.T) {
	p := newTestPlatform(t, time.Minute)
	ctx := context.Background()
	var projectID string
	var quota store.Quota
	ps, err := p.st.ProjectList(ctx, &store.ProjectListParams{Collab: []string{"demo"}, Status: "accepted"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range ps {
		for _, q := range pr.Quotas {
			if q.Platform == "Demo" {
				projectID, quota = pr.ID, q
			}
		}
	}
	if projectID == "" {
		t.Fatal("the bootstrap made no Demo quota")
	}
	id := p.submit(map[string]any{"code": "import time\nopen('partial.txt', 'w').write('half done')\nprint('started', flush=True)\ntime.sleep(120)\n"})
	p.start(p.worker(nil))
	p.wait(id, "the job printed", func(j jobJSON) bool { return j.Log != nil && strings.Contains(*j.Log, "started") })

	lowered := time.Now()
	const limit = 0.0001 // hours: less than the job holds (its two-minute wall-clock limit)
	var q struct{ Limit float64 }
	p.call("PUT", fmt.Sprintf("/projects/%s/quotas/%d?as_admin=true", projectID, quota.ID), map[string]any{"limit": limit}, &q)
	if q.Limit != limit {
		t.Fatalf("quota limit %v after the change", q.Limit)
	}
	var j jobJSON
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		j = p.job(id)
		if j.Status == "finished" || j.Status == "error" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s 30 s after its quota was lowered; log:\n%s", id, j.Status, logOf(j))
		}
	}
	took := time.Since(lowered)
	t.Logf("job %d ended %s after the quota was lowered; log tail: %s", id, took.Round(time.Millisecond), lastLine(logOf(j)))
	log := logOf(j)
	if j.Status != "error" {
		t.Fatalf("status %s, want error; log:\n%s", j.Status, log)
	}
	for _, want := range []string{
		"nmp: the quota of collab demo on Demo was lowered from 1 to 0.0001 hours by admin at ",
		"[nmp worker] error: the job was stopped: its collab's quota was lowered or used up while it ran (the collab demo has ",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	if took > 10*time.Second {
		t.Errorf("the job stopped %s after the quota was lowered; want within a few seconds", took)
	}
	if j.OutputData == nil || len(j.OutputData.Files) != 1 || j.OutputData.Files[0].Path != "partial.txt" {
		t.Errorf("what the job wrote was not uploaded: %+v", j.OutputData)
	}
	if j.ResourceUsage == nil || j.ResourceUsage.Value <= 0 {
		t.Fatalf("usage %+v", j.ResourceUsage)
	}
	// Charged once: the quota's usage is the job's usage, and nothing is held.
	got, err := p.st.QuotaGet(ctx, quota.ID)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Usage-j.ResourceUsage.Value) > 1e-12 || got.Reserved > 1e-12 {
		t.Fatalf("quota usage %v, reserved %v; the job used %v", got.Usage, got.Reserved, j.ResourceUsage.Value)
	}
	// Charged for the time it ran, not for its hold.
	if used := time.Duration(j.ResourceUsage.Value * float64(time.Hour)); used > took+30*time.Second {
		t.Errorf("the job was charged %s", used)
	}
}
