package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/store/storetest"
)

// TestCompatQuirks checks what the nmpi client and the providers' runners send
// that a compatible server must tolerate (reference §2.1, §2.5, §6.8).
func TestCompatQuirks(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)

		// Double slashes and both trailing-slash spellings, served in place (no redirect: a redirected POST becomes a GET).
		r := b.want(b.do("POST", "//jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo",
			"unknown_field": 1, "selected_tab": "upload_script"}), 201, "POST //jobs/ with unknown fields")
		id := int64(r.obj(t)["id"].(float64))
		if r.obj(t)["resource_uri"] != fmt.Sprintf("/jobs/%d", id) {
			t.Fatalf("resource_uri %v", r.obj(t)["resource_uri"])
		}
		b.want(b.do("POST", "/jobs", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo"}), 201, "POST /jobs")
		b.want(b.do("GET", "//projects/?collab=lab", "alice", nil), 200, "GET //projects/")
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d/", id), "alice", nil), 200, "GET /jobs/{id}/")
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d/comments/", id), "alice", nil), 200, "GET comments with slash")
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d/comments", id), "alice", nil), 200, "GET comments without slash")

		// The v2 key collab_id is accepted for collab.
		b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab_id": "lab", "hardware_platform": "Demo"}), 201, "collab_id")

		// Booleans: true, True, 1 (Python urlencodes True).
		for _, v := range []string{"true", "True", "TRUE", "1"} {
			r := b.want(b.do("GET", fmt.Sprintf("/jobs/%d?with_log=%s&with_comments=%s", id, v, v), "alice", nil), 200, "with_log="+v)
			if c := r.obj(t)["comments"]; c == nil {
				t.Fatalf("with_comments=%s gave no comments list", v)
			}
		}
		b.want(b.do("GET", "/projects/?as_admin=True&size=100000", "admin", nil), 200, "as_admin=True")
		if r := b.do("GET", fmt.Sprintf("/jobs/%d?with_log=maybe", id), "alice", nil); r.status != 422 || !strings.Contains(r.detail(t), "with_log") {
			t.Fatalf("bad boolean: %d %s", r.status, r.body)
		}

		// Repeated query keys.
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d", id), "key:local", map[string]any{"status": "finished"}), 200, "finish")
		var jobs []map[string]any
		b.want(b.do("GET", "/jobs/?status=finished&status=error&collab=lab&size=100000", "alice", nil), 200, "repeated status").json(t, &jobs)
		if len(jobs) != 1 || jobs[0]["status"] != "finished" {
			t.Fatalf("finished or error jobs: %v", jobs)
		}
		b.want(b.do("GET", "/jobs/?status=submitted&status=running&user_id=alice", "alice", nil), 200, "queued jobs").json(t, &jobs)
		if len(jobs) != 2 {
			t.Fatalf("queued jobs: %d", len(jobs))
		}
		for _, j := range jobs {
			for _, k := range []string{"id", "code", "command", "collab", "input_data", "hardware_platform", "hardware_config", "tags", "user_id", "status",
				"timestamp_submission", "resource_uri", "output_data", "provenance", "timestamp_completion", "resource_usage", "comments", "log"} {
				if _, ok := j[k]; !ok {
					t.Fatalf("job lacks key %q: %v", k, j)
				}
			}
		}

		// Resource requests: "context" is returned (nmpi 0.11 prints it), "+" is a space in status.
		r = b.want(b.do("POST", "//projects/", "alice", map[string]any{"collab": "lab", "title": "More", "abstract": "why", "description": "", "status": "under review"}), 201, "create project")
		p := r.obj(t)
		if p["context"] != p["id"] || p["status"] != "under review" || p["resource_uri"] != "/projects/"+p["id"].(string) {
			t.Fatalf("project %v", p)
		}
		var ps []map[string]any
		b.want(b.do("GET", "/projects/?collab=lab&status=under+review", "alice", nil), 200, "status with +").json(t, &ps)
		if len(ps) != 1 || ps[0]["id"] != p["id"] {
			t.Fatalf("under review: %v", ps)
		}
		b.want(b.do("GET", "/projects/?collab=lab&status=accepted", "alice", nil), 200, "accepted").json(t, &ps)
		if len(ps) != 1 || len(ps[0]["quotas"].([]any)) == 0 {
			t.Fatalf("accepted projects must embed quotas: %v", ps)
		}

		// Runners PUT the whole job document back, with fields the server ignores.
		j2 := b.submit("alice", "lab", "Demo")
		var whole map[string]any
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d", j2), "key:local", nil), 200, "get").json(t, &whole)
		whole["status"] = "running"
		whole["timestamp_completion"] = "2024-01-01T00:00:00"
		whole["something_new"] = []int{1, 2}
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d", j2), "key:local", whole), 200, "PUT whole job")
		// The log PUT as text/plain, and as a JSON string (nmpi 0.11.2 JSON-encodes it).
		req := b.do("PUT", fmt.Sprintf("/jobs/%d/log", j2), "key:local", "\"line one\\n\"")
		b.want(req, 200, "log as JSON string")
		b.want(b.do("PATCH", fmt.Sprintf("/jobs/%d/log", j2), "key:local", "line two\n", "Content-Type", "text/plain"), 200, "append")
		r = b.want(b.do("GET", fmt.Sprintf("/jobs/%d/log", j2), "alice", nil), 200, "read log")
		if string(r.body) != "line one\nline two\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("log %q (%s)", r.body, r.header.Get("Content-Type"))
		}
		// Units must match the platform.
		r = b.do("PUT", fmt.Sprintf("/jobs/%d", j2), "key:local", map[string]any{"resource_usage": map[string]any{"value": 1, "units": "core-hours"}})
		if r.status != 400 || !strings.Contains(r.detail(t), "hours") {
			t.Fatalf("wrong units: %d %s", r.status, r.body)
		}

		// An unknown or expired token answers 401 with "invalid_token", so the client's own recovery runs.
		for _, auth := range []string{"raw:Bearer nmpt_nonsense", "raw:Token abc"} {
			r := b.do("GET", "/jobs/?collab=lab", auth, nil)
			if r.status != 401 || !strings.Contains(string(r.body), "invalid_token") {
				t.Fatalf("%s: %d %s", auth, r.status, r.body)
			}
		}
		r = b.do("GET", "/userinfo", "raw:Bearer bad", nil)
		if r.status != 401 || r.obj(t)["error"] != "invalid_token" {
			t.Fatalf("userinfo with a bad token: %d %s", r.status, r.body)
		}
		// Unknown endpoint, wrong method: clear messages.
		if r := b.do("GET", "/nope", "", nil); r.status != 404 || !strings.Contains(r.detail(t), "/openapi.json") {
			t.Fatalf("unknown path: %d %s", r.status, r.body)
		}
		if r := b.do("PATCH", "/jobs/", "alice", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, POST" {
			t.Fatalf("wrong method: %d %s %v", r.status, r.body, r.header)
		}
		// The empty queue answers 404 with the reference's message.
		r = b.do("GET", "/jobs/next/BrainScaleS", "key:uhei", nil)
		if r.status != 404 || r.detail(t) != "No queued job for BrainScaleS" {
			t.Fatalf("empty queue: %d %s", r.status, r.body)
		}
		// Old providers' header: "Authorization: ApiKey user:key".
		b.want(b.do("GET", "/jobs/next/BrainScaleS", "raw:ApiKey uhei:"+b.key["uhei"], nil), 404, "v2 ApiKey header")
	})
}

// TestValidation checks that bad input is refused with a message naming the field.
func TestValidation(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		cases := []struct {
			method, path string
			body         any
			status       int
			field        string
		}{
			{"POST", "/jobs/", map[string]any{"collab": "lab", "hardware_platform": "Demo"}, 422, "code"},
			{"POST", "/jobs/", map[string]any{"code": "x", "hardware_platform": "Demo"}, 422, "collab"},
			{"POST", "/jobs/", map[string]any{"code": "x", "collab": "lab"}, 422, "hardware_platform"},
			{"POST", "/jobs/", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Loihi"}, 422, "Loihi"},
			{"POST", "/jobs/", map[string]any{"code": 5, "collab": "lab", "hardware_platform": "Demo"}, 422, "code"},
			{"POST", "/jobs/", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo", "tags": []string{"a"}}, 422, "tags[0]"},
			{"POST", "/jobs/", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo", "hardware_config": []int{1}}, 422, "hardware_config"},
			{"POST", "/jobs/", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "Demo", "input_data": []map[string]any{{"path": "x"}}}, 422, "input_data[0].url"},
			{"POST", "/jobs/", "{not json", 422, "invalid JSON"},
			{"POST", "/jobs/", "", 422, "empty"},
			{"POST", "/projects/", map[string]any{"collab": "lab", "title": "t", "abstract": strings.Repeat("a", 501)}, 422, "abstract"},
			{"POST", "/projects/", map[string]any{"collab": "lab", "title": "t", "abstract": "a", "description": strings.Repeat("d", 10001)}, 422, "description"},
			{"POST", "/projects/", map[string]any{"collab": "lab", "abstract": "a"}, 422, "title"},
			{"POST", "/projects/", map[string]any{"collab": "lab", "title": "t", "abstract": "a", "status": "accepted"}, 422, "status"},
			{"GET", "/jobs/?status=done", nil, 422, "status"},
			{"GET", "/jobs/?size=-1", nil, 422, "size"},
			{"GET", "/jobs/?date_range_start=yesterday", nil, 422, "date_range_start"},
			{"GET", "/jobs/abc", nil, 404, "not a number"},
			{"POST", "/jobs/1/comments/", map[string]any{"content": ""}, 422, "content"},
		}
		for _, c := range cases {
			r := b.do(c.method, c.path, "alice", c.body)
			if r.status != c.status || !strings.Contains(r.detail(t), c.field) {
				t.Errorf("%s %s %v: %d %s; want %d naming %q", c.method, c.path, c.body, r.status, r.body, c.status, c.field)
			}
		}
		// Exactly 500 and 10 000 characters are fine (multi-byte characters count as one).
		b.want(b.do("POST", "/projects/", "alice", map[string]any{"collab": "lab", "title": "t", "abstract": strings.Repeat("é", 500), "description": strings.Repeat("ü", 10000)}), 201, "limits")
	})
}
