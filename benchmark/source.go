package benchmark

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Source kinds.
const (
	KindGit     = "git"
	KindArchive = "archive"
)

// maxArchive bounds a code archive the service reads or makes.
const maxArchive = 256 << 20

// Revision is one state of a source: its commit (a git commit, or an
// archive's SHA-256), the commit's message, and its benchmarks.json.
type Revision struct {
	Commit  string
	Message string
	Suite   *Suite
}

// SkipCI tells whether a commit message asks for no run, as the guidebook
// says: it holds "[skip ci]" or "[ci skip]".
func SkipCI(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "[skip ci]") || strings.Contains(m, "[ci skip]")
}

// checkGitURL accepts http(s) and git URLs, and local paths (or file URLs)
// only when allowLocal: a server fetches what its users register, so it
// must not read its own disk for them unless told to.
func checkGitURL(u string, allowLocal bool) error {
	switch {
	case u == "":
		return errors.New("url: empty")
	case strings.HasPrefix(u, "-"):
		return fmt.Errorf("url: %q starts with '-'", u)
	case strings.ContainsAny(u, "\x00\n\r"):
		return errors.New("url: holds a control character")
	}
	if p, err := url.Parse(u); err == nil && p.Scheme != "" && len(p.Scheme) > 1 {
		switch p.Scheme {
		case "http", "https", "git":
			if p.Host == "" {
				return fmt.Errorf("url: %q names no host", u)
			}
			return nil
		case "file":
			if allowLocal {
				return nil
			}
		}
		return fmt.Errorf("url: %q: only http, https and git repositories can be registered on this server", u)
	}
	if allowLocal && filepath.IsAbs(u) {
		return nil
	}
	return fmt.Errorf("url: %q is not an http, https or git URL (local repositories need the server's -bench-local-repos)", u)
}

// gitRepo is the service's bare mirror of a git source.
type gitRepo struct {
	dir        string
	url        string
	branch     string
	allowLocal bool
}

func (g *gitRepo) git(ctx context.Context, limit int64, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	protocols := "http:https:git"
	if g.allowLocal {
		protocols += ":file"
	}
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL="+protocols, "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	var out limitedBuffer
	out.limit = limit
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if out.over {
		return nil, fmt.Errorf("git %s: output larger than %d bytes", args[0], limit)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[len(msg)-500:]
		}
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, msg)
	}
	return out.Bytes(), nil
}

type limitedBuffer struct {
	bytes.Buffer
	limit int64
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if int64(b.Len()+len(p)) > b.limit {
		b.over = true
		return 0, errors.New("too much output")
	}
	return b.Buffer.Write(p)
}

// fetch brings the mirror up to date (cloning it the first time).
func (g *gitRepo) fetch(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(g.dir, "HEAD")); err == nil {
		_, err := g.git(ctx, 1<<20, "--git-dir", g.dir, "fetch", "--quiet", "--prune", "--no-tags", "origin", "+refs/heads/*:refs/heads/*")
		return err
	}
	if err := os.MkdirAll(filepath.Dir(g.dir), 0o700); err != nil {
		return err
	}
	os.RemoveAll(g.dir)
	_, err := g.git(ctx, 1<<20, "clone", "--quiet", "--bare", "--no-tags", "--", g.url, g.dir)
	return err
}

// head returns the commit and message of the branch (or the default branch).
func (g *gitRepo) head(ctx context.Context) (commit, message string, err error) {
	ref := "HEAD"
	if g.branch != "" {
		ref = "refs/heads/" + g.branch
	}
	out, err := g.git(ctx, 1<<20, "--git-dir", g.dir, "log", "-1", "--format=%H%x00%B", ref, "--")
	if err != nil {
		return "", "", err
	}
	c, m, ok := strings.Cut(string(out), "\x00")
	if !ok || len(strings.TrimSpace(c)) < 7 {
		return "", "", fmt.Errorf("git log: no commit on %s", ref)
	}
	return strings.TrimSpace(c), strings.TrimSpace(m), nil
}

func (g *gitRepo) suite(ctx context.Context, commit string) (*Suite, error) {
	data, err := g.git(ctx, MaxConfigBytes+1, "--git-dir", g.dir, "show", commit+":"+ConfigName)
	if err != nil {
		return nil, fmt.Errorf("commit %s has no %s at its top level (%v)", short(commit), ConfigName, err)
	}
	return ParseSuite(data)
}

func (g *gitRepo) archive(ctx context.Context, commit string) ([]byte, error) {
	return g.git(ctx, maxArchive, "--git-dir", g.dir, "archive", "--format=tar.gz", commit)
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// fetchArchive downloads an uploaded code archive (bounded) and returns it
// with its SHA-256.
func fetchArchive(ctx context.Context, hc *http.Client, u string) ([]byte, string, error) {
	data, err := getBounded(ctx, hc, u, maxArchive)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", u, err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// getBounded GETs u and returns its body, refusing an answer other than 200
// and a body of more than limit bytes (job outputs are user content).
func getBounded(ctx context.Context, hc *http.Client, u string, limit int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return data, nil
}

// suiteFromArchive reads benchmarks.json from a tar.gz code archive: at
// its top, or in its one top directory (as GitHub's archives have it).
func suiteFromArchive(data []byte) (*Suite, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the archive is not a tar.gz: %w", err)
	}
	tr := tar.NewReader(zr)
	var found []byte
	tops := map[string]bool{}
	var nested = map[string][]byte{}
	for n := 0; ; n++ {
		if n > 100000 {
			return nil, errors.New("the archive has more than 100000 entries")
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the archive: %w", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		top, rest, _ := strings.Cut(name, "/")
		if top != "" {
			tops[top] = true
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if name == ConfigName || rest == ConfigName {
			b, err := io.ReadAll(io.LimitReader(tr, MaxConfigBytes+1))
			if err != nil {
				return nil, err
			}
			if name == ConfigName {
				found = b
			} else {
				nested[top] = b
			}
		}
	}
	if found == nil && len(tops) == 1 {
		for t := range tops {
			found = nested[t]
		}
	}
	if found == nil {
		return nil, fmt.Errorf("the directory has no %s at its top level", ConfigName)
	}
	return ParseSuite(found)
}

// renameMirror moves a freshly made mirror to its place, replacing any
// earlier one (a source registered again under the same name).
func renameMirror(from, to string) error {
	if _, err := os.Stat(from); err != nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	return os.Rename(from, to)
}
