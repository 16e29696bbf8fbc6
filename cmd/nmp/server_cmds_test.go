package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/store/sqlite"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func testEnv(stdin string, vars map[string]string) (*Env, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return &Env{Stdin: strings.NewReader(stdin), Stdout: out, Stderr: errb, Getenv: func(k string) string { return vars[k] }}, out, errb
}

func runOK(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	env, out, errb := testEnv(stdin, nil)
	if err := Run(context.Background(), env, args); err != nil {
		t.Fatalf("nmp %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "-data-dir", dir}, args...) }
	out := runOK(t, "", a("init")...)
	if !strings.Contains(out, "token:         nmpt_") || !strings.Contains(out, "api key:       nmpk_") {
		t.Fatalf("init printed %q", out)
	}
	env, _, _ := testEnv("", nil)
	if err := Run(context.Background(), env, a("init")); err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("second init: %v", err)
	}
	// Weak passwords and names that are not names are refused (issue 10, item 5).
	for _, bad := range []struct{ stdin, name string }{{"8chars!!\n", "alice"}, {"alice's long password\n", "alice"}, {"aaaaaaaaaaaaaaaa\n", "alice"},
		{"a long password\n", "../evil"}, {"a long password\n", "a b"}, {"a long password\n", ""}} {
		env, _, _ := testEnv(bad.stdin, nil)
		if err := Run(context.Background(), env, a("user", "add", bad.name, "-password-stdin")); err == nil {
			t.Fatalf("user add %q with password %q was accepted", bad.name, bad.stdin)
		}
	}
	runOK(t, "a long password\n", a("user", "add", "alice", "-email", "alice@example.org", "-password-stdin")...)
	runOK(t, "", a("collab", "add", "lab", "-public")...)
	runOK(t, "", a("collab", "member", "lab", "alice", "editor")...)
	if out := runOK(t, "", a("collab", "members", "lab")...); !strings.Contains(out, "alice\teditor") {
		t.Fatalf("members %q", out)
	}
	if out := runOK(t, "", a("grant", "lab", "-access", "preparatory")...); !strings.Contains(out, "500000 core-hours") {
		t.Fatalf("grant %q", out)
	}
	tok := strings.TrimSpace(runOK(t, "", a("token", "add", "alice", "-ttl", "1h")...))
	if !strings.HasPrefix(tok, "nmpt_") {
		t.Fatalf("token %q", tok)
	}
	list := runOK(t, "", a("token", "list", "alice")...)
	id := regexp.MustCompile(`(?m)^([0-9a-f]{12})\s+alice`).FindStringSubmatch(list)
	if id == nil || !strings.Contains(list, "valid") {
		t.Fatalf("token list %q", list)
	}
	runOK(t, "", a("provider", "add", "uhei", "BrainScaleS-2")...)
	if out := runOK(t, "", a("key", "add", "uhei")...); !strings.HasPrefix(out, "nmpk_") {
		t.Fatalf("key %q", out)
	}
	runOK(t, "", a("token", "revoke", id[1])...)
	if out := runOK(t, "", a("token", "list")...); !strings.Contains(out, "revoked") {
		t.Fatalf("after revoke %q", out)
	}
	runOK(t, "", a("user", "set", "alice", "-admin=true")...)
	if out := runOK(t, "", a("user", "list")...); !regexp.MustCompile(`alice\s+true\s+true`).MatchString(out) {
		t.Fatalf("user list %q", out)
	}
	for _, bad := range [][]string{a("collab", "member", "lab", "alice", "boss"), a("provider", "add", "x", "Loihi"), a("frobnicate"), a("user", "add"),
		a("collab", "member", "nope", "alice", "viewer")} {
		env, _, _ := testEnv("", nil)
		if err := Run(context.Background(), env, bad); err == nil {
			t.Fatalf("nmp %v succeeded", bad)
		}
	}
}

func TestServeAndLogin(t *testing.T) {
	t.Parallel()
	// The in-process workers give jobs this test binary as their nmp; where
	// the sandbox has no namespaces (its probe through the test binary fails
	// now and then), the jobs' users must reach it where it is.
	if exe, err := os.Executable(); err == nil {
		for d := filepath.Dir(exe); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, fi.Mode().Perm()|0o011)
			}
		}
	}
	dir := t.TempDir()
	env, _, errb := testEnv("", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, env, []string{"serve", "-bootstrap", "-data-dir", dir, "-addr", "127.0.0.1:0"})
	}()
	var url string
	for deadline := time.Now().Add(2 * time.Minute); url == "" && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(errb.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("server did not start:\n%s", errb.String())
	}
	var boot struct{ Token string }
	data, err := os.ReadFile(filepath.Join(dir, "bootstrap.json"))
	if err != nil || json.Unmarshal(data, &boot) != nil || boot.Token == "" {
		t.Fatalf("bootstrap.json: %v %s", err, data)
	}
	req, _ := http.NewRequest("GET", url+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+boot.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo: %v %v", err, resp)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runOK(t, "", "admin", "-data-dir", dir, "user", "add", "bob")
	runOK(t, "a long password\n", "admin", "-data-dir", dir, "user", "set", "bob", "-password-stdin")
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "nmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := api.New(context.Background(), api.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	home := t.TempDir()
	tokFile := filepath.Join(home, ".hbptoken")
	if err := os.WriteFile(tokFile, []byte(`{"carol": {"access_token": "keep-me"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env, out, _ := testEnv("a long password\n", map[string]string{"HOME": home})
	if err := Run(context.Background(), env, []string{"login", "-server", hs.URL, "-user", "bob", "-password-stdin"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "logged in as bob") {
		t.Fatalf("login printed %q", out.String())
	}
	var saved map[string]map[string]string
	data, _ := os.ReadFile(tokFile)
	if err := json.Unmarshal(data, &saved); err != nil || !strings.HasPrefix(saved["bob"]["access_token"], "nmpt_") || saved["carol"]["access_token"] != "keep-me" {
		t.Fatalf("~/.hbptoken: %s", data)
	}
	env, _, _ = testEnv("wrong password\n", map[string]string{"HOME": home})
	if err := Run(context.Background(), env, []string{"login", "-server", hs.URL, "-user", "bob", "-password-stdin"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestDataPrivate: the data directory and the database are private to the
// server's user, also without workers and in a directory made with another
// mode (issue 10, item 3: nmp.db was 0644 in a 0755 directory with -workers 0).
func TestDataPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stop := startServe(t, "-data-dir", dir, "-workers", "0")
	defer stop()
	for _, f := range []string{"", "nmp.db", "nmp.db-wal", "bootstrap.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			if f == "nmp.db-wal" && os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, readable by others", filepath.Join(dir, f), fi.Mode().Perm())
		}
	}
}

// startServe runs nmp serve in-process on a free loopback port until the
// returned function stops it; it returns what serve printed once ready.
func startServe(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env, _, errb := testEnv("", map[string]string{"HOME": t.TempDir()})
	done := make(chan error, 1)
	go func() { done <- Run(ctx, env, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errb.String(), "is ready") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the rest of the message
	return errb.String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestServeWithoutDefaults: with -bootstrap=false the ready message points to
// no bootstrap.json and no demo collab (issue 10, item 16).
func TestServeWithoutDefaults(t *testing.T) {
	t.Parallel()
	out, stop := startServe(t, "-data-dir", filepath.Join(t.TempDir(), "d"), "-workers", "0", "-bootstrap=false")
	stop()
	if strings.Contains(out, "bootstrap.json") || strings.Contains(out, "demo") || !strings.Contains(out, "nmp admin") {
		t.Fatalf("ready message without defaults:\n%s", out)
	}
}
