package api_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store/storetest"
)

func gzipped(t *testing.T, data string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(data))
	noErr(t, zw.Close())
	return b.Bytes()
}

func TestCodeUpload(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		dataDir := t.TempDir()
		b := setup(t, d, func(c *api.Config) { c.DataDir = dataDir; c.MaxCodeBytes = 1 << 20 })
		archive := gzipped(t, "not really a tar, but gzip")
		up := func(who, collab string, body []byte) res {
			return b.do("POST", "/code?collab="+collab, who, body, "Content-Type", "application/gzip")
		}
		r := b.want(up("alice", "lab", archive), 201, "upload by an editor")
		var out struct {
			URL, Hash, Expires string
			Size               int64
		}
		r.json(t, &out)
		sum := sha1.Sum(archive)
		if out.Size != int64(len(archive)) || out.Hash != hex.EncodeToString(sum[:]) || !strings.HasSuffix(out.URL, ".tar.gz") || out.Expires == "" {
			t.Fatalf("answer %+v", out)
		}
		// The URL downloads without credentials.
		resp, err := http.Get(out.URL)
		noErr(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, archive) || resp.Header.Get("Content-Type") != "application/gzip" {
			t.Fatalf("download: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
		}
		// A job can name it as its code.
		b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": out.URL, "collab": "lab", "hardware_platform": "Demo"}), 201, "submit with uploaded code")

		var zb bytes.Buffer
		zw := zip.NewWriter(&zb)
		f, _ := zw.Create("run.py")
		_, _ = f.Write([]byte("print(1)\n"))
		noErr(t, zw.Close())
		r = b.want(up("dave", "pub", zb.Bytes()), 201, "zip upload")
		r.json(t, &out)
		if !strings.HasSuffix(out.URL, ".zip") {
			t.Fatalf("zip stored as %s", out.URL)
		}

		if r := b.want(up("bob", "lab", archive), 403, "viewer"); !strings.Contains(r.detail(t), "editor") {
			t.Fatalf("viewer refusal: %s", r.body)
		}
		b.want(up("", "lab", archive), 401, "anonymous")
		b.want(b.do("POST", "/code?collab=lab", "key:local", archive), 403, "provider key")
		if r := b.want(up("alice", "", archive), 422, "no collab"); !strings.Contains(r.detail(t), "collab") {
			t.Fatalf("no collab: %s", r.body)
		}
		if r := b.want(up("alice", "lab", []byte("print('a script')\n")), 415, "not an archive"); !strings.Contains(r.detail(t), "tar.gz or zip") {
			t.Fatalf("not an archive: %s", r.body)
		}
		big := append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0}, 2<<20)...)
		b.want(up("alice", "lab", big), 413, "too large")
		b.want(b.do("GET", "/code/../../nmp.db", "", nil), 404, "path outside")
		b.want(b.do("GET", "/code/0123456789abcdef0123456789abcdef.tar.gz", "", nil), 404, "unknown archive")
		entries, err := os.ReadDir(filepath.Join(dataDir, queue.CodeDir))
		noErr(t, err)
		if len(entries) != 2 {
			t.Fatalf("code directory holds %d files, want the 2 uploads (no leftovers of refused ones)", len(entries))
		}

		// The cleaner deletes archives whose retention ended.
		c := &queue.Cleaner{Store: b.st, DataDir: dataDir, CodeRetention: time.Hour, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
		n, err := c.RunOnce(context.Background())
		noErr(t, err)
		if n != 2 {
			t.Fatalf("cleaner deleted %d files, want 2", n)
		}
		resp, err = http.Get(out.URL)
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("expired archive: %d", resp.StatusCode)
		}
	})
}

func TestUnavailablePlatform(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d, func(c *api.Config) {
			c.Unavailable = map[string]string{"BrainScaleS": "nmp has no emulation of BrainScaleS yet"}
		})
		r := b.want(b.do("POST", "/jobs/", "alice", map[string]any{"code": "x", "collab": "lab", "hardware_platform": "BrainScaleS"}), 422, "unavailable platform")
		if d := r.detail(t); !strings.Contains(d, "not available") || !strings.Contains(d, "no emulation of BrainScaleS yet") {
			t.Fatalf("refusal: %s", d)
		}
		b.submit("alice", "lab", "Demo")
		var about struct {
			Platforms map[string]struct{ Status, Message string }
		}
		b.want(b.do("GET", "/", "", nil), 200, "about").json(t, &about)
		if p := about.Platforms["BrainScaleS"]; p.Status != "unavailable" || !strings.Contains(p.Message, "no emulation") {
			t.Fatalf("about BrainScaleS: %+v", p)
		}
		if p := about.Platforms["Demo"]; p.Status != "ok" {
			t.Fatalf("about Demo: %+v", p)
		}
	})
}
