package ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/ops"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b), rec.Header()
}

// The metrics count what passes through the store (claims, waits, job ends)
// and read the queue from it at each scrape, on a real store.
func TestMetrics(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, d storetest.Driver) {
		raw := d.Open(t)
		ctx := context.Background()
		b, err := queue.Bootstrap(ctx, raw, queue.BootstrapParams{PasswordIterations: 1000})
		if err != nil {
			t.Fatal(err)
		}
		o := ops.New(raw, []string{"Demo", "BrainScaleS-2"}, nil)
		st := o.Store(raw)
		now := time.Now()
		for i := 0; i < 3; i++ {
			j := store.Job{Code: "print(1)", Command: "run.py", HardwarePlatform: "Demo", Collab: b.Collab, UserID: b.Admin}
			if _, err := st.JobInsert(ctx, &store.JobInsertParams{Job: j, Now: now.Add(-time.Minute), Reserve: -1}); err != nil {
				t.Fatal(err)
			}
		}
		j, err := st.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: b.Provider, LeaseID: "l1", Lease: time.Minute, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.JobClaim(ctx, &store.JobClaimParams{Platform: "BrainScaleS-2", Owner: b.Provider, LeaseID: "l2", Lease: time.Minute, Now: now}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim of an empty queue: %v", err)
		}
		fin := store.StatusFinished
		if _, err := st.JobUpdate(ctx, &store.JobUpdateParams{ID: j.ID, LeaseID: "l1", Status: &fin, Now: now.Add(3 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		o.LeaseExpired(ctx, store.JobRescued{ID: 9, Status: store.StatusSubmitted})
		o.Duty("rescuer", func() bool { return true })
		h := o.Handler(http.NotFoundHandler())
		get(t, h, "/jobs/42/log")
		get(t, h, "/wp-admin/../../etc/passwd")
		code, body, _ := get(t, h, "/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		for _, want := range []string{
			`nmp_jobs{platform="Demo",status="submitted"} 2`,
			`nmp_jobs{platform="Demo",status="finished"} 1`,
			`nmp_jobs{platform="BrainScaleS-2",status="submitted"} 0`,
			`nmp_claims_total{platform="Demo",result="claimed"} 1`,
			`nmp_claims_total{platform="BrainScaleS-2",result="empty"} 1`,
			`nmp_queue_wait_seconds_count{platform="Demo"} 1`,
			`nmp_job_duration_seconds_count{platform="Demo",status="finished"} 1`,
			`nmp_lease_expiries_total{outcome="requeued"} 1`,
			`nmp_duty_held{duty="rescuer"} 1`,
			`nmp_provider_last_contact_timestamp_seconds{provider="` + b.Provider + `"}`,
			`nmp_http_request_duration_seconds_count{code="4xx",method="GET",route="/jobs/{id}/log"} 1`,
			`nmp_http_request_duration_seconds_count{code="4xx",method="GET",route="other"} 1`,
			`nmp_store_up 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if !strings.Contains(body, `nmp_queue_oldest_wait_seconds{platform="Demo"} `) {
			t.Errorf("/metrics lacks the oldest wait")
		}
		if code, body, _ := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
			t.Fatalf("/healthz: %d %q", code, body)
		}
		if code, _, _ := get(t, h, "/readyz"); code != 200 {
			t.Fatalf("/readyz: %d", code)
		}
		_, _, hdr := get(t, h, "/jobs/1")
		if len(hdr.Get("X-Request-Id")) != 16 {
			t.Fatalf("request id %q", hdr.Get("X-Request-Id"))
		}
		o.Drain()
		if code, _, _ := get(t, h, "/readyz"); code != 503 {
			t.Fatalf("/readyz while draining: %d", code)
		}
		raw.Close()
		o2 := ops.New(raw, nil, nil)
		if code, _, _ := get(t, o2.Handler(http.NotFoundHandler()), "/readyz"); code != 503 {
			t.Fatalf("/readyz with a closed store: %d", code)
		}
	})
}
