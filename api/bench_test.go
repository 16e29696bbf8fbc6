package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// The job queue server's throughput, through HTTP on a loopback connection,
// with authentication, quota admission and the store's transactions, on each
// store. docs/performance.md records the figures and how to reproduce them:
//
//	go test -run '^$' -bench 'Submit|Claim' -benchtime 5000x ./api/

func benchBundle(b *testing.B, d storetest.Driver) *bundle {
	bb := setup(b, d, func(c *api.Config) {
		// The quota must not run out during the benchmark.
		c.Reservations = map[string]float64{"Demo": 1e-9}
	})
	bb.grant("lab", []store.Quota{{Platform: "Demo", Units: "hours", Limit: 1e9}})
	return bb
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
}

func post(c *http.Client, url, header, value string, body []byte) (int, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set(header, value)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// BenchmarkSubmit measures job submissions per second (POST /jobs/ by 32 concurrent clients).
func BenchmarkSubmit(b *testing.B) {
	for _, d := range storetest.Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			bb := benchBundle(b, d)
			c := newClient()
			body := []byte(`{"code":"import pyNN.nest as sim\nsim.setup()\nsim.run(1000)\n","collab":"lab","hardware_platform":"Demo","command":"run.py {system}","tags":["bench"]}`)
			var fails atomic.Int64
			b.SetParallelism(16) // × GOMAXPROCS goroutines
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if st, err := post(c, bb.srv.URL+"/jobs/", "Authorization", "Bearer "+bb.tok["alice"], body); err != nil || st != 201 {
						fails.Add(1)
					}
				}
			})
			el := time.Since(start)
			b.StopTimer()
			if fails.Load() > 0 {
				b.Fatalf("%d submissions failed", fails.Load())
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "submissions/s")
		})
	}
}

// BenchmarkClaim measures atomic claims per second (POST /jobs/next/Demo by 32 concurrent runners).
func BenchmarkClaim(b *testing.B) {
	for _, d := range storetest.Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			bb := benchBundle(b, d)
			// Fill the queue straight through the store (not timed).
			for i := 0; i < b.N; i++ {
				if _, err := bb.st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "lab", UserID: "alice", HardwarePlatform: "Demo"}, Reserve: -1}); err != nil {
					b.Fatal(err)
				}
			}
			c := newClient()
			var fails atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if st, err := post(c, bb.srv.URL+"/jobs/next/Demo", "x-api-key", bb.key["local"], nil); err != nil || st != 200 {
						fails.Add(1)
					}
				}
			})
			el := time.Since(start)
			b.StopTimer()
			if fails.Load() > 0 {
				b.Fatalf("%d claims failed", fails.Load())
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "claims/s")
			if n, err := bb.st.JobCount(ctx, &store.JobCountParams{HardwarePlatform: "Demo", Status: "submitted"}); err != nil || n != 0 {
				b.Fatal(fmt.Sprint("jobs left in the queue: ", n, err))
			}
		})
	}
}

// BenchmarkLeaseRenew measures lease renewals per second (POST
// /jobs/{id}/lease by 32 concurrent runners, over 256 running jobs holding
// quota): each renewal also checks that the job's hold still fits its
// collab's quota (zero overspend). It reports the server process's CPU time
// per renewal, which other loads on the machine do not distort.
func BenchmarkLeaseRenew(b *testing.B) {
	for _, d := range storetest.Drivers() {
		b.Run(d.Name, func(b *testing.B) {
			bb := benchBundle(b, d)
			type held struct {
				id    int64
				lease string
			}
			var jobs []held
			for i := 0; i < 256; i++ {
				if _, err := bb.st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "lab", UserID: "alice", HardwarePlatform: "Demo"}, Reserve: 1e-9}); err != nil {
					b.Fatal(err)
				}
				j, err := bb.st.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "local", LeaseID: fmt.Sprint("lease-", i), Lease: time.Hour, Hold: 0.01})
				if err != nil {
					b.Fatal(err)
				}
				jobs = append(jobs, held{j.ID, j.LeaseID})
			}
			c := newClient()
			var fails, next atomic.Int64
			b.SetParallelism(16)
			cpu0 := processCPU()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					j := jobs[next.Add(1)%int64(len(jobs))]
					req, _ := http.NewRequest("POST", fmt.Sprintf("%s/jobs/%d/lease", bb.srv.URL, j.id), nil)
					req.Header.Set("x-api-key", bb.key["local"])
					req.Header.Set(api.LeaseHeader, j.lease)
					resp, err := c.Do(req)
					if err != nil {
						fails.Add(1)
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || bytes.Contains(body, []byte(`"stop"`)) {
						fails.Add(1)
					}
				}
			})
			el := time.Since(start)
			b.StopTimer()
			if fails.Load() > 0 {
				b.Fatalf("%d renewals failed", fails.Load())
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "renewals/s")
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/renewal")
		})
	}
}
