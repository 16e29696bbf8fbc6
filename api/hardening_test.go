package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/store"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestOutputFilesNotRunInBrowsers: a job's HTML or SVG output is an
// attachment, sandboxed and never sniffed; only raster images whose bytes say
// so are shown inline (issue 10, item 4: stored XSS).
func TestOutputFilesNotRunInBrowsers(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		id := b.submit("alice", "lab", "Demo")
		c := provider.New(b.srv.URL, b.key["local"])
		j, err := c.Claim(ctx, "Demo")
		noErr(t, err)
		var pngBytes bytes.Buffer
		noErr(t, png.Encode(&pngBytes, image.NewGray(image.Rect(0, 0, 2, 2))))
		files := map[string][2]string{
			"evil.html":     {"<html><script>alert(document.cookie)</script></html>", "text/html"},
			"evil.svg":      {`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "image/svg+xml"},
			"fake.png":      {"<html><script>alert(1)</script></html>", "image/png"},
			"plot.png":      {pngBytes.String(), "image/png"},
			"sp\u00e9c.txt": {"text", ""},
		}
		urls := map[string]string{}
		for name, f := range files {
			it, err := c.Upload(ctx, j, name, strings.NewReader(f[0]), f[1])
			noErr(t, err)
			urls[name] = it.URL
		}
		for name, u := range urls {
			resp, err := http.Get(u)
			noErr(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			h := resp.Header
			disp, inline := h.Get("Content-Disposition"), name == "plot.png"
			if resp.StatusCode != 200 || h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Fatalf("%s: %d %v", name, resp.StatusCode, h)
			}
			if inline != strings.HasPrefix(disp, "inline") || !inline && !strings.HasPrefix(disp, "attachment") {
				t.Fatalf("%s: Content-Disposition %q", name, disp)
			}
			if inline && h.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: Content-Type %q", name, h.Get("Content-Type"))
			}
		}
		_ = id
	})
}

// TestTruncatedBody: a body that ends early is the client's fault (400), not
// the server's (issue 10, item 10). The request is written by hand on a
// connection whose sending half is then closed.
func TestTruncatedBody(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		conn, err := net.Dial("tcp", b.srv.Listener.Addr().String())
		noErr(t, err)
		defer conn.Close()
		body := `{"code":"x","collab":"lab"`
		fmt.Fprintf(conn, "POST /jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n%s", b.tok["alice"], body)
		noErr(t, conn.(*net.TCPConn).CloseWrite())
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		noErr(t, err)
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(answer), "request body") {
			t.Fatalf("truncated body: %d %s", resp.StatusCode, answer)
		}
	})
}

// TestSlowBody: a body trickled byte by byte is cut once it falls behind the
// minimum rate (issue 10, item 10: 1 byte per 3 s held a connection for 90 s).
func TestSlowBody(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.BodyGrace = time.Second; c.MinBodyRate = 100 })
		conn, err := net.Dial("tcp", b.srv.Listener.Addr().String())
		noErr(t, err)
		defer conn.Close()
		fmt.Fprintf(conn, "POST /jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", b.tok["alice"])
		start := time.Now()
		noErr(t, conn.SetReadDeadline(start.Add(10*time.Second)))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 100; i++ {
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Fatalf("trickled body: %d", resp.StatusCode)
			}
		}
		if took > 5*time.Second {
			t.Fatalf("a trickled body held the connection for %v", took)
		}
		conn.Close()
		<-done
		// A normal request on a fresh connection is unaffected.
		b.submit("alice", "lab", "Demo")
	})
}

// TestListingsBounded: a listing's page is capped, and long code stays out of
// it (issue 10, item 2: size=100000 answered 797 MB).
func TestListingsBounded(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.MaxPageSize = 20 })
		big := strings.Repeat("# a long script\n", 1000)
		for i := 0; i < 3; i++ {
			code := "print(1)"
			if i == 1 {
				code = big
			}
			b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": code, "collab": "lab", "hardware_platform": "Demo"}), 201, "submit")
		}
		var jobs []struct {
			ID   int64
			Code string
		}
		r := b.want(b.do("GET", "/jobs/?collab=lab&size=100000", "alice", nil), 200, "list")
		r.json(t, &jobs)
		if len(jobs) != 3 || jobs[1].Code != "" || jobs[0].Code != "print(1)" || len(r.body) > 4000 {
			t.Fatalf("listing of %d bytes: %+v", len(r.body), jobs)
		}
		var one struct{ Code string }
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d", jobs[1].ID), "alice", nil), 200, "get").json(t, &one)
		if one.Code != big {
			t.Fatalf("GET /jobs/{id} lost the code (%d bytes)", len(one.Code))
		}
		for i := 0; i < 20; i++ {
			_, err := b.st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "lab", UserID: "alice", HardwarePlatform: "Demo"}, Reserve: -1})
			noErr(t, err)
		}
		var ids []struct{ ID int64 }
		b.want(b.do("GET", "/jobs/?collab=lab&size=100000", "alice", nil), 200, "list").json(t, &ids)
		if len(ids) != 20 {
			t.Fatalf("a page of %d jobs", len(ids))
		}
	})
}

// TestIdempotentSubmission: a client that retries a submission after losing
// the answer makes one job (issue 10, item 11). The first answer is dropped
// by cutting the connection after the server handled the request.
func TestIdempotentSubmission(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		var cut atomic.Int32
		h := b.api.Handler()
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "POST" && cut.Add(1) == 1 {
				h.ServeHTTP(httptest.NewRecorder(), r) // the job is made, the answer lost
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			h.ServeHTTP(w, r)
		}))
		defer hs.Close()
		before := quota(t, b, "lab", "Demo").Reserved
		c := client.New(hs.URL, b.tok["alice"])
		j, err := c.Submit(ctx, &client.Submission{Code: "print(1)", Platform: "Demo", Collab: "lab"})
		noErr(t, err)
		if cut.Load() != 2 {
			t.Fatalf("%d submissions sent, want 2 (one retry)", cut.Load())
		}
		var jobs []struct{ ID int64 }
		b.want(b.do("GET", "/jobs/?collab=lab", "alice", nil), 200, "list").json(t, &jobs)
		if len(jobs) != 1 || jobs[0].ID != j.ID {
			t.Fatalf("jobs %+v after a retried submission of job %d", jobs, j.ID)
		}
		if held := quota(t, b, "lab", "Demo").Reserved - before; math.Abs(held-0.001) > 1e-9 {
			t.Fatalf("held %v for one job", held)
		}
		// Another key is another job; a bad key is refused.
		r := b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo"}, "Idempotency-Key", "other"), 201, "another key")
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a new key was replayed")
		}
		r = b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "y", "collab": "lab", "hardware_platform": "Demo"}, "Idempotency-Key", "other"), 201, "same key")
		if r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("a repeated key was not replayed")
		}
		b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo"}, "Idempotency-Key", "a b"), 400, "bad key")
	})
}

// TestRemoveEndedJobs: finished and errored jobs can be removed (the
// guidebook's remove_completed_job), and the log says who removed a job
// (issue 10, items 13 and 16).
func TestRemoveEndedJobs(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		c := provider.New(b.srv.URL, b.key["local"])
		for _, end := range []string{"finished", "error", "running"} {
			id := b.submit("alice", "lab", "Demo")
			j, err := c.Claim(ctx, "Demo")
			noErr(t, err)
			if end != "running" {
				noErr(t, c.Update(ctx, j, &provider.Update{Status: end}))
			}
			b.want(b.do("DELETE", fmt.Sprintf("/jobs/%d", id), "alice", nil), 200, "remove a "+end+" job")
			var got struct {
				Status string
				Log    string
			}
			b.want(b.do("GET", fmt.Sprintf("/jobs/%d?with_log=true", id), "alice", nil), 200, "get").json(t, &got)
			if got.Status != "removed" || !strings.Contains(got.Log, "removed by alice") {
				t.Fatalf("%s job after removal: %+v", end, got)
			}
			var list []struct{ ID int64 }
			b.want(b.do("GET", "/jobs/?collab=lab", "alice", nil), 200, "list").json(t, &list)
			for _, x := range list {
				if x.ID == id {
					t.Fatalf("removed job %d still listed", id)
				}
			}
		}
	})
}

// TestDriveCodeRefused: drive:// code cannot run here, so it is refused when
// submitted, not failed later (issue 10, item 16).
func TestDriveCodeRefused(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		r := b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "drive://mycollab/code", "collab": "lab", "hardware_platform": "Demo"}), 400, "drive code")
		if !strings.Contains(r.detail(t), "POST /code") {
			t.Fatalf("reason: %s", r.body)
		}
	})
}

// TestLoginThrottled: guessing a password is throttled with 429 and
// Retry-After, also for the right password once the account is locked out
// (issue 10, item 5: 60 wrong passwords, then success).
func TestLoginThrottled(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		try := func(pw string) res {
			return b.do("POST", "/token", "", map[string]string{"username": "bob", "password": pw})
		}
		for i := 0; i < identity.LoginFreeFailures+1; i++ {
			b.want(try("guess"), 401, "wrong password")
		}
		r := b.want(try("correct horse"), 429, "the right password while locked out")
		if r.header.Get("Retry-After") == "" || !strings.Contains(r.detail(t), "account bob") {
			t.Fatalf("throttled answer %v %s", r.header, r.body)
		}
	})
}

// TestLowSeverityFindings: the low items of issue 10, item 6.
func TestLowSeverityFindings(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		// A user's token is not a provider's key, nor a key a token, cached or not.
		b.want(b.do("GET", "/userinfo", "alice", nil), 200, "token as bearer (now cached)")
		b.want(b.do("GET", "/jobs/", "", nil, "x-api-key", b.tok["alice"]), 401, "a token as x-api-key")
		b.want(b.do("GET", "/jobs/?hardware_platform=Demo", "key:local", nil), 200, "key (now cached)")
		b.want(b.do("GET", "/userinfo", "raw:Bearer "+b.key["local"], nil), 401, "a key as a bearer token")
		// A provider reads only accepted requests that grant its platforms.
		var pr struct{ ID string }
		b.want(b.do("POST", "/projects/", "alice", map[string]any{"collab": "lab", "title": "draft", "abstract": "a"}), 201, "draft").json(t, &pr)
		b.want(b.do("GET", "/projects/"+pr.ID, "key:uman", nil), 404, "a provider reads an unsubmitted request")
		b.want(b.do("GET", "/projects/"+b.project["lab"], "key:uman", nil), 200, "a provider reads an accepted request with its platform")
		// An administrator deletes an accepted request only with as_admin.
		b.want(b.do("DELETE", "/projects/"+b.project["pub"], "admin", nil), 403, "an administrator without as_admin")
		b.want(b.do("DELETE", "/projects/"+b.project["pub"]+"?as_admin=true", "admin", nil), 200, "an administrator with as_admin")
		// Links name the address connected to, not the Host header.
		id := b.submit("alice", "lab", "Demo")
		c := provider.New(b.srv.URL, b.key["local"])
		j, err := c.Claim(ctx, "Demo")
		noErr(t, err)
		_, err = c.Upload(ctx, j, "out.txt", strings.NewReader("x"), "")
		noErr(t, err)
		r := b.want(b.do("GET", fmt.Sprintf("/jobs/%d", id), "alice", nil, "Host", "evil.example"), 200, "job with a forged Host")
		if strings.Contains(string(r.body), "evil.example") || !strings.Contains(string(r.body), b.srv.URL+"/files/") {
			t.Fatalf("links follow the Host header: %s", r.body)
		}
	})
}
