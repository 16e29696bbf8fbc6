package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/web"
)

var ctx = context.Background()

// site is nmp's API and pages on a real SQLite store, with users admin
// (platform administrator, in collab demo) and bob (no collab but his own).
type site struct {
	t     *testing.T
	url   string
	st    store.Store
	token string // admin's API token
	key   string // provider key for every platform
}

func newSite(t *testing.T) *site {
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{AdminPassword: "admin password", PasswordIterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := identity.HashPassword("bob password", 1000)
	if _, err := st.UserCreate(ctx, &store.UserCreateParams{Username: "bob", PasswordHash: pw}); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(ctx, api.Config{Store: st, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), PasswordIterations: 1000,
		Unavailable: platform.Default().Unavailable(nil)})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Config{API: srv.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(web.Mount(srv.Handler(), pages))
	t.Cleanup(hs.Close)
	return &site{t: t, url: hs.URL, st: st, token: b.Token, key: b.APIKey}
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t  *testing.T
	s  *site
	hc *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.url+path, nil)
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func (b *browser) signIn(user, password string) {
	b.t.Helper()
	_, page := b.get("/app/signin")
	resp, body := b.post("/app/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {password}, "next": {"/app/jobs"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/jobs" {
		b.t.Fatalf("sign in as %s: %s\n%s", user, resp.Status, body)
	}
}

func TestMountKeepsTheAPI(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	resp, _ := b.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/" {
		t.Errorf("a browser at /: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	for _, accept := range []string{"", "*/*", "application/json", "application/json, text/html"} {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, body := b.do(req)
		if resp.StatusCode != 200 || !strings.Contains(body, `"platforms"`) {
			t.Errorf("GET / with Accept %q: %s %.100s", accept, resp.Status, body)
		}
	}
	resp, _ = b.get("/app/jobs")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/app/signin?next=") {
		t.Errorf("signed out, /app/jobs: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = b.get("/app/signin")
	for h, want := range map[string]string{"Content-Security-Policy": "script-src 'self'", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s: %q", h, resp.Header.Get(h))
		}
	}
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v", c.Name, c.HttpOnly, c.SameSite)
		}
	}
}

func TestSignInAndOut(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	_, page := b.get("/app/signin")
	resp, body := b.post("/app/signin", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
		t.Errorf("wrong password: %s", resp.Status)
	}
	// A sign-in form from elsewhere (no token tied to this browser) is refused.
	resp, _ = s.browser().post("/app/signin", url.Values{"csrf": {"x"}, "username": {"admin"}, "password": {"admin password"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's token: %s", resp.Status)
	}
	b.signIn("admin", "admin password")
	var cookie *http.Cookie
	u, _ := url.Parse(s.url + "/app/")
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "nmp_session" {
			cookie = c
		}
	}
	if cookie == nil || !strings.HasPrefix(cookie.Value, identity.TokenPrefix) {
		t.Fatalf("no session cookie: %v", cookie)
	}
	resp, page = b.get("/app/jobs")
	if resp.StatusCode != 200 || !strings.Contains(page, "Jobs of demo") {
		t.Fatalf("job list: %s\n%s", resp.Status, page)
	}
	resp, _ = b.post("/app/signout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %s", resp.Status)
	}
	// The session's token is revoked, not just forgotten by the browser.
	tok, err := s.st.TokenGetByHash(ctx, identity.Hash(cookie.Value))
	if err != nil || tok.RevokedAt == nil {
		t.Errorf("after signing out the session token is %+v (%v)", tok, err)
	}
}

func TestFormsNeedTheirToken(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signIn("admin", "admin password")
	_, page := b.get("/app/jobs/new")
	form := url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code": {"print(1)"}}
	for name, c := range map[string]struct {
		csrf   string
		header []string
	}{
		"no token":       {"", nil},
		"forged token":   {"forged", nil},
		"another origin": {csrfOf(t, page), []string{"Origin", "http://evil.example"}},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if c.csrf != "" {
			f.Set("csrf", c.csrf)
		}
		resp, body := b.post("/app/jobs/new", f, c.header...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s\n%s", name, resp.Status, body)
		}
	}
	if jobs, _ := s.st.JobList(ctx, &store.JobListParams{}); len(jobs) != 0 {
		t.Fatalf("a refused form made %d jobs", len(jobs))
	}
	form.Set("csrf", csrfOf(t, page))
	resp, body := b.post("/app/jobs/new", form, "Origin", s.url)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/app/jobs/1?") {
		t.Fatalf("submit: %s %s\n%s", resp.Status, resp.Header.Get("Location"), body)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	s := newSite(t)
	b := s.browser()
	b.signIn("admin", "admin password")
	_, page := b.get("/app/jobs/new")
	csrf := csrfOf(t, page)
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"platform": {"Demo"}, "code": {"x"}}, "Collab: choose"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}}, "Code: paste the script"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code": {"x"}, "code_url": {"https://example.org/x.git"}}, "Code: give only one"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code_url": {"file:///etc/passwd"}}, "Code URL:"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code": {"x"}, "hardware_config": {`{"limits": `}}, "Hardware config:"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code": {"x"}, "hardware_config": {`[1]`}}, "Hardware config:"},
		{url.Values{"collab": {"demo"}, "platform": {"Demo"}, "code": {"x"}, "inputs": {"ftp://x/y"}}, "Input files:"},
		{url.Values{"collab": {"demo"}, "platform": {"TestPlatform"}, "code": {"x"}}, "TestPlatform is not available on this server"},
		{url.Values{"collab": {"nowhere"}, "platform": {"Demo"}, "code": {"x"}}, "collab nowhere: not found"},
	} {
		c.form.Set("csrf", csrf)
		resp, body := b.post("/app/jobs/new", c.form)
		if resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusForbidden || !strings.Contains(body, c.want) {
			t.Errorf("%v: %s, want %q in\n%s", c.form, resp.Status, c.want, regexp.MustCompile(`(?s)<p class="error"[^>]*>.*?</p>`).FindString(body))
		}
	}
	// The resource request form: the server holds the guidebook's limits.
	_, page = b.get("/app/resources/new")
	for _, c := range []struct {
		field, value, want string
	}{{"abstract", strings.Repeat("é", 501), "Abstract: at most 500 characters (it has 501)"},
		{"description", strings.Repeat("d", 10001), "Project description: at most 10000 characters"},
		{"title", "", "Project title: required"}} {
		f := url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "title": {"T"}, "abstract": {"A"}, "access": {"test"}, "action": {"submit"}}
		f.Set(c.field, c.value)
		resp, body := b.post("/app/resources/new", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
			t.Errorf("%s of %d characters: %s", c.field, len([]rune(c.value)), resp.Status)
		}
	}
	f := url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "title": {"T"}, "abstract": {strings.Repeat("é", 500)}, "access": {"test"}, "action": {"save"}}
	if resp, body := b.post("/app/resources/new", f); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an abstract of 500 characters: %s\n%s", resp.Status, body)
	}
}

func TestOtherCollabsStayClosed(t *testing.T) {
	s := newSite(t)
	admin := s.browser()
	admin.signIn("admin", "admin password")
	_, page := admin.get("/app/jobs/new")
	resp, _ := admin.post("/app/jobs/new", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "platform": {"Demo"}, "code": {"print(1)"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatal(resp.Status)
	}
	bob := s.browser()
	bob.signIn("bob", "bob password")
	for path, want := range map[string]int{
		"/app/jobs/1":                                http.StatusNotFound,
		"/app/jobs/1/log":                            http.StatusNotFound,
		"/app/jobs/1/log/events":                     http.StatusNotFound,
		"/app/jobs/1/summary":                        http.StatusNotFound,
		"/app/jobs?collab=demo":                      http.StatusForbidden,
		"/app/resources?collab=demo":                 http.StatusForbidden,
		"/app/review":                                http.StatusForbidden,
		"/app/jobs/1/files/run.py":                   http.StatusNotFound,
		"/app/jobs/nonsense":                         http.StatusNotFound,
		"/app/jobs?collab=private-bob&page=99999999": http.StatusOK,
	} {
		if resp, body := bob.get(path); resp.StatusCode != want {
			t.Errorf("bob GET %s: %s (want %d)\n%.300s", path, resp.Status, want, body)
		}
	}
	_, page = bob.get("/app/jobs")
	if resp, _ := bob.post("/app/jobs/1/remove", url.Values{"csrf": {csrfOf(t, page)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob removing job 1: %s", resp.Status)
	}
	if j, _ := s.st.JobGet(ctx, 1); j.Status == store.StatusRemoved {
		t.Error("bob removed admin's job")
	}
}

// A job's files never render in the app's origin: downloads are
// attachments, and the figure route serves only raster images.
func TestUserContentIsNotServedAsPage(t *testing.T) {
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
	evil := `<html><script>alert(document.cookie)</script></html>`
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 64)
	for p, body := range map[string]string{"evil.html": evil, "fake.png": evil, "plot.png": png, ".nmp/summary.json": `{"version": 1, "panels": []}`} {
		if _, err := pc.Upload(ctx, job, p, strings.NewReader(body), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := pc.Finish(ctx, job, "finished", nil); err != nil {
		t.Fatal(err)
	}
	resp, page := b.get("/app/jobs/1")
	if resp.StatusCode != 200 || strings.Contains(page, "<script>alert") {
		t.Fatalf("job page: %s", resp.Status)
	}
	resp, body := b.get("/app/jobs/1/files/evil.html")
	if resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || body != evil {
		t.Errorf("download of evil.html: %v", resp.Header)
	}
	if resp, _ := b.get("/app/jobs/1/figure/fake.png"); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("an HTML file named .png as a figure: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if resp, _ := b.get("/app/jobs/1/figure/plot.png"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("a PNG figure: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	if resp, body := b.get("/app/jobs/1/summary"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, "panels") {
		t.Errorf("summary: %s %s", resp.Status, body)
	}
	if resp, body := b.get("/app/jobs/1/log"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("log: %s %v %s", resp.Status, resp.Header, body)
	}
}

func TestReviewRejectsWithReason(t *testing.T) {
	s := newSite(t)
	bob := s.browser()
	bob.signIn("bob", "bob password")
	_, page := bob.get("/app/resources/new?collab=private-bob")
	resp, body := bob.post("/app/resources/new", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"private-bob"}, "title": {"Barrel cortex"},
		"abstract": {"Spiking models."}, "access": {"test"}, "action": {"submit"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %s\n%s", resp.Status, body)
	}
	ps, _ := s.st.ProjectList(ctx, &store.ProjectListParams{Collab: []string{"private-bob"}})
	if len(ps) != 1 || ps[0].Status() != store.ProjectUnderReview {
		t.Fatalf("bob's requests: %+v", ps)
	}
	admin := s.browser()
	admin.signIn("admin", "admin password")
	_, page = admin.get("/app/review")
	if !strings.Contains(page, "Barrel cortex") {
		t.Fatal("the review page does not list bob's request")
	}
	if resp, _ := admin.post("/app/review/"+ps[0].ID, url.Values{"csrf": {csrfOf(t, page)}, "decision": {"reject"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("rejecting without a reason: %s", resp.Status)
	}
	resp, _ = admin.post("/app/review/"+ps[0].ID, url.Values{"csrf": {csrfOf(t, page)}, "decision": {"reject"}, "reason": {"Ask for preparatory access with a plan."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %s", resp.Status)
	}
	_, page = bob.get("/app/resources?collab=private-bob")
	if !strings.Contains(page, "Ask for preparatory access with a plan.") || !strings.Contains(page, "rejected") {
		t.Errorf("bob does not see the reason:\n%s", page)
	}
}
