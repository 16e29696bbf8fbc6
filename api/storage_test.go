package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestCollabStorage: the files copy_data_to_storage kept are listed per
// collab, to whoever may see its jobs (a collab the caller cannot see is not
// found), paged; editors delete them, which frees storage (issue 10, item 16).
func TestCollabStorage(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		c := provider.New(b.srv.URL, b.key["local"])
		// Two finished jobs of lab with stored files, and one of pub.
		run := func(collab string, files map[string]string) int64 {
			t.Helper()
			who := "alice"
			if collab == "pub" {
				who = "dave"
			}
			id := b.submit(who, collab, "Demo")
			j, err := c.Claim(ctx, "Demo")
			noErr(t, err)
			for p, content := range files {
				_, err := c.Upload(ctx, j, p, strings.NewReader(content), "")
				noErr(t, err)
			}
			noErr(t, c.Finish(ctx, j, provider.Finished, &provider.Usage{Value: 0.001, Units: "hours"}))
			if j.ID != id {
				t.Fatalf("claimed job %d, submitted %d", j.ID, id)
			}
			return id
		}
		j1 := run("lab", map[string]string{"spikes.dat": "spikes", "plots/v.png": "PNG.."})
		j2 := run("lab", map[string]string{"out.txt": "out"})
		j3 := run("lab", map[string]string{"temp.txt": "not kept"})
		jp := run("pub", map[string]string{"pub.txt": "public"})
		list := func(who, query string) nmpi.CollabStorage {
			t.Helper()
			var s nmpi.CollabStorage
			b.want(b.do("GET", "/collabs/lab/storage"+query, who, nil), 200, "storage of lab by "+who).json(t, &s)
			return s
		}
		if s := list("alice", ""); s.Total != 0 || len(s.Files) != 0 || s.Repository != "nmp collab storage" {
			t.Fatalf("before any copy: %+v", s)
		}
		for _, id := range []int64{j1, j2} {
			b.want(b.do("PUT", fmt.Sprintf("/jobs/%d/output_data", id), "alice", map[string]any{"repository": "nmp collab storage"}), 200, "copy")
		}
		b.want(b.do("PUT", fmt.Sprintf("/jobs/%d/output_data", jp), "dave", map[string]any{"repository": "nmp collab storage"}), 200, "copy pub")
		s := list("bob", "") // a viewer sees them
		var got []string
		for _, f := range s.Files {
			if f.Expires != nil || f.Kept.IsZero() || f.Hash == nil || *f.Hash == "" || f.Size == nil || !strings.Contains(f.URL, "sig=") {
				t.Fatalf("kept file %+v", f)
			}
			got = append(got, fmt.Sprintf("%d:%s:%d", f.JobID-j1, f.Path, *f.Size))
		}
		if fmt.Sprint(got) != "[1:out.txt:3 0:plots/v.png:5 0:spikes.dat:6]" || s.Total != 3 || s.Collab != "lab" {
			t.Fatalf("kept files %v of %d", got, s.Total)
		}
		wantUsed := int64(len("spikes") + len("PNG..") + len("out") + len("not kept"))
		if s.UsedBytes != wantUsed || s.LimitBytes != 1e9 {
			t.Fatalf("storage %d of %d, want %d used", s.UsedBytes, s.LimitBytes, wantUsed)
		}
		// Paged and bounded; one job's.
		if p := list("alice", "?size=1&from_index=1"); len(p.Files) != 1 || p.Files[0].Path != "plots/v.png" || p.Total != 3 || p.FromIndex != 1 {
			t.Fatalf("page %+v", p)
		}
		if p := list("alice", fmt.Sprintf("?job=%d", j2)); len(p.Files) != 1 || p.Total != 1 || p.Files[0].Path != "out.txt" {
			t.Fatalf("job %d: %+v", j2, p)
		}
		b.want(b.do("GET", "/collabs/lab/storage?job=x", "alice", nil), 422, "bad job")
		// The signed link downloads the kept file without credentials.
		resp, err := http.Get(s.Files[0].URL)
		noErr(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "out" {
			t.Fatalf("download %d %q", resp.StatusCode, body)
		}
		// Who may see it: members, and public collabs' viewers; not others (404, as the reference).
		b.want(b.do("GET", "/collabs/lab/storage", "carol", nil), 404, "storage of lab by a non-member")
		b.want(b.do("GET", "/collabs/nope/storage", "alice", nil), 404, "storage of a collab that does not exist")
		b.want(b.do("GET", "/collabs/lab/storage", "", nil), 401, "anonymous")
		b.want(b.do("GET", "/collabs/lab/storage", "key:local", nil), 403, "a provider")
		b.want(b.do("GET", "/collabs/lab/storage?as_admin=true", "admin", nil), 200, "an administrator acting as one")
		b.want(b.do("GET", "/collabs/pub/storage", "carol", nil), 200, "a public collab")

		// Deleting: editors of the collab; the file goes and its storage is freed.
		del := func(who string, job int64, path string) res {
			return b.do("DELETE", fmt.Sprintf("/collabs/lab/storage/%d/%s", job, (&url.URL{Path: path}).EscapedPath()), who, nil)
		}
		b.want(del("bob", j1, "plots/v.png"), 403, "delete by a viewer")
		b.want(del("carol", j1, "plots/v.png"), 404, "delete by a non-member")
		b.want(del("alice", j3, "temp.txt"), 404, "delete a file that is not kept")
		b.want(del("alice", jp, "pub.txt"), 404, "delete another collab's file under lab")
		b.want(del("alice", j1, "nope"), 404, "delete a file that does not exist")
		b.want(del("alice", j1, "plots/v.png"), 200, "delete by an editor")
		b.want(del("alice", j1, "plots/v.png"), 404, "delete again")
		s = list("alice", "")
		if s.Total != 2 || s.UsedBytes != wantUsed-int64(len("PNG..")) {
			t.Fatalf("after the delete: %d files, %d bytes", s.Total, s.UsedBytes)
		}
		b.want(b.do("GET", fmt.Sprintf("/files/%d/plots/v.png", j1), "alice", nil), 404, "the deleted file")
		q := quota(t, b, "lab", "Storage")
		if want := float64(s.UsedBytes) / 1e9; q.Usage < want-1e-15 || q.Usage > want+1e-15 {
			t.Fatalf("storage quota usage %v, want %v", q.Usage, want)
		}
	})
}
