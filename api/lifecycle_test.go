package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

func quota(t *testing.T, b *bundle, collab, platform string) store.Quota {
	t.Helper()
	p, err := b.st.ProjectGet(ctx, b.project[collab])
	noErr(t, err)
	for _, q := range p.Quotas {
		if q.Platform == platform {
			return q
		}
	}
	t.Fatalf("collab %s has no %s quota", collab, platform)
	return store.Quota{}
}

// TestJobLifecycle runs a job through the provider client: claim, lease,
// log, files, finish, charge; then the user reads it and downloads its files
// without credentials.
func TestJobLifecycle(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		id := b.submit("alice", "lab", "BrainScaleS-2")
		before := quota(t, b, "lab", "BrainScaleS-2")
		if bss2, _ := platform.Default().Lookup("BrainScaleS-2"); math.Abs(before.Reserved-bss2.Reservation) > 1e-12 {
			t.Fatalf("submission reserved %v", before.Reserved)
		}
		c := provider.New(b.srv.URL, b.key["uhei"])
		_, err := c.Claim(ctx, "SpiNNaker")
		var ae *provider.APIError
		if !errors.As(err, &ae) || ae.Status != 403 {
			t.Fatalf("claim on another provider's platform: %v", err)
		}
		j, err := c.Claim(ctx, "BrainScaleS-2")
		noErr(t, err)
		if j.ID != id || j.Status != "running" || j.Lease == nil || j.Lease.Attempt != 1 || j.Code != "import pyNN" {
			t.Fatalf("claimed %+v", j)
		}
		if _, err := c.Claim(ctx, "BrainScaleS-2"); !errors.Is(err, provider.ErrNoJob) {
			t.Fatalf("second claim: %v", err)
		}
		jctx, release := c.Hold(ctx, j)
		noErr(t, c.AppendLog(jctx, j, "calibrating\n"))
		noErr(t, c.AppendLog(jctx, j, "running 1000 ms\n"))
		for i := 0; i < 3; i++ { // repeated uploads replace, not duplicate
			_, err := c.Upload(jctx, j, "results/spikes.dat", strings.NewReader(fmt.Sprintf("spikes v%d", i)), "")
			noErr(t, err)
		}
		it, err := c.Upload(jctx, j, "plot.png", strings.NewReader("PNG..."), "image/png")
		noErr(t, err)
		if *it.Size != 6 || *it.Hash == "" || !strings.Contains(it.URL, "sig=") {
			t.Fatalf("uploaded %+v", it)
		}
		for _, bad := range []string{"../escape", "a/../../b", "x\\y"} {
			if _, err := c.Upload(jctx, j, bad, strings.NewReader("x"), ""); !errors.As(err, &ae) || ae.Status != 422 {
				t.Fatalf("upload to %q: %v", bad, err)
			}
		}
		// Files kept by the provider elsewhere are recorded, with sanitised paths, once.
		for i := 0; i < 2; i++ {
			noErr(t, c.Update(jctx, j, &provider.Update{OutputData: &provider.DataSet{Repository: "elsewhere", Files: []provider.DataItem{{URL: "https://example.com/data/out.h5"}}}}))
		}
		noErr(t, c.Finish(jctx, j, provider.Finished, &provider.Usage{Value: 0.25, Units: "chip-hours"}))
		release()
		if err := c.AppendLog(ctx, j, "late\n"); !errors.Is(err, provider.ErrLeaseLost) {
			t.Fatalf("log under a released lease: %v", err)
		}

		after := quota(t, b, "lab", "BrainScaleS-2")
		if after.Reserved > 1e-12 || math.Abs(after.Usage-0.25) > 1e-12 {
			t.Fatalf("quota after the job: %+v", after)
		}
		var job struct {
			Status        string
			Log           string
			ResourceUsage struct {
				Value float64
				Units string
			} `json:"resource_usage"`
			TimestampCompletion *string `json:"timestamp_completion"`
			OutputData          struct {
				Repository string
				Files      []struct {
					URL, Path string
					Size      int64
				}
			} `json:"output_data"`
		}
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d?with_log=true", id), "bob", nil), 200, "read job").json(t, &job)
		if job.Status != "finished" || job.Log != "calibrating\nrunning 1000 ms\n" || job.ResourceUsage.Value != 0.25 || job.ResourceUsage.Units != "chip-hours" || job.TimestampCompletion == nil {
			t.Fatalf("finished job %+v", job)
		}
		if len(job.OutputData.Files) != 3 || job.OutputData.Repository != "elsewhere" {
			t.Fatalf("output files %+v", job.OutputData)
		}
		got := map[string]string{}
		for _, f := range job.OutputData.Files {
			got[f.Path] = f.URL
		}
		if got["data/out.h5"] != "https://example.com/data/out.h5" {
			t.Fatalf("external file %v", got)
		}
		// The signed link downloads without credentials, as nmpi's urlretrieve does.
		resp, err := http.Get(got["results/spikes.dat"])
		noErr(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "spikes v2" {
			t.Fatalf("download: %d %q", resp.StatusCode, body)
		}
		// A tampered link is refused; without a signature, credentials are needed.
		tampered := strings.Replace(got["plot.png"], "sig=", "sig=0", 1)
		if resp, _ := http.Get(tampered); resp.StatusCode != 403 {
			t.Fatalf("tampered link: %d", resp.StatusCode)
		}
		plain := fmt.Sprintf("/files/%d/plot.png", id)
		b.want(b.do("GET", plain, "", nil), 401, "download without a signature or credentials")
		b.want(b.do("GET", plain, "carol", nil), 404, "download by a non-member")
		if r := b.want(b.do("GET", plain, "bob", nil), 200, "download by a member"); string(r.body) != "PNG..." || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("download %q %v", r.body, r.header)
		}
		// A finished job stays finished.
		if err := c.Update(ctx, j, &provider.Update{Status: "running"}); !errors.As(err, &ae) || ae.Status != 409 {
			t.Fatalf("running again: %v", err)
		}
		// Storage is counted against the collab's quota.
		used, limit, err := b.st.StorageUsage(ctx, "lab")
		noErr(t, err)
		if used != int64(len("spikes v2")+len("PNG...")) || limit != 1e9 {
			t.Fatalf("storage %d of %d", used, limit)
		}
		// copy_data_to_storage keeps the stored files past the retention period.
		var ds struct{ Repository string }
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d/output_data", id), "alice", map[string]any{"repository": "EBRAINS Drive", "files": []any{}}), 200, "copy").json(t, &ds)
		if ds.Repository != "nmp collab storage" {
			t.Fatalf("copy answered %+v", ds)
		}
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d/output_data", id), "bob", map[string]any{"repository": "EBRAINS Drive"}), 403, "copy by a viewer")
		it2, err := b.st.DataItemGet(ctx, id, "plot.png")
		noErr(t, err)
		if it2.ExpiresAt != nil {
			t.Fatalf("kept file still expires at %v", it2.ExpiresAt)
		}
	})
}

// TestStorageQuotaAndRetention: uploads beyond the collab's storage quota are
// refused; files past their retention are deleted by the cleaner.
func TestStorageQuotaAndRetention(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		var dataDir string
		b := setup(t, d, func(c *api.Config) { c.Retention = time.Hour; dataDir = c.DataDir })
		// A collab with 100 bytes of storage and some Demo time.
		_, err := b.st.CollabCreate(ctx, &store.CollabCreateParams{Name: "tiny"})
		noErr(t, err)
		noErr(t, b.st.CollabMemberSet(ctx, &store.Member{Collab: "tiny", Username: "alice", Role: "editor"}))
		b.grant("tiny", []store.Quota{{Platform: "Demo", Units: "hours", Limit: 1}, {Platform: "Storage", Units: "GB", Limit: 100e-9}})
		id := b.submit("alice", "tiny", "Demo")
		c := provider.New(b.srv.URL, b.key["local"])
		j, err := c.Claim(ctx, "Demo")
		noErr(t, err)
		if j.ID != id {
			t.Fatalf("claimed %d", j.ID)
		}
		_, err = c.Upload(ctx, j, "a.bin", strings.NewReader(strings.Repeat("x", 60)), "")
		noErr(t, err)
		_, err = c.Upload(ctx, j, "b.bin", strings.NewReader(strings.Repeat("x", 60)), "")
		var ae *provider.APIError
		if !errors.As(err, &ae) || ae.Status != 507 || !strings.Contains(ae.Detail, "tiny") {
			t.Fatalf("upload past the storage quota: %v", err)
		}
		cl := &queue.Cleaner{Store: b.st, DataDir: dataDir, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
		n, err := cl.RunOnce(ctx)
		noErr(t, err)
		if n != 1 {
			t.Fatalf("cleaner deleted %d files", n)
		}
		b.want(b.do("GET", fmt.Sprintf("/files/%d/a.bin", id), "alice", nil), 404, "expired file")
		_, err = c.Upload(ctx, j, "b.bin", strings.NewReader(strings.Repeat("x", 60)), "")
		noErr(t, err)
	})
}

// TestLeaseRescue: a runner that stops renewing loses its job, which goes back
// to the queue a bounded number of times and then ends as an error.
func TestLeaseRescue(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.Lease = 300 * time.Millisecond })
		id := b.submit("alice", "lab", "Spikey")
		c := provider.New(b.srv.URL, b.key["uhei"])
		rescuer := &queue.Rescuer{Store: b.st, MaxAttempts: 2}

		// A runner holding its lease keeps the job past several lease lengths.
		j, err := c.Claim(ctx, "Spikey")
		noErr(t, err)
		jctx, release := c.Hold(ctx, j)
		time.Sleep(time.Second)
		rs, err := rescuer.RunOnce(ctx)
		noErr(t, err)
		if len(rs) != 0 || jctx.Err() != nil {
			t.Fatalf("held job rescued: %+v %v", rs, jctx.Err())
		}
		release()

		// Now the runner vanishes: the job goes back to the queue.
		time.Sleep(400 * time.Millisecond)
		rs, err = rescuer.RunOnce(ctx)
		noErr(t, err)
		if len(rs) != 1 || rs[0].ID != id || rs[0].Status != "submitted" {
			t.Fatalf("rescue: %+v", rs)
		}
		if err := c.Finish(ctx, j, provider.Finished, nil); !errors.Is(err, provider.ErrLeaseLost) {
			t.Fatalf("the vanished runner's late update: %v", err)
		}
		// Second attempt: another runner claims it, holds it, and its lease is lost under it.
		j2, err := c.Claim(ctx, "Spikey")
		noErr(t, err)
		if j2.ID != id || j2.Lease.Attempt != 2 {
			t.Fatalf("second claim %+v", j2)
		}
		time.Sleep(400 * time.Millisecond)
		rs, err = rescuer.RunOnce(ctx)
		noErr(t, err)
		if len(rs) != 1 || rs[0].Status != "error" {
			t.Fatalf("after the last attempt: %+v", rs)
		}
		jctx, release = c.Hold(ctx, j2)
		select {
		case <-jctx.Done():
			if !errors.Is(context.Cause(jctx), provider.ErrLeaseLost) {
				t.Fatalf("hold ended with %v", context.Cause(jctx))
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Hold did not notice the lost lease")
		}
		release()
		var job struct{ Status, Log string }
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d?with_log=true", id), "alice", nil), 200, "read").json(t, &job)
		if job.Status != "error" || strings.Count(job.Log, "lease of uhei") != 2 {
			t.Fatalf("job after rescues: %+v", job)
		}
		if q := quota(t, b, "lab", "Spikey"); q.Reserved > 1e-12 {
			t.Fatalf("errored job keeps its hold: %+v", q)
		}
	})
}

// TestConcurrentSubmissions: many parallel submissions against one quota are
// admitted exactly as far as the quota goes.
func TestConcurrentSubmissions(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.Reservations = map[string]float64{"Demo": 0.5} })
		_, err := b.st.CollabCreate(ctx, &store.CollabCreateParams{Name: "busy"})
		noErr(t, err)
		noErr(t, b.st.CollabMemberSet(ctx, &store.Member{Collab: "busy", Username: "alice", Role: "editor"}))
		b.grant("busy", []store.Quota{{Platform: "Demo", Units: "hours", Limit: 10}, {Platform: "Demo", Units: "hours", Limit: 5}}) // 30 jobs
		const tries = 100
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := 0; i < tries; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r := b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "busy", "hardware_platform": "Demo"})
				switch r.status {
				case 201:
					ok.Add(1)
				case 403:
					refused.Add(1)
				default:
					t.Errorf("submission: %d %s", r.status, r.body)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 30 || refused.Load() != tries-30 {
			t.Fatalf("admitted %d, refused %d; the quota has room for 30", ok.Load(), refused.Load())
		}
	})
}

// TestConcurrentClaims: many providers' runners claiming at once never get the same job.
func TestConcurrentClaims(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		const jobs, runners = 60, 12
		for i := 0; i < jobs; i++ {
			b.submit("alice", "lab", "Demo")
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for w := 0; w < runners; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := provider.New(b.srv.URL, b.key["local"])
				for {
					j, err := c.Claim(ctx, "Demo")
					if errors.Is(err, provider.ErrNoJob) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen[j.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != jobs {
			t.Fatalf("%d jobs claimed, want %d", len(seen), jobs)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("job %d claimed %d times", id, n)
			}
		}
	})
}
