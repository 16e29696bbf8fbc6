package storetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// testKeptFiles: the files kept past retention are listed per collab, newest
// jobs first, paged; deleting one frees its storage.
func testKeptFiles(t *testing.T, s store.Store) {
	p := must(s.ProjectCreate(ctx, &store.Project{ID: newUUID(), Collab: "c", Owner: "alice", Title: "t", Abstract: "a"}))
	seed(t, s, "c", "Demo", 1)
	must(s.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Decide: ptr(true), Grant: []store.Quota{{Platform: "Storage", Units: "GB", Limit: 1e-6}}}))
	seed(t, s, "d", "Demo", 1)
	j1 := insert(t, s, job("c", "Demo"), -1)
	j2 := insert(t, s, job("c", "Demo"), -1)
	j3 := insert(t, s, job("c", "Demo"), -1)
	other := insert(t, s, job("d", "Demo"), -1)
	put := func(j *store.Job, collab, path string, size int64) {
		t.Helper()
		exp := t0.Add(time.Hour)
		must(s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j.ID, Path: path, Size: &size, Hash: "h-" + path, Stored: true, ExpiresAt: &exp}, Collab: collab, Now: t0}))
	}
	put(j1, "c", "a.txt", 100)
	put(j1, "c", "b.txt", 200)
	put(j2, "c", "c.txt", 300)
	put(j3, "c", "temp.txt", 50) // not kept
	must(s.DataItemUpsert(ctx, &store.DataItemUpsertParams{Item: store.DataItem{JobID: j2.ID, Path: "ext", URL: "http://example.com/x"}, Collab: "c"}))
	if items, n := must2(s.DataItemKeptList(ctx, &store.DataItemKeptListParams{Collab: "c"})); n != 0 || len(items) != 0 {
		t.Fatalf("kept before any was kept: %d %+v", n, items)
	}
	before := time.Now().Add(-time.Second)
	must(s.DataItemRetain(ctx, j1.ID, nil))
	must(s.DataItemRetain(ctx, j2.ID, nil))
	must(s.DataItemRetain(ctx, other.ID, nil))
	list := func(p store.DataItemKeptListParams) string {
		t.Helper()
		items, n := must2(s.DataItemKeptList(ctx, &p))
		out := fmt.Sprintf("%d:", n)
		for _, it := range items {
			if it.KeptAt == nil || it.KeptAt.Before(before) || it.ExpiresAt != nil || !it.Stored || it.Hash != "h-"+it.Path {
				t.Fatalf("kept file %+v", it)
			}
			out += fmt.Sprintf(" %d/%s(%d)", it.JobID-j1.ID+1, it.Path, *it.Size)
		}
		return out
	}
	if got := list(store.DataItemKeptListParams{Collab: "c"}); got != "3: 2/c.txt(300) 1/a.txt(100) 1/b.txt(200)" {
		t.Fatalf("kept: %s", got)
	}
	if got := list(store.DataItemKeptListParams{Collab: "c", Limit: 2, Offset: 1}); got != "3: 1/a.txt(100) 1/b.txt(200)" {
		t.Fatalf("page: %s", got)
	}
	if got := list(store.DataItemKeptListParams{Collab: "c", JobID: j1.ID, Limit: 1}); got != "2: 1/a.txt(100)" {
		t.Fatalf("one job: %s", got)
	}
	// Keeping again keeps the first time.
	keptAt := func() time.Time {
		t.Helper()
		items, _ := must2(s.DataItemKeptList(ctx, &store.DataItemKeptListParams{Collab: "c", JobID: j1.ID}))
		return *items[0].KeptAt
	}
	first := keptAt()
	must(s.DataItemRetain(ctx, j1.ID, nil))
	if again := keptAt(); !again.Equal(first) {
		t.Fatalf("kept at %v, then %v", first, again)
	}
	// Deleting a kept file frees its storage.
	used, _ := must2(s.StorageUsage(ctx, "c"))
	d := must(s.DataItemDelete(ctx, j1.ID, "b.txt"))
	if d.Path != "b.txt" || *d.Size != 200 {
		t.Fatalf("deleted %+v", d)
	}
	if after, _ := must2(s.StorageUsage(ctx, "c")); after != used-200 {
		t.Fatalf("storage %d after deleting 200 bytes of %d", after, used)
	}
	if q := quotaOf(t, s, p.ID, 0); math.Abs(q.Usage-float64(used-200)/1e9) > 1e-15 {
		t.Fatalf("storage quota usage %v", q.Usage)
	}
	_, err := s.DataItemDelete(ctx, j1.ID, "b.txt")
	wantErr(t, err, store.ErrNotFound)
	if got := list(store.DataItemKeptListParams{Collab: "c"}); got != "2: 2/c.txt(300) 1/a.txt(100)" {
		t.Fatalf("after the delete: %s", got)
	}
	// A new retention end (or a new upload of the file) unkeeps.
	until := t0.Add(time.Hour)
	must(s.DataItemRetain(ctx, j2.ID, &until))
	put(j1, "c", "a.txt", 10)
	if got := list(store.DataItemKeptListParams{Collab: "c"}); got != "0:" {
		t.Fatalf("after unkeeping: %s", got)
	}
}
