package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestCollabStorageCommand: nmp collab storage lists a collab's kept files,
// downloads one and deletes one, against a real server (issue 10, item 16).
func TestCollabStorageCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{PasswordIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(ctx, api.Config{Store: st, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	vars := map[string]string{"NMP_SERVER": srv.URL, "NMP_TOKEN": b.Token, "HOME": t.TempDir()}
	nmp := func(args ...string) (string, error) {
		env, out, errb := testEnv("", vars)
		err := Run(ctx, env, append([]string{"collab", "storage", "demo"}, args...))
		return out.String() + errb.String(), err
	}
	out, err := nmp()
	if err != nil || !strings.Contains(out, "; 0 kept files") {
		t.Fatalf("empty storage: %v\n%s", err, out)
	}
	// A job of demo writes two files, which are kept.
	if _, err := client.New(srv.URL, b.Token).Submit(ctx, &client.Submission{Code: "print(1)", Command: "run.py {system}", Platform: "Demo", Collab: "demo"}); err != nil {
		t.Fatal(err)
	}
	p := provider.New(srv.URL, b.APIKey)
	j, err := p.Claim(ctx, "Demo")
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	for path, content := range map[string]string{"spikes.dat": "spikes", "plots/v.png": "PNG.."} {
		if _, err := p.Upload(ctx, j, path, strings.NewReader(content), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Finish(ctx, j, provider.Finished, &provider.Usage{Value: 0.001, Units: "hours"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DataItemRetain(ctx, j.ID, nil); err != nil {
		t.Fatal(err)
	}
	out, err = nmp()
	if err != nil || !regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s+spikes.dat\s+6 B\s+[0-9a-f]{40}\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+never$`, j.ID)).MatchString(out) ||
		!strings.Contains(out, "; 2 kept files") {
		t.Fatalf("listing: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if out, err = nmp("-get", fmt.Sprintf("%d/plots/v.png", j.ID), "-dir", dir); err != nil {
		t.Fatalf("get: %v\n%s", err, out)
	}
	if data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("job_%d", j.ID), "plots", "v.png")); err != nil || string(data) != "PNG.." {
		t.Fatalf("downloaded %q, %v (%s)", data, err, out)
	}
	if out, err = nmp("-get", fmt.Sprintf("%d/nope", j.ID)); err == nil || !strings.Contains(err.Error(), "no kept file nope") {
		t.Fatalf("get of a missing file: %v\n%s", err, out)
	}
	if out, err = nmp("-delete", fmt.Sprintf("%d/plots/v.png", j.ID)); err != nil || !strings.Contains(out, "deleted plots/v.png") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if out, err = nmp("-json"); err != nil || !strings.Contains(out, `"total": 1`) || !strings.Contains(out, `"used_bytes": 6`) {
		t.Fatalf("after the delete: %v\n%s", err, out)
	}
	if _, err = nmp("-delete", "x"); err == nil || !strings.Contains(err.Error(), "is not JOB/PATH") {
		t.Fatalf("bad reference: %v", err)
	}
}
