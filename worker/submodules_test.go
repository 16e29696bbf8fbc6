package worker

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkerNestedSubmodules: submodules are cloned level by level, each
// level's URLs checked before it is cloned (issue 10, item 15). The
// repositories are on plain HTTP servers on 127.0.0.1: "public" ones on the
// job queue server's own address (which workers always may fetch from,
// with AllowPrivateURLs off as in production), a "private" one on another
// port of 127.0.0.1, which workers refuse.
func TestWorkerNestedSubmodules(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: no git")
	}
	p := newTestPlatform(t, time.Minute)
	root := t.TempDir()
	files := http.FileServer(http.Dir(root))
	// The job queue server, which also serves /git/.
	mux := http.NewServeMux()
	mux.Handle("/git/", http.StripPrefix("/git", files))
	mux.Handle("/", p.handler)
	public := httptest.NewServer(mux)
	defer public.Close()
	var privateHits atomic.Int64
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		privateHits.Add(1)
		files.ServeHTTP(w, r)
	}))
	defer private.Close()

	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// mk makes the bare repository root/name.git with files and a submodule
	// lib from url, recorded without cloning it (a gitlink to commit link),
	// and returns its commit.
	mk := func(name string, files map[string]string, url, link string) string {
		t.Helper()
		src := filepath.Join(root, "src-"+name)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if url != "" {
			files[".gitmodules"] = "[submodule \"lib\"]\n\tpath = lib\n\turl = " + url + "\n"
		}
		for f, c := range files {
			if err := os.WriteFile(filepath.Join(src, f), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		git(src, "init", "-q")
		git(src, "add", ".")
		if url != "" {
			git(src, "update-index", "--add", "--cacheinfo", "160000,"+link+",lib")
		}
		git(src, "commit", "-q", "-m", name)
		bare := filepath.Join(root, name+".git")
		git(root, "clone", "-q", "--bare", src, bare)
		git(bare, "update-server-info")
		return git(src, "rev-parse", "HEAD")
	}
	leaf := mk("leaf", map[string]string{"leaf.py": "VALUE = 'from depth 2'\n"}, "", "")
	for _, name := range []string{"evil", "elsewhere"} { // the same repository under other names
		if err := os.Symlink(filepath.Join(root, "leaf.git"), filepath.Join(root, name+".git")); err != nil {
			t.Fatal(err)
		}
	}
	run := "import sys\nsys.path.insert(0, 'lib/lib')\nimport leaf\nprint(leaf.VALUE)\n"
	for mid, url := range map[string]string{"ok": public.URL + "/git/leaf.git", "private": private.URL + "/evil.git",
		"file": "file://" + filepath.Join(root, "leaf.git"), "relative": "../elsewhere.git"} {
		c := mk("mid-"+mid, map[string]string{"mid.py": ""}, url, leaf)
		mk("top-"+mid, map[string]string{"run.py": run}, public.URL+"/git/mid-"+mid+".git", c)
	}
	// A chain nested deeper than workers follow: top → d2 → d3 → d4 → d5 → leaf.
	link, url := leaf, public.URL+"/git/leaf.git"
	for _, name := range []string{"d5", "d4", "d3", "d2", "top-deep"} {
		link = mk(name, map[string]string{name + ".py": ""}, url, link)
		url = public.URL + "/git/" + name + ".git"
	}

	p.start(p.worker(func(c *Config) { c.Server = public.URL; c.AllowPrivateURLs = false }))
	for _, c := range []struct {
		top, status string
		want        []string
	}{
		{"ok", "finished", []string{"code: cloning 1 submodules of lib (depth 2)", "from depth 2"}},
		{"relative", "finished", []string{"from depth 2"}}, // ../elsewhere.git on the checked server
		{"private", "error", []string{`code: submodule URL "` + private.URL + `/evil.git" (in lib/.gitmodules, depth 2): ` +
			strings.TrimPrefix(private.URL, "http://")[:len("127.0.0.1")] + " resolves only to non-public addresses"}},
		{"deep", "error", []string{"code: cloning 1 submodules of lib/lib/lib (depth 4)", "code: submodules nested more than 4 deep (in lib/lib/lib/lib); not cloned"}},
		{"file", "error", []string{`code: submodule URL "file://` + filepath.Join(root, "leaf.git") + `" (in lib/.gitmodules, depth 2): only http, https and git URLs are cloned; not cloned`}},
	} {
		t.Run(c.top, func(t *testing.T) {
			id := p.submit(map[string]any{"code": public.URL + "/git/top-" + c.top + ".git", "command": "run.py {system}"})
			j := p.wait(id, "end", nil)
			log := logOf(j)
			if j.Status != c.status {
				t.Fatalf("status %s, want %s; log:\n%s", j.Status, c.status, log)
			}
			for _, w := range c.want {
				if !strings.Contains(log, w) {
					t.Errorf("the log does not say %q:\n%s", w, log)
				}
			}
		})
	}
	if n := privateHits.Load(); n != 0 {
		t.Errorf("the private server was asked %d times", n)
	}
}
