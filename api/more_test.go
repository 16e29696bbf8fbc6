package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestMoreEndpoints covers the endpoints the other tests touch least: the
// documents, the status, comment edits, single sessions, and expiries of
// download links and tokens (with a clock the test moves).
func TestMoreEndpoints(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		var offset atomic.Int64
		b := setup(t, d, func(c *api.Config) {
			c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			c.AuthCacheTTL = -1
		})
		if r := b.want(b.do("GET", "/openapi.json", "", nil), 200, "openapi"); !strings.Contains(string(r.body), `"openapi": "3.1.0"`) {
			t.Fatalf("openapi.json: %.100s", r.body)
		}
		if r := b.want(b.do("GET", "/docs", "", nil), 200, "docs"); !strings.Contains(string(r.body), "/openapi.json") {
			t.Fatalf("docs: %s", r.body)
		}
		var st struct{ Status string }
		b.want(b.do("GET", "/status", "", nil), 200, "status").json(t, &st)
		if st.Status != "ok" {
			t.Fatalf("status %+v", st)
		}

		// Comments: the author or an administrator edits and deletes.
		id := b.submit("alice", "lab", "Demo")
		var c struct {
			ID          int64
			ResourceURI string `json:"resource_uri"`
		}
		b.want(b.do("POST", fmt.Sprintf("/jobs/%d/comments", id), "bob", map[string]any{"content": "first"}), 201, "comment").json(t, &c)
		if c.ResourceURI != fmt.Sprintf("/jobs/%d/comments/%d", id, c.ID) {
			t.Fatalf("comment %+v", c)
		}
		b.want(b.do("PUT", c.ResourceURI, "alice", map[string]any{"content": "not mine"}), 403, "edit another's comment")
		var edited struct{ Content string }
		b.want(b.do("PUT", c.ResourceURI, "bob", map[string]any{"content": "edited"}), 200, "edit own comment").json(t, &edited)
		if edited.Content != "edited" {
			t.Fatalf("edited %+v", edited)
		}
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d/comments/%d", id+1, c.ID), "bob", map[string]any{"content": "x"}), 404, "comment of another job")
		b.want(b.do("DELETE", c.ResourceURI, "carol", nil), 404, "delete by a non-member")
		b.want(b.do("DELETE", c.ResourceURI+"?as_admin=true", "admin", nil), 200, "delete by an administrator")
		b.want(b.do("DELETE", c.ResourceURI, "bob", nil), 404, "delete a deleted comment")

		// Sessions one by one.
		var s struct{ ID int64 }
		b.want(b.do("POST", "/sessions", "key:uman", map[string]any{"collab": "lab", "user_id": "alice", "hardware_platform": "SpiNNaker"}), 201, "session").json(t, &s)
		path := fmt.Sprintf("/sessions/%d", s.ID)
		b.want(b.do("GET", path, "alice", nil), 200, "own session")
		b.want(b.do("GET", path, "bob", nil), 200, "a member's session")
		b.want(b.do("GET", path, "carol", nil), 404, "a stranger's session")
		b.want(b.do("GET", path, "key:uhei", nil), 404, "another provider's session")
		b.want(b.do("PUT", path, "key:uhei", map[string]any{"status": "finished"}), 403, "another provider ends it")
		b.want(b.do("PUT", path, "key:uman", map[string]any{"status": "finished", "resource_usage": map[string]any{"value": 1, "units": "wafer-hours"}}), 400, "wrong units")

		// A download link expires; a token too.
		cl := provider.New(b.srv.URL, b.key["local"])
		j, err := cl.Claim(ctx, "Demo")
		noErr(t, err)
		it, err := cl.Upload(ctx, j, "out.txt", strings.NewReader("data"), "text/plain")
		noErr(t, err)
		if resp, err := http.Get(it.URL); err != nil || resp.StatusCode != 200 {
			t.Fatalf("fresh link: %v %v", err, resp)
		}
		offset.Store(int64(26 * time.Hour))
		resp, err := http.Get(it.URL)
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("expired link: %d", resp.StatusCode)
		}
		if r := b.do("GET", "/userinfo", "alice", nil); r.status != 401 || !strings.Contains(string(r.body), "invalid_token") {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
	})
}
