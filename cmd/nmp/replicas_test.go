package main

// Several 'nmp serve' replicas on one PostgreSQL database, behind a load
// balancer: one is killed under load, and no job is lost or run twice, the
// background duties keep running on exactly one replica, and download links
// signed by one replica work on the other.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/store/storetest"
)

// balancer sends each request to the next replica that answers, as a load
// balancer with health checks would: a replica that refuses connections is
// skipped. Bodies are buffered so that a refused request can go elsewhere.
type balancer struct {
	mu       sync.Mutex
	backends []string
	next     int
	hits     map[string]int
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	order := make([]string, len(b.backends))
	for i := range b.backends {
		order[i] = b.backends[(b.next+i)%len(b.backends)]
	}
	b.next++
	b.mu.Unlock()
	for _, be := range order {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, be+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		req.Host = r.Host
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			// Refused: the replica is down, the request never reached it.
			// Anything else may have reached it: 502, and the client decides.
			if errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b.mu.Lock()
		b.hits[be]++
		b.mu.Unlock()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no replica answers", http.StatusBadGateway)
}

func metricValue(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func TestReplicas(t *testing.T) {
	db := storetest.PostgresSchemaURL(t)
	bin := nmpBinary(t)
	dir := reachableTempDir(t)
	p := &localServer{t: t, bin: bin, dir: dir, home: filepath.Join(dir, "home"), data: filepath.Join(dir, "data"), workRoot: filepath.Join(dir, "jobs")}
	_ = os.Mkdir(p.home, 0o700)
	common := []string{"serve", "-db", db, "-data-dir", p.data, "-workers", "0", "-lease", "4s", "-rescue-interval", "300ms"}
	// Replica A starts first: it creates the defaults and takes the duties.
	p.args = common
	p.launch("127.0.0.1:0")
	a, aURL := p.serve, p.url
	// A takes its duties one after another once it serves: B starts only
	// when A holds them all, or B may win one A has not tried yet.
	for deadline := time.Now().Add(20 * time.Second); metricValue(t, aURL, `nmp_duty_held{duty="rescuer"}`) != "1" ||
		metricValue(t, aURL, `nmp_duty_held{duty="cleaner"}`) != "1"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica A does not hold its duties: rescuer %q, cleaner %q", metricValue(t, aURL, `nmp_duty_held{duty="rescuer"}`), metricValue(t, aURL, `nmp_duty_held{duty="cleaner"}`))
		}
	}
	p.args = append(append([]string(nil), common...), "-bootstrap=false")
	p.launch("127.0.0.1:0")
	b, bURL := p.serve, p.url
	data, err := os.ReadFile(filepath.Join(p.data, "bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	p.token = regexp.MustCompile(`"token": "([^"]+)"`).FindStringSubmatch(string(data))[1]
	p.key = regexp.MustCompile(`"api_key": "([^"]+)"`).FindStringSubmatch(string(data))[1]

	deadline := time.Now().Add(20 * time.Second)
	for metricValue(t, aURL, `nmp_duty_held{duty="rescuer"}`) != "1" || metricValue(t, bURL, `nmp_duty_held{duty="rescuer"}`) != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("the rescuer should run on replica A only: A %q, B %q", metricValue(t, aURL, `nmp_duty_held{duty="rescuer"}`), metricValue(t, bURL, `nmp_duty_held{duty="rescuer"}`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if metricValue(t, bURL, `nmp_duty_held{duty="cleaner"}`) != "0" {
		t.Fatal("the cleaner runs on both replicas")
	}

	// The nmpi client's password login, started on A and finished on B.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(aURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || form.Query().Get("state") == "" {
		t.Fatalf("/login on A redirects to %q", resp.Header.Get("Location"))
	}
	if _, err := os.ReadFile(filepath.Join(p.data, "bootstrap.json")); err != nil {
		t.Fatal(err)
	}
	pw := "a long password for the replicas"
	cmd := exec.Command(bin, "admin", "-db", db, "user", "set", "admin", "-password-stdin")
	cmd.Stdin = strings.NewReader(pw + "\n")
	cmd.Env = p.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nmp admin user set: %v\n%s", err, out)
	}
	resp, err = noRedirect.PostForm(bURL+"/login/form?"+form.RawQuery, url.Values{"username": {"admin"}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || auth.Query().Get("code") == "" {
		t.Fatalf("the login form on B (state from A): %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if tok := get(t, bURL+"/auth?"+auth.RawQuery); !strings.Contains(tok, "access_token") {
		t.Fatalf("/auth on B: %s", tok)
	}
	resp, err = http.Get(aURL + "/auth?" + auth.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a login code used on B worked again on A: %s", resp.Status)
	}

	// A status set on A applies on B too.
	putStatus := func(base, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, base+"/status", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT /status: %s", resp.Status)
		}
	}
	putStatus(aURL, `{"status": "read-only: maintenance", "platforms": {"Demo": {"status": "degraded", "message": "cooling"}}}`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		about := get(t, bURL+"/")
		if strings.Contains(about, "read-only: maintenance") && strings.Contains(about, "cooling") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B does not report the status set on A: %s", about)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := client.New(bURL, p.token).Submit(context.Background(), &client.Submission{Code: "print(1)", Platform: "Demo", Collab: "demo"}); err == nil || !strings.Contains(err.Error(), "read-only: maintenance") {
		t.Fatalf("B took a submission while read-only: %v", err)
	}
	putStatus(bURL, `{"status": "ok", "platforms": {"Demo": {"status": "ok"}}}`)
	serviceStatus := func(base string) string {
		var about struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal([]byte(get(t, base+"/")), &about)
		return about.Status
	}
	for deadline := time.Now().Add(10 * time.Second); serviceStatus(aURL) != "ok"; {
		if time.Now().After(deadline) {
			t.Fatalf("A does not report the status set on B: %s", get(t, aURL+"/"))
		}
		time.Sleep(200 * time.Millisecond)
	}

	lb := &balancer{backends: []string{aURL, bURL}, hits: map[string]int{}}
	front := httptest.NewServer(lb)
	defer front.Close()
	p.url = front.URL

	// The first job's first run is long: its worker is killed later, and the
	// rescuer (on B by then) must give the job back to the queue.
	scripts := t.TempDir()
	writeFiles(t, scripts, map[string]string{
		"quick.py": "import sys\nprint('run of', sys.argv[2], flush=True)\nopen('out.txt', 'w').write(sys.argv[2])\n",
		"slow.py":  "import os, time\nprint('slow run started', flush=True)\nif os.environ['NMP_JOB_ATTEMPT'] == '1':\n    time.sleep(120)\nopen('out.txt', 'w').write('slow')\n",
	})
	quick, _ := os.ReadFile(filepath.Join(scripts, "quick.py"))
	slow, _ := os.ReadFile(filepath.Join(scripts, "slow.py"))
	c := client.New(front.URL, p.token)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w1 := p.worker("-platforms", "Demo", "-name", "w1")
	slowJob, err := c.Submit(ctx, &client.Submission{Code: string(slow), Command: "run.py", Platform: "Demo", Collab: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(p.nmpOK("log", fmt.Sprint(slowJob.ID)), "slow run started") {
		if ctx.Err() != nil {
			t.Fatal("the slow job did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.worker("-platforms", "Demo", "-slots", "3", "-name", "w2")

	const n = 40
	var submitted atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				// A submission in flight when its replica dies fails (502); the
				// client submits again (the first may have been stored: then
				// both are jobs, and each must run once).
				var err error
				for try := 0; try < 5; try++ {
					if _, err = c.Submit(ctx, &client.Submission{Code: string(quick), Command: fmt.Sprintf("run.py {system} job%d", i), Platform: "Demo", Collab: "demo"}); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					errs <- fmt.Errorf("submission %d: %w", i, err)
					return
				}
				submitted.Add(1)
			}
		}(g)
	}
	// Under load, replica A dies.
	for submitted.Load() < n/3 {
		time.Sleep(10 * time.Millisecond)
	}
	_ = a.cmd.Process.Kill()
	<-a.done
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// B takes the duties over.
	deadline = time.Now().Add(30 * time.Second)
	for metricValue(t, bURL, `nmp_duty_held{duty="rescuer"}`) != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("replica B did not take the rescuer over:\n%s", b.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The rescuer on B still works: the slow job's worker dies, and the job
	// goes back to the queue and runs again on w2.
	_ = w1.cmd.Process.Kill()
	<-w1.done

	// Every job the replicas stored runs once and finishes; every submission
	// made it.
	all, err := c.Jobs(ctx, client.JobQuery{Collab: []string{"demo"}, Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, j := range all {
		if j.ID == slowJob.ID {
			continue
		}
		jp, err := c.Wait(ctx, j.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		l := jobLog(*jp)
		m := regexp.MustCompile(`run of (job\d+)\n`).FindAllStringSubmatch(l, -1)
		if jp.Status != "finished" || strings.Count(l, "[nmp worker] finished") != 1 || len(m) != 1 || strings.Count(l, "[nmp worker] job ") != 1 {
			t.Errorf("job %d: %s, it should have run once and finished:\n%s", jp.ID, jp.Status, l)
			continue
		}
		seen[m[0][1]] = true
	}
	if len(seen) != n {
		t.Fatalf("%d of the %d submissions have a finished job (%d jobs stored)", len(seen), n, len(all)-1)
	}
	t.Logf("%d submissions, %d jobs stored, all finished once", n, len(all)-1)
	sj, err := c.Wait(ctx, slowJob.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, *sj, "finished", "the job is back in the queue (attempt 1 of 3 failed)")
	lb.mu.Lock()
	hitsA := lb.hits[aURL]
	lb.mu.Unlock()
	if hitsA == 0 {
		t.Fatal("replica A served no request before it died")
	}

	// A download link signed by one replica works on the other.
	files := sj.Files()
	if len(files) != 1 {
		t.Fatalf("slow job files %v", files)
	}
	u, _ := url.Parse(files[0].URL)
	if got := get(t, bURL+u.RequestURI()); got != "slow" {
		t.Fatalf("download through B: %q", got)
	}
	if !strings.Contains(b.out.String(), "rescuer: this server runs the duty") {
		t.Fatalf("B's log does not say it took the rescuer over:\n%s", b.out.String())
	}
}

// BenchmarkReplicas measures submissions and claims per second through one
// and through two 'nmp serve' replicas on one PostgreSQL database, with 32
// concurrent clients spread over the replicas (as a load balancer would).
// docs/performance.md records the figures and how to reproduce them:
//
//	go test -run '^$' -bench Replicas -benchtime 4000x ./cmd/nmp/
func BenchmarkReplicas(b *testing.B) {
	for _, replicas := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			db := storetest.PostgresSchemaURL(b)
			bin := nmpBinary(b)
			dir := b.TempDir()
			var urls []string
			var procs []*exec.Cmd
			for i := 0; i < replicas; i++ {
				args := []string{"serve", "-db", db, "-data-dir", filepath.Join(dir, "data"), "-workers", "0", "-addr", "127.0.0.1:0"}
				if i > 0 {
					args = append(args, "-bootstrap=false")
				}
				cmd := exec.Command(bin, args...)
				cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
				out := &syncBuffer{}
				cmd.Stdout, cmd.Stderr = out, out
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				procs = append(procs, cmd)
				deadline := time.Now().Add(30 * time.Second)
				for urlLine.FindStringSubmatch(out.String()) == nil {
					if time.Now().After(deadline) {
						b.Fatalf("nmp serve did not start:\n%s", out.String())
					}
					time.Sleep(20 * time.Millisecond)
				}
				urls = append(urls, "http://"+urlLine.FindStringSubmatch(out.String())[1])
			}
			defer func() {
				for _, c := range procs {
					_ = c.Process.Signal(syscall.SIGTERM)
					_ = c.Wait()
				}
			}()
			data, err := os.ReadFile(filepath.Join(dir, "data", "bootstrap.json"))
			if err != nil {
				b.Fatal(err)
			}
			token := regexp.MustCompile(`"token": "([^"]+)"`).FindStringSubmatch(string(data))[1]
			key := regexp.MustCompile(`"api_key": "([^"]+)"`).FindStringSubmatch(string(data))[1]
			// Quota enough for every submission.
			sdb, err := sql.Open("pgx", db)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sdb.Exec("UPDATE quotas SET qlimit = 1e12"); err != nil {
				b.Fatal(err)
			}
			sdb.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
			body := []byte(`{"code":"import pyNN.nest as sim\nsim.setup()\nsim.run(1000)\n","collab":"demo","hardware_platform":"Demo","command":"run.py {system}"}`)
			run := func(what, path, header, value string, want int, payload []byte) float64 {
				var next, fails atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for g := 0; g < 32; g++ {
					wg.Add(1)
					go func(g int) {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							req, _ := http.NewRequest(http.MethodPost, urls[int(i)%len(urls)]+path, bytes.NewReader(payload))
							req.Header.Set(header, value)
							req.Header.Set("Content-Type", "application/json")
							resp, err := hc.Do(req)
							if err != nil {
								fails.Add(1)
								continue
							}
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != want {
								fails.Add(1)
							}
						}
					}(g)
				}
				wg.Wait()
				rate := float64(b.N) / time.Since(start).Seconds()
				if fails.Load() > 0 {
					b.Fatalf("%s: %d of %d requests failed", what, fails.Load(), b.N)
				}
				return rate
			}
			b.ResetTimer()
			sub := run("submit", "/jobs/", "Authorization", "Bearer "+token, http.StatusCreated, body)
			claim := run("claim", "/jobs/next/Demo", "x-api-key", key, http.StatusOK, nil)
			b.StopTimer()
			b.ReportMetric(sub, "submissions/s")
			b.ReportMetric(claim, "claims/s")
		})
	}
}
