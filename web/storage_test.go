package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/provider"
)

// TestResourcesListKeptFiles: the Resource Manager lists the collab's kept
// files once a job's are copied to the collab's storage (issue 10, item 16).
func TestResourcesListKeptFiles(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signIn("admin", "admin password")
	_, page := b.get("/app/jobs/new")
	b.post("/app/jobs/new", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "platform": {"Demo"}, "code": {"print(1)"}})
	pc := provider.New(s.url, s.key)
	job, err := pc.Claim(ctx, "Demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Upload(ctx, job, "out/spikes.dat", strings.NewReader("spikes"), ""); err != nil {
		t.Fatal(err)
	}
	if err := pc.Finish(ctx, job, "finished", nil); err != nil {
		t.Fatal(err)
	}
	_, page = b.get("/app/resources?collab=demo")
	if !strings.Contains(page, "Collab storage") || !strings.Contains(page, "No files kept") {
		t.Fatalf("before the copy:\n%s", page)
	}
	_, page = b.get("/app/jobs/1")
	b.post("/app/jobs/1/copy", url.Values{"csrf": {csrfOf(t, page)}})
	_, page = b.get("/app/resources?collab=demo")
	for _, want := range []string{`<a href="/app/jobs/1/files/out/spikes.dat" download>out/spikes.dat</a>`, "6 B", "6 B of 1.0 GB stored",
		`aria-label="Delete out/spikes.dat of job 1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q:\n%s", want, page)
		}
	}
	// Deleting it frees the storage.
	resp, _ := b.post("/app/resources/storage/delete", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "job": {"1"}, "path": {"out/spikes.dat"}})
	if resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Location"), "flash=") {
		t.Fatalf("delete: %s %v", resp.Status, resp.Header)
	}
	_, page = b.get("/app/resources?collab=demo")
	if !strings.Contains(page, "No files kept") || !strings.Contains(page, "0 B of 1.0 GB stored") {
		t.Fatalf("after the delete:\n%s", page)
	}
	if resp, _ := b.post("/app/resources/storage/delete", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "job": {"1"}, "path": {"out/spikes.dat"}}); resp.StatusCode != 404 {
		t.Fatalf("second delete: %s", resp.Status)
	}
}
