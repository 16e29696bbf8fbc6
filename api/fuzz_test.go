package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/sqlite"
)

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"a/b.txt", "../x", "/abs/x", "a//b", "./a", "a/./b/..", "x\\y", "é/ü.dat", "\x00", "a/\nb", strings.Repeat("a/", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := CleanPath(p)
		if err != nil {
			return
		}
		if c == "" || strings.HasPrefix(c, "/") || strings.Contains(c, "\\") || strings.Contains(c, "//") {
			t.Fatalf("CleanPath(%q) = %q", p, c)
		}
		for _, seg := range strings.Split(c, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Fatalf("CleanPath(%q) = %q has segment %q", p, c, seg)
			}
		}
		// Joined below a root, it stays below it.
		root := "/data/files/1"
		if j := filepath.Join(root, filepath.FromSlash(c)); !strings.HasPrefix(j, root+"/") {
			t.Fatalf("CleanPath(%q) = %q escapes: %s", p, c, j)
		}
		if again, err := CleanPath(c); err != nil || again != c {
			t.Fatalf("CleanPath is not idempotent on %q: %q, %v", c, again, err)
		}
	})
}

// fuzzServer is a server on a SQLite store with one editor, one provider and quota.
func fuzzServer(f *testing.F) (http.Handler, string, string) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "nmp.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Code: "x", Collab: "demo", UserID: "admin", HardwarePlatform: "Demo"}, Reserve: -1}); err != nil {
		f.Fatal(err)
	}
	srv, err := New(ctx, Config{Store: st, DataDir: f.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	return srv.Handler(), b.Token, b.APIKey
}

// FuzzRequestBodies sends arbitrary bodies to the endpoints that parse what users
// and runners send: none may panic or answer 500.
func FuzzRequestBodies(f *testing.F) {
	h, token, key := fuzzServer(f)
	seeds := []string{
		`{"code":"x","collab":"demo","hardware_platform":"Demo","tags":["ab"]}`,
		`{"code":null,"collab":5}`, `[]`, `"str"`, `{"status":"finished","resource_usage":{"value":1,"units":"hours"}}`,
		`{"output_data":{"files":[{"url":"http://x/y","path":"../a"}]}}`, `{"collab":"demo","title":"t","abstract":"a"}`,
		`{"content":"hello"}`, `["tag1","tag2"]`, `{"status":"under review"}`, "\x00\xff", `{"limit":-1,"platform":"Demo"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	type target struct{ method, path, auth string }
	targets := []target{
		{"POST", "/jobs/", "Bearer " + token},
		{"PUT", "/jobs/1", "key"},
		{"PUT", "/jobs/1/log", "key"},
		{"POST", "/jobs/1/comments/", "Bearer " + token},
		{"POST", "/jobs/1/tags/", "Bearer " + token},
		{"DELETE", "/jobs/1/tags/", "Bearer " + token},
		{"POST", "/projects/", "Bearer " + token},
		{"PUT", "/status", "Bearer " + token},
		{"POST", "/sessions/", "key"},
		{"PUT", "/jobs/1/output_data", "Bearer " + token},
		{"POST", "/token", ""},
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		tg := targets[int(which)%len(targets)]
		req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tg.auth == "key" {
			req.Header.Set("x-api-key", key)
		} else if tg.auth != "" {
			req.Header.Set("Authorization", tg.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable && w.Code != http.StatusInsufficientStorage {
			data, _ := io.ReadAll(w.Body)
			t.Fatalf("%s %s with %q: %d %s", tg.method, tg.path, body, w.Code, data)
		}
		if w.Code == http.StatusOK && tg.path == "/status" {
			// keep the server up for the next inputs
			r2 := httptest.NewRequest("PUT", "/status", strings.NewReader(`{"status":"ok"}`))
			r2.Header.Set("Authorization", "Bearer "+token)
			h.ServeHTTP(httptest.NewRecorder(), r2)
		}
	})
}

// FuzzQuery sends arbitrary query strings to the list endpoints.
func FuzzQuery(f *testing.F) {
	h, token, key := fuzzServer(f)
	for _, s := range []string{"status=submitted&status=running", "as_admin=True&size=100000", "size=-1", "date_range_start=2024-01-01&date_range_end=x",
		"collab=demo&status=under+review", "with_log=maybe", "%zz", "tags=a&tags=b&from_index=3"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, q string, asKey bool) {
		for _, p := range []string{"/jobs/", "/projects/", "/sessions/", "/jobs/1", "/tags/", "/collabs/", "/statistics/job-count"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = p
			req.URL.RawQuery = q
			if asKey {
				req.Header.Set("x-api-key", key)
			} else {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", p, q, w.Code, w.Body.String())
			}
		}
	})
}
