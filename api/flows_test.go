package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestResourceRequests follows a request from preparation to review and
// decision, and checks the quotas each kind of access grants.
func TestResourceRequests(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		var p struct {
			ID, Status, Title, Access string
			Quotas                    []struct {
				Platform, Units string
				Limit           float64
			}
		}
		b.want(b.do("POST", "/projects/", "alice", map[string]any{"collab": "lab", "title": "Draft", "abstract": "a"}), 201, "create").json(t, &p)
		if p.Status != "in preparation" || p.Access != "test" {
			t.Fatalf("new request %+v", p)
		}
		path := "/projects/" + p.ID
		b.want(b.do("PUT", path, "alice", map[string]any{"title": "Better", "status": "in preparation"}), 200, "edit")
		b.want(b.do("PUT", path, "bob", map[string]any{"title": "Mine"}), 403, "a viewer edits")
		b.want(b.do("PUT", path+"?as_admin=true", "admin", map[string]any{"status": "accepted"}), 409, "accepting a request not submitted")
		b.want(b.do("PUT", path, "alice", map[string]any{"status": "under review", "access": "preparatory"}), 200, "submit")
		if r := b.do("PUT", path, "alice", map[string]any{"title": "Again"}); r.status != 403 || !strings.Contains(r.detail(t), "Can't edit a submitted form") {
			t.Fatalf("edit after submission: %d %s", r.status, r.body)
		}
		b.want(b.do("PUT", path, "admin", map[string]any{"status": "accepted"}), 403, "accept without as_admin")
		b.want(b.do("PUT", path+"?as_admin=true", "admin", map[string]any{"status": "accepted"}), 200, "accept").json(t, &p)
		if p.Status != "accepted" || p.Title != "Better" {
			t.Fatalf("accepted %+v", p)
		}
		limits := map[string]string{}
		for _, q := range p.Quotas {
			limits[q.Platform] = fmt.Sprintf("%g %s", q.Limit, q.Units)
		}
		for pl, want := range map[string]string{"SpiNNaker": "500000 core-hours", "BrainScaleS": "10 wafer-hours", "Storage": "10 GB", "BrainScaleS-2": "100 chip-hours"} {
			if limits[pl] != want {
				t.Fatalf("preparatory access grants %v; want %s %s", limits, want, pl)
			}
		}
		b.want(b.do("PUT", path+"?as_admin=true", "admin", map[string]any{"status": "rejected"}), 409, "deciding twice")
		// A rejected request grants nothing.
		var r2 struct{ ID, Status string }
		b.want(b.do("POST", "/projects/", "alice", map[string]any{"collab": "lab", "title": "No", "abstract": "a", "status": "under review"}), 201, "create").json(t, &r2)
		b.want(b.do("PUT", "/projects/"+r2.ID+"?as_admin=True", "admin", map[string]any{"status": "rejected"}), 200, "reject").json(t, &r2)
		if r2.Status != "rejected" {
			t.Fatalf("rejected %+v", r2)
		}
		// The client's quotas(): accepted requests of the collab, quotas joined.
		var ps []struct{ Quotas []any }
		b.want(b.do("GET", "/projects/?collab=lab&status=accepted", "alice", nil), 200, "accepted").json(t, &ps)
		if len(ps) != 2 || len(ps[0].Quotas)+len(ps[1].Quotas) != 14 {
			t.Fatalf("accepted requests %+v", ps)
		}
		// Collabs: where alice may submit and a request exists.
		var cs []string
		b.want(b.do("GET", "/collabs/", "alice", nil), 200, "collabs").json(t, &cs)
		if fmt.Sprint(cs) != "[lab]" {
			t.Fatalf("collabs %v", cs)
		}
		// Admin quota management, as AdminClient does it.
		var q struct {
			ResourceURI string `json:"resource_uri"`
			Units       string
			Usage       float64
		}
		b.want(b.do("POST", path+"/quotas/", "admin", map[string]any{"platform": "Spikey", "limit": 3}), 201, "add quota").json(t, &q)
		if q.Units != "hours" || q.Usage != 0 {
			t.Fatalf("quota %+v", q)
		}
		b.want(b.do("PUT", q.ResourceURI, "key:uhei", map[string]any{"usage": 1.5}), 200, "provider sets usage")
		b.want(b.do("PUT", q.ResourceURI, "key:uman", map[string]any{"usage": 1.5}), 403, "another provider sets usage")
		var q2 struct{ Limit, Usage float64 }
		b.want(b.do("GET", q.ResourceURI, "alice", nil), 200, "get quota").json(t, &q2)
		if q2.Limit != 3 || q2.Usage != 1.5 {
			t.Fatalf("quota after update %+v (a missing limit must stay)", q2)
		}
		b.want(b.do("DELETE", q.ResourceURI, "alice", nil), 403, "a user deletes a quota")
		b.want(b.do("DELETE", q.ResourceURI, "admin", nil), 200, "the admin deletes a quota")
		b.want(b.do("GET", q.ResourceURI, "alice", nil), 404, "deleted quota")
		// Deleting requests.
		b.want(b.do("DELETE", path, "alice", nil), 403, "deleting an accepted request")
		b.want(b.do("DELETE", "/projects/"+r2.ID, "alice", nil), 200, "deleting a rejected request")
	})
}

// TestQuotaRules: a job is refused without quota, admitted with it, and its
// usage charged when it ends.
func TestQuotaRules(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		// pub has test access, which has no quota for TestPlatform; a private collab has nothing.
		for _, c := range []struct{ collab, platform string }{{"pub", "TestPlatform"}, {"private-dave", "Demo"}} {
			r := b.do("POST", "/jobs/", "dave", map[string]any{"code": "x", "collab": c.collab, "hardware_platform": c.platform})
			if r.status != 403 || !strings.Contains(r.detail(t), "You do not have sufficient compute quota") {
				t.Fatalf("%s on %s without quota: %d %s", c.collab, c.platform, r.status, r.body)
			}
		}
		// A session (spalloc) is admitted and charged the same way.
		var s struct {
			ID            int64
			ResourceURI   string                 `json:"resource_uri"`
			ResourceUsage struct{ Units string } `json:"resource_usage"`
		}
		b.want(b.do("POST", "/sessions/", "key:uman", map[string]any{"collab": "lab", "user_id": "alice", "hardware_platform": "SpiNNaker", "hardware_config": map[string]any{"boards": 1}}), 201, "session").json(t, &s)
		if s.ResourceUsage.Units != "core-hours" {
			t.Fatalf("session %+v", s)
		}
		b.want(b.do("PUT", s.ResourceURI, "key:uman", map[string]any{"status": "finished", "resource_usage": map[string]any{"value": 120, "units": "core-hours"}}), 200, "end session")
		b.want(b.do("PUT", s.ResourceURI, "key:uman", map[string]any{"status": "running"}), 409, "reopen session")
		if q := quota(t, b, "lab", "SpiNNaker"); q.Usage != 120 || q.Reserved > 1e-9 {
			t.Fatalf("after the session: %+v", q)
		}
		// A job whose usage overruns the quota is charged in full, and the next submission is refused.
		id := b.submit("alice", "lab", "SpiNNaker")
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d", id), "key:uman", map[string]any{"status": "finished", "resource_usage": map[string]any{"value": 5000, "units": "core-hour"}}), 200, "finish")
		if q := quota(t, b, "lab", "SpiNNaker"); q.Usage != 5120 {
			t.Fatalf("after the overrun: %+v", q)
		}
		r := b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "SpiNNaker"})
		if r.status != 403 {
			t.Fatalf("submission with the quota spent: %d %s", r.status, r.body)
		}
	})
}

// TestServiceStatus: "down" answers 503 everywhere but / and /status; "read-only" refuses changes.
func TestServiceStatus(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) { c.Status = "down: maintenance until noon" })
		r := b.do("GET", "/jobs/?collab=lab", "alice", nil)
		if r.status != 503 || r.obj(t)["error"] != "down: maintenance until noon" {
			t.Fatalf("down: %d %s", r.status, r.body)
		}
		var about struct{ Status string }
		b.want(b.do("GET", "/", "", nil), 200, "about while down").json(t, &about)
		if about.Status != "down: maintenance until noon" {
			t.Fatalf("about %+v", about)
		}
		b.want(b.do("PUT", "/status", "admin", map[string]any{"status": "read-only", "platforms": map[string]any{"Spikey": map[string]any{"status": "down", "message": "cooling"}}}), 200, "read-only")
		b.want(b.do("GET", "/jobs/?collab=lab", "alice", nil), 200, "read while read-only")
		b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo"}), 503, "write while read-only")
		var about2 struct {
			Platforms map[string]struct{ Status, Message string }
		}
		b.want(b.do("GET", "/", "", nil), 200, "about").json(t, &about2)
		if about2.Platforms["Spikey"].Status != "down" || about2.Platforms["Demo"].Status != "ok" {
			t.Fatalf("platforms %+v", about2.Platforms)
		}
		b.want(b.do("PUT", "/status", "admin", map[string]any{"status": "sideways"}), 422, "bad status")
		b.want(b.do("PUT", "/status", "admin", map[string]any{"status": "ok"}), 200, "ok")
		b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo"}), 201, "write when ok")
	})
}

// TestLogin: the password grant that 'nmp login' uses, and the scripted
// browser login of the nmpi client (with its forced Host header).
func TestLogin(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse"}}
		resp, err := http.PostForm(b.srv.URL+"/token", form)
		noErr(t, err)
		var tok struct {
			AccessToken string `json:"access_token"`
			User        struct {
				PreferredUsername string `json:"preferred_username"`
			}
		}
		noErr(t, json.NewDecoder(resp.Body).Decode(&tok))
		resp.Body.Close()
		if resp.StatusCode != 200 || tok.AccessToken == "" || tok.User.PreferredUsername != "alice" {
			t.Fatalf("token: %d %+v", resp.StatusCode, tok)
		}
		b.tok["alice2"] = tok.AccessToken
		b.want(b.do("GET", "/jobs/?collab=lab", "alice2", nil), 200, "use the new token")
		form.Set("password", "wrong")
		resp, err = http.PostForm(b.srv.URL+"/token", form)
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}

		// The nmpi client's _ebrains_auth, step by step.
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = noRedirect.Get(b.srv.URL + "/login")
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 302 {
			t.Fatalf("/login: %d", resp.StatusCode)
		}
		page, err := http.Get(resp.Header.Get("Location"))
		noErr(t, err)
		var html strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := page.Body.Read(buf)
			html.Write(buf[:n])
			if err != nil {
				break
			}
		}
		page.Body.Close()
		m := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(html.String())
		if m == nil {
			t.Fatalf("no form action in %s", html.String())
		}
		action := strings.ReplaceAll(m[1], "&amp;", "&")
		req, _ := http.NewRequest("POST", action, strings.NewReader(url.Values{"username": {"bob"}, "password": {"correct horse"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = "iam.ebrains.eu"
		req.Header.Set("Origin", "https://iam.ebrains.eu")
		resp, err = noRedirect.Do(req)
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), b.srv.URL+"/auth?code=") {
			t.Fatalf("form post: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err = http.Get(resp.Header.Get("Location"))
		noErr(t, err)
		noErr(t, json.NewDecoder(resp.Body).Decode(&tok))
		resp.Body.Close()
		if tok.AccessToken == "" || tok.User.PreferredUsername != "bob" {
			t.Fatalf("auth: %+v", tok)
		}
		var ui struct {
			Sub   string
			Roles struct{ Team []string }
		}
		b.tok["bob2"] = tok.AccessToken
		b.want(b.do("GET", "/userinfo", "bob2", nil), 200, "userinfo").json(t, &ui)
		if ui.Sub != "bob" || !slices.Contains(ui.Roles.Team, "collab-lab-viewer") {
			t.Fatalf("userinfo %+v", ui)
		}
		// The code is single-use.
		resp, err = http.Get(resp.Request.URL.String())
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("reused code: %d", resp.StatusCode)
		}
	})
}

// TestStatistics checks the shapes and counts of the statistics endpoints.
func TestStatistics(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		for i := 0; i < 3; i++ {
			id := b.submit("alice", "lab", "SpiNNaker")
			b.want(b.do("PUT", fmt.Sprintf("/jobs/%d", id), "key:uman", map[string]any{"status": "finished", "resource_usage": map[string]any{"value": 2, "units": "core-hours"}}), 200, "finish")
		}
		b.submit("dave", "pub", "Demo")
		var counts []struct {
			Start, End string
			Count      map[string]int
		}
		b.want(b.do("GET", "/statistics/job-count?interval=1", "", nil), 200, "job-count").json(t, &counts)
		total := 0
		for _, c := range counts {
			total += c.Count["SpiNNaker"]
		}
		if len(counts) != 30 || total != 3 {
			t.Fatalf("job-count: %d bins, %d SpiNNaker jobs", len(counts), total)
		}
		b.want(b.do("GET", "/statistics/cumulative-job-count", "", nil), 200, "cumulative").json(t, &counts)
		if last := counts[len(counts)-1]; last.Count["SpiNNaker"] != 3 {
			t.Fatalf("cumulative: %+v", last)
		}
		var users struct {
			Dates  []string
			Values []int
		}
		b.want(b.do("GET", "/statistics/cumulative-user-count", "", nil), 200, "users").json(t, &users)
		if len(users.Values) != 3 || users.Values[2] != 2 {
			t.Fatalf("cumulative users %+v", users)
		}
		var queues []struct {
			QueueName string `json:"queue_name"`
			Running   int
			Submitted int
		}
		b.want(b.do("GET", "/statistics/queue-length", "", nil), 200, "queue-length").json(t, &queues)
		found := false
		for _, q := range queues {
			if q.QueueName == "Demo" {
				found = q.Submitted == 1
			}
		}
		if !found {
			t.Fatalf("queue lengths %+v", queues)
		}
		var usage []struct{ Value map[string]float64 }
		b.want(b.do("GET", "/statistics/resource-usage", "", nil), 200, "usage").json(t, &usage)
		if usage[len(usage)-1].Value["SpiNNaker"] != 6 {
			t.Fatalf("resource usage %+v", usage[len(usage)-1])
		}
		var hist []struct {
			Platform, Status string
			Values           []int
			Bins             []float64
		}
		b.want(b.do("GET", "/statistics/job-duration?n_bins=10", "", nil), 200, "durations").json(t, &hist)
		if len(hist) != 1 || hist[0].Platform != "SpiNNaker" || len(hist[0].Values) != 10 || len(hist[0].Bins) != 11 {
			t.Fatalf("durations %+v", hist)
		}
		for _, p := range []string{"/statistics/active-user-count", "/statistics/cumulative-project-count", "/statistics/job-duration?scale=log"} {
			b.want(b.do("GET", p, "", nil), 200, p)
		}
		var per []struct {
			UserID   string         `json:"user_id"`
			JobCount map[string]int `json:"job_count"`
		}
		b.want(b.do("GET", "/statistics/per-user", "admin", nil), 200, "per-user").json(t, &per)
		sort.Slice(per, func(i, j int) bool { return per[i].UserID < per[j].UserID })
		if len(per) != 2 || per[0].JobCount["SpiNNaker"] != 3 {
			t.Fatalf("per-user %+v", per)
		}
	})
}
