package benchmark

import (
	"encoding/json"
	"fmt"
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

// TestComparePlatforms: GET /compare/platforms lists what a comparison
// runs on, the reference first (the web interface's form offers these).
func TestComparePlatforms(t *testing.T) {
	cm := &Comparer{Server: "http://127.0.0.1:9", Platforms: []Platform{{Name: "Spikey", Backend: "hardware.stage1", System: "spikey"}, {Name: "Demo", Backend: "nmp", System: "reference"}}}
	req := httptest.NewRequest(http.MethodGet, "/compare/platforms", nil)
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	cm.ServeHTTP(rec, req)
	var got []ComparePlatform
	want := []ComparePlatform{{"Demo", "nmp", "reference"}, {"Spikey", "hardware.stage1", "spikey"}}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GET /compare/platforms: %d %s, want %v", rec.Code, rec.Body, want)
	}
}

// FuzzParseNotSubmitted: the record of a platform left out is a comment,
// which members can write too: any comment is read without a panic, and
// what notSubmittedComment writes reads back as it was.
func FuzzParseNotSubmitted(f *testing.F) {
	f.Add("Spikey", "insufficient quota", "nmp compare: Spikey was not submitted: no quota")
	f.Add("BrainScaleS-2", "", "nmp compare: was not submitted: x")
	f.Add("a was not submitted: b", "c", "nmp compare: ")
	f.Fuzz(func(t *testing.T, platform, reason, comment string) {
		_, _, _ = parseNotSubmitted(comment)
		// Platform names (the table's) never hold the infix's words.
		if platform == "" || strings.Index(platform+notSubmittedInfix, notSubmittedInfix) != len(platform) {
			return
		}
		p, r, ok := parseNotSubmitted(notSubmittedComment(platform, reason))
		if !ok || p != platform || (reason != "" && r != reason) {
			t.Fatalf("(%q, %q) read back as (%q, %q, %v)", platform, reason, p, r, ok)
		}
	})
}
