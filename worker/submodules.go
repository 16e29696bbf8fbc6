package worker

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// gitProtocols makes git itself refuse every transport but http, https and
// git (as GIT_ALLOW_PROTOCOL in the clone's environment also does), so that
// nothing the URL checks below miss (a submodule's file://, ext:: or ssh
// URL) is fetched.
var gitProtocols = []string{"-c", "protocol.allow=never", "-c", "protocol.https.allow=always",
	"-c", "protocol.http.allow=always", "-c", "protocol.git.allow=always"}

// Bounds on the submodules of a cloned repository: how deeply nested, and
// how many in all.
const (
	maxSubmoduleDepth = 4
	maxSubmodules     = 64
)

// submodules clones the repository's submodules, as the reference's "git
// clone --recursive" does, but level by level: in each repository of a
// level, "git submodule init" resolves its submodules' URLs (relative ones
// against the repository's own), every one of them is checked as the
// repository's was (http, https or git; a public address), and only then
// does "git submodule update" (not recursive) clone them; their own
// submodules are the next level. At most maxSubmoduleDepth levels and
// maxSubmodules in all.
func (r *jobRun) submodules(ctx context.Context, git, env []string, limits Limits) (*sandboxResult, error) {
	done := &sandboxResult{}
	// The submodules together get the time one clone gets: each git run
	// gets what is left of it.
	deadline := time.Now().Add(limits.WallClock)
	left := func() Limits {
		l := limits
		if limits.WallClock > 0 {
			l.WallClock = max(time.Until(deadline), time.Second)
		}
		return l
	}
	level := []string{"."} // repositories (relative to the work directory) whose submodules are next
	total := 0
	for depth := 1; len(level) > 0; depth++ {
		var next []string
		for _, repo := range level {
			if _, err := os.Lstat(filepath.Join(r.work, repo, ".gitmodules")); err != nil {
				continue // none
			}
			if depth > maxSubmoduleDepth {
				return nil, userErrorf("code: submodules nested more than %d deep (in %s); not cloned", maxSubmoduleDepth, repo)
			}
			in := func(argv ...string) []string {
				return append(append(append([]string(nil), git...), "-C", repo), argv...)
			}
			res, err := r.run(ctx, in("submodule", "--quiet", "init"), env, left(), false)
			if err != nil || res.Reason != "" || res.ExitCode != 0 {
				return res, err
			}
			// The URLs git will clone from, as it resolved them.
			out := boundedBuffer{max: 1 << 20}
			res, err = r.runTo(ctx, in("config", "-z", "--get-regexp", `^submodule\..*\.url$`), env, left(), false, &out)
			if err != nil || res.Reason != "" {
				return res, err
			}
			urls := gitConfigValues(out.Bytes(), ".url")
			if len(urls) == 0 {
				continue
			}
			where := ".gitmodules"
			if repo != "." {
				where = repo + "/.gitmodules"
			}
			for _, raw := range urls {
				if err := r.checkSubmoduleURL(ctx, raw); err != nil {
					return nil, userErrorf("code: submodule URL %q (in %s, depth %d): %v; not cloned", raw, where, depth, err)
				}
			}
			total += len(urls)
			if total > maxSubmodules {
				return nil, userErrorf("code: more than %d submodules (in %s); not cloned", maxSubmodules, where)
			}
			if repo == "." {
				r.log.printf("code: cloning %d submodules", len(urls))
			} else {
				r.log.printf("code: cloning %d submodules of %s (depth %d)", len(urls), repo, depth)
			}
			res, err = r.run(ctx, in("submodule", "--quiet", "update"), env, left(), false)
			if err != nil || res.Reason != "" || res.ExitCode != 0 {
				return res, err
			}
			out.Reset()
			res, err = r.runTo(ctx, in("config", "-z", "-f", ".gitmodules", "--get-regexp", `^submodule\..*\.path$`), env, left(), false, &out)
			if err != nil || res.Reason != "" {
				return res, err
			}
			for _, p := range gitConfigValues(out.Bytes(), ".path") {
				sub := filepath.Join(repo, p)
				if ok, err := plainDir(r.work, sub); err != nil || !ok {
					continue // not checked out (not in the index), or not a plain directory
				}
				next = append(next, sub)
			}
		}
		level = next
	}
	return done, nil
}

// checkSubmoduleURL refuses what the repository's own URL would be refused
// for: another scheme than http, https or git, and, unless private URLs are
// allowed, a host that is not public.
func (r *jobRun) checkSubmoduleURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "git") || u.Host == "" {
		return errors.New("only http, https and git URLs are cloned")
	}
	if !r.w.cfg.AllowPrivateURLs {
		if _, err := r.w.fetch.checkHost(ctx, hostPort(u)); err != nil {
			return err
		}
	}
	return nil
}

// gitConfigValues reads the values of the keys ending in suffix from the
// output of "git config -z --get-regexp": records ended by NUL, each a key,
// a newline, and the value.
func gitConfigValues(data []byte, suffix string) []string {
	var out []string
	for _, rec := range bytes.Split(data, []byte{0}) {
		k, v, ok := bytes.Cut(rec, []byte{'\n'})
		if ok && strings.HasSuffix(string(k), suffix) {
			out = append(out, string(v))
		}
	}
	return out
}

// plainDir tells whether rel, below root, is a directory reached through
// directories only (no links).
func plainDir(root, rel string) (bool, error) {
	if !filepath.IsLocal(rel) {
		return false, nil
	}
	cur := root
	for _, seg := range strings.Split(filepath.Clean(rel), string(filepath.Separator)) {
		cur = filepath.Join(cur, seg)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !fi.IsDir() {
			return false, nil
		}
	}
	return true, nil
}
