package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/storetest"
)

// bundle is a running server on a fresh store, with people, collabs, quotas and providers:
//
//	lab (private): alice editor, bob viewer, dave administrator; test access granted
//	pub (public):  dave editor; test access granted
//	carol: no collab; admin: platform administrator, in no collab
//	providers: uman runs SpiNNaker; uhei runs BrainScaleS, BrainScaleS-2, BrainScaleS-ESS, Spikey; local runs Demo
type bundle struct {
	t       testing.TB
	st      store.Store
	api     *api.Server
	srv     *httptest.Server
	tok     map[string]string
	key     map[string]string
	project map[string]string // collab → accepted project id
}

var ctx = context.Background()

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func setup(t testing.TB, d storetest.Driver, opts ...func(*api.Config)) *bundle {
	t.Helper()
	st := d.Open(t)
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("NMP_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := api.Config{Store: st, DataDir: t.TempDir(), Logger: logger, PasswordIterations: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := api.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	b := &bundle{t: t, st: st, api: srv, srv: hs, tok: map[string]string{}, key: map[string]string{}, project: map[string]string{}}
	now := time.Now()
	pw, err := identity.HashPassword("correct horse", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"admin", "alice", "bob", "carol", "dave"} {
		_, err := st.UserCreate(ctx, &store.UserCreateParams{Username: u, Email: u + "@example.org", GivenName: strings.ToUpper(u[:1]) + u[1:], PasswordHash: pw, Admin: u == "admin"})
		noErr(t, err)
		b.tok[u], err = b.issue(u, now)
		noErr(t, err)
	}
	_, err = st.CollabCreate(ctx, &store.CollabCreateParams{Name: "lab"})
	noErr(t, err)
	_, err = st.CollabCreate(ctx, &store.CollabCreateParams{Name: "pub", Public: true})
	noErr(t, err)
	for _, m := range [][3]string{{"lab", "alice", "editor"}, {"lab", "bob", "viewer"}, {"lab", "dave", "administrator"}, {"pub", "dave", "editor"}} {
		if err := st.CollabMemberSet(ctx, &store.Member{Collab: m[0], Username: m[1], Role: m[2]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"lab", "pub"} {
		b.project[c] = b.grant(c, queue.Grant(nil, queue.AccessTest))
	}
	for name, pls := range map[string][]string{"uman": {"SpiNNaker"}, "uhei": {"BrainScaleS", "BrainScaleS-2", "BrainScaleS-ESS", "Spikey"}, "local": {"Demo"}} {
		if err := st.ProviderCreate(ctx, &store.Provider{Name: name, Platforms: pls}); err != nil {
			t.Fatal(err)
		}
		secret, _, err := identity.IssueAPIKey(ctx, st, name, "test", 0, now)
		if err != nil {
			t.Fatal(err)
		}
		b.key[name] = secret
	}
	return b
}

func (b *bundle) issue(user string, now time.Time) (string, error) {
	s, _, err := identity.IssueToken(ctx, b.st, user, "test", time.Hour, now)
	return s, err
}

// grant creates an accepted resource request for the collab with these quotas.
func (b *bundle) grant(collab string, quotas []store.Quota) string {
	b.t.Helper()
	p, err := b.st.ProjectCreate(ctx, &store.Project{ID: queue.NewProjectID(), Collab: collab, Owner: "admin", Title: "t", Abstract: "a"})
	noErr(b.t, err)
	yes := true
	_, err = b.st.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Decide: &yes, Grant: quotas})
	noErr(b.t, err)
	return p.ID
}

// res is an answer.
type res struct {
	status int
	body   []byte
	header http.Header
}

func (r res) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer is not JSON (%v): %s", err, r.body)
	}
}

func (r res) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

func (r res) detail(t testing.TB) string {
	t.Helper()
	return fmt.Sprint(r.obj(t)["detail"])
}

// do sends a request as who: a user name (bearer token), "key:<provider>" (API
// key), "" (anonymous) or "raw:<header value>" (an Authorization header as given).
// body may be nil, a string (sent as is) or a value (sent as JSON).
func (b *bundle) do(method, path, who string, body any, headers ...string) res {
	b.t.Helper()
	var rd io.Reader
	ct := ""
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
		ct = "application/json"
	case []byte:
		rd = bytes.NewReader(v)
		ct = "application/octet-stream"
	default:
		data, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	switch {
	case who == "":
	case strings.HasPrefix(who, "key:"):
		k, ok := b.key[strings.TrimPrefix(who, "key:")]
		if !ok {
			b.t.Fatalf("no key %s", who)
		}
		req.Header.Set("x-api-key", k)
	case strings.HasPrefix(who, "raw:"):
		req.Header.Set("Authorization", strings.TrimPrefix(who, "raw:"))
	default:
		tok, ok := b.tok[who]
		if !ok {
			b.t.Fatalf("no token for %s", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res{status: resp.StatusCode, body: data, header: resp.Header}
}

// want checks the status of an answer.
func (b *bundle) want(r res, status int, what string) res {
	b.t.Helper()
	if r.status != status {
		b.t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

// submit submits a job as who and returns its id.
func (b *bundle) submit(who, collab, platform string) int64 {
	b.t.Helper()
	r := b.want(b.do("POST", "/jobs/", who, map[string]any{"code": "import pyNN", "collab": collab, "hardware_platform": platform, "command": "run.py {system}"}), 201, "submit")
	var j struct{ ID int64 }
	r.json(b.t, &j)
	return j.ID
}

// forEach runs the test on a fresh bundle per store driver.
func forEach(t *testing.T, fn func(t *testing.T, d storetest.Driver)) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, d storetest.Driver) {
		t.Parallel()
		fn(t, d)
	})
}
