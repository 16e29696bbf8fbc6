package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/store/storetest"
)

// TestAuthorizationMatrix checks who may do what: anonymous callers, users
// without a role, viewers, editors, collab administrators, platform
// administrators (with and without as_admin), and providers' keys for the
// right and the wrong platform.
func TestAuthorizationMatrix(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		job := b.submit("alice", "lab", "SpiNNaker")
		pubJob := b.submit("dave", "pub", "SpiNNaker")
		lab := b.project["lab"]
		J := fmt.Sprintf("/jobs/%d", job)
		type step struct {
			method, path string
			body         any
			want         map[string]int // caller → status
		}
		submitLab := map[string]any{"code": "x", "collab": "lab", "hardware_platform": "SpiNNaker"}
		steps := []step{
			{"GET", J, nil, map[string]int{"": 401, "carol": 404, "bob": 200, "alice": 200, "dave": 200, "admin": 404, "key:uman": 200, "key:uhei": 404, "key:local": 404}},
			{"GET", J + "?as_admin=true", nil, map[string]int{"admin": 200, "carol": 403}},
			{"GET", fmt.Sprintf("/jobs/%d", pubJob), nil, map[string]int{"carol": 200, "alice": 200, "": 401}},
			{"GET", J + "/log", nil, map[string]int{"": 401, "carol": 404, "bob": 200, "key:uman": 200, "key:uhei": 404}},
			{"POST", "/jobs/", submitLab, map[string]int{"": 401, "carol": 404, "bob": 403, "admin": 404, "alice": 201, "dave": 201, "key:uman": 403}},
			{"POST", "/jobs/?as_admin=true", submitLab, map[string]int{"admin": 201, "alice": 403}},
			{"GET", "/jobs/?collab=lab", nil, map[string]int{"": 401, "carol": 403, "bob": 200, "alice": 200, "admin": 403}},
			{"GET", "/jobs/?collab=pub", nil, map[string]int{"carol": 200, "bob": 200}},
			{"GET", "/jobs/?user_id=alice", nil, map[string]int{"alice": 200, "bob": 403}},
			{"GET", "/jobs/?user_id=alice&user_id=bob", nil, map[string]int{"alice": 400}},
			{"GET", "/jobs/?hardware_platform=SpiNNaker", nil, map[string]int{"key:uman": 200, "key:uhei": 403}},
			{"GET", "/jobs/?as_admin=true", nil, map[string]int{"admin": 200, "alice": 403}},
			{"PUT", J, map[string]any{"status": "validated"}, map[string]int{"": 401, "alice": 403, "admin": 403, "key:uhei": 403, "key:uman": 200}},
			{"GET", J + "/comments", nil, map[string]int{"": 401, "carol": 404, "bob": 200}},
			{"POST", J + "/comments/", map[string]any{"content": "nice"}, map[string]int{"": 401, "carol": 404, "bob": 201, "key:uman": 403}},
			{"POST", J + "/tags/", []string{"tagged"}, map[string]int{"": 401, "carol": 404, "bob": 403, "alice": 200, "dave": 200}},
			{"DELETE", J + "/tags/", []string{"tagged"}, map[string]int{"bob": 403, "alice": 200}},
			{"GET", J + "/tags/", nil, map[string]int{"carol": 404, "bob": 200}},
			{"GET", "/tags/?collab=lab", nil, map[string]int{"": 401, "carol": 403, "bob": 200}},
			{"GET", "/tags/", nil, map[string]int{"bob": 422, "admin": 422}},
			{"GET", "/tags/?as_admin=true", nil, map[string]int{"admin": 200}},
			{"GET", J + "/output_data", nil, map[string]int{"carol": 404, "bob": 200, "key:uman": 200}},
			{"GET", "/projects/" + lab, nil, map[string]int{"": 401, "carol": 403, "bob": 200, "alice": 200, "admin": 200, "key:uman": 200}},
			{"GET", "/projects/?collab=lab", nil, map[string]int{"": 401, "carol": 403, "bob": 200, "key:uman": 200}},
			{"GET", "/projects/", nil, map[string]int{"carol": 200, "alice": 200, "key:uman": 422}},
			{"POST", "/projects/", map[string]any{"collab": "lab", "title": "t", "abstract": "a"}, map[string]int{"": 401, "carol": 403, "bob": 403, "alice": 201, "admin": 201, "key:uman": 403}},
			{"PUT", "/projects/" + lab + "?as_admin=true", map[string]any{"status": "rejected"}, map[string]int{"alice": 403, "carol": 403}},
			{"POST", "/projects/" + lab + "/quotas/", map[string]any{"platform": "Spikey", "limit": 2}, map[string]int{"": 401, "alice": 403, "dave": 403, "admin": 201}},
			{"GET", "/projects/" + lab + "/quotas/", nil, map[string]int{"carol": 403, "bob": 200}},
			{"GET", "/collabs/", nil, map[string]int{"": 401, "alice": 200, "carol": 200}},
			{"GET", "/jobs/next/SpiNNaker", nil, map[string]int{"": 401, "alice": 403, "key:uhei": 403, "key:uman": 200}},
			{"POST", "/jobs/next/Demo", nil, map[string]int{"alice": 403, "key:uman": 403, "key:local": 404}},
			{"PUT", J + "/log", "\"log text\"", map[string]int{"": 401, "alice": 403, "key:uhei": 403, "key:uman": 200}},
			{"PATCH", J + "/log", "more", map[string]int{"alice": 403, "key:uman": 200}},
			{"POST", "/sessions/", map[string]any{"collab": "lab", "user_id": "alice", "hardware_platform": "SpiNNaker"}, map[string]int{"": 401, "alice": 403, "key:uhei": 403, "key:uman": 201}},
			{"GET", "/sessions/?collab=lab", nil, map[string]int{"": 401, "carol": 403, "bob": 200, "key:uman": 200}},
			{"GET", "/statistics/queue-length", nil, map[string]int{"": 200}},
			{"GET", "/statistics/per-user", nil, map[string]int{"": 401, "alice": 403, "admin": 200}},
			{"PUT", "/status", map[string]any{"status": "ok"}, map[string]int{"": 401, "alice": 403, "key:uman": 403, "admin": 200}},
			{"GET", "/userinfo", nil, map[string]int{"": 401, "alice": 200, "key:uman": 403}},
			{"DELETE", J, nil, map[string]int{"": 401, "carol": 404, "bob": 403, "key:uman": 403, "alice": 200}},
			{"DELETE", fmt.Sprintf("/jobs/%d?as_admin=true", pubJob), nil, map[string]int{"alice": 403, "admin": 200}},
		}
		order := []string{"", "carol", "bob", "key:uhei", "key:local", "key:uman", "admin", "dave", "alice"}
		for _, s := range steps {
			for _, who := range order {
				want, ok := s.want[who]
				if !ok {
					continue
				}
				r := b.do(s.method, s.path, who, s.body)
				if r.status != want {
					name := who
					if name == "" {
						name = "anonymous"
					}
					t.Errorf("%s %s as %s: status %d, want %d: %s", s.method, s.path, name, r.status, want, strings.TrimSpace(string(r.body)))
				}
			}
		}
		// After the owner's DELETE the job is removed: it no longer lists, and others cannot see it.
		if r := b.do("GET", "/jobs/?collab=lab&size=100", "alice", nil); strings.Contains(string(r.body), fmt.Sprintf(`"id":%d,`, job)) {
			t.Errorf("removed job %d still listed: %s", job, r.body)
		}
		b.want(b.do("GET", J, "bob", nil), 404, "a viewer reads a removed job")
		b.want(b.do("GET", J, "alice", nil), 200, "the owner reads a removed job")
		// The administrator's delete was a hard delete.
		b.want(b.do("GET", fmt.Sprintf("/jobs/%d?as_admin=true", pubJob), "admin", nil), 404, "hard-deleted job")
	})
}
