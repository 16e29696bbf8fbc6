package benchmark

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCompareRefusals: what the compare API refuses before it submits
// anything, with the field named. (TestEndToEndCompareAPI in cmd/nmp runs
// a comparison through a real server and its workers.)
func TestCompareRefusals(t *testing.T) {
	cm := &Comparer{Server: "http://127.0.0.1:9", Platforms: []Platform{{Name: "Demo", Backend: "nmp", System: "reference"}, {Name: "Spikey", Backend: "hardware.stage1", System: "spikey"}}}
	for _, tc := range []struct {
		method, path, token, body string
		status                    int
		want                      string
	}{
		{"POST", "/compare/", "", `{}`, http.StatusUnauthorized, "needs a user's token"},
		{"POST", "/compare/", "t", `{"code": "x"}`, http.StatusBadRequest, "collab: required"},
		{"POST", "/compare/", "t", `{"collab": "c"}`, http.StatusBadRequest, "code: required"},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "x", "script": "other.py"}`, http.StatusBadRequest, "script: a script sent as text is run as run.py"},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "https://example.org/a.tar.gz", "script": "it's.py"}`, http.StatusBadRequest, "script: "},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "https://example.org/a.tar.gz", "script": "../up.py"}`, http.StatusBadRequest, "not a path inside the code"},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "x", "args": ["{system}"]}`, http.StatusBadRequest, "args[0]: "},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "x", "platforms": ["Nowhere"]}`, http.StatusBadRequest, `is not a platform that runs here (Demo, Spikey)`},
		{"POST", "/compare/", "t", `{"collab": "c", "code": "x", "args": "a"}`, http.StatusBadRequest, "args"},
		{"GET", "/compare/nothex", "t", ``, http.StatusNotFound, "is not a comparison's id"},
		{"GET", "/compare/0123456789abcdef?tau=-1", "t", ``, http.StatusBadRequest, "tau: "},
		{"DELETE", "/compare/0123456789abcdef", "t", ``, http.StatusNotFound, "no DELETE"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		cm.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", tc.method, tc.path, tc.body, rec.Code, rec.Body.String(), tc.status, tc.want)
		}
	}
}
