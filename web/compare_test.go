package web_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/benchmark"
	"github.com/nmp-platform/nmp/benchmark/compare"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/npy"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/web"
)

// newCompareSite is newSite with the compare API (benchmark.Comparer, as
// nmp serve mounts it) on Demo, Spikey and BrainScaleS-2, where the
// collab demo has no quota on Spikey: its job cannot be submitted.
func newCompareSite(t *testing.T) (*site, *benchmark.Comparer) {
	var table platform.Table
	for _, p := range platform.Default() {
		if p.Name == "Spikey" {
			p.TestGrant = 0
		}
		table = append(table, p)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nmp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{AdminPassword: "admin password", PasswordIterations: 1000, PlatformTable: table})
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := identity.HashPassword("bob password", 1000)
	if _, err := st.UserCreate(ctx, &store.UserCreateParams{Username: "bob", PasswordHash: pw}); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(ctx, api.Config{Store: st, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), PasswordIterations: 1000,
		PlatformTable: table, Unavailable: table.Unavailable(nil)})
	if err != nil {
		t.Fatal(err)
	}
	cm := &benchmark.Comparer{Platforms: []benchmark.Platform{
		{Name: "Demo", Backend: "nmp", System: "reference"},
		{Name: "Spikey", Backend: "hardware.stage1", System: "spikey"},
		{Name: "BrainScaleS-2", Backend: "brainscales2", System: "brainscales2"},
		{Name: "SpiNNaker", Backend: "spiNNaker", System: "spinnaker"}}}
	pages, err := web.New(web.Config{API: srv.Handler(), Compare: cm, PlatformTable: table})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(web.Mount(srv.Handler(), pages))
	t.Cleanup(hs.Close)
	cm.Server = hs.URL
	return &site{t: t, url: hs.URL, st: st, token: b.Token, key: b.APIKey}, cm
}

// postMultipart sends the compare form as a browser does (multipart, for
// the file field), with files as name, content pairs for code_file.
func (b *browser) postMultipart(path string, form url.Values, files ...string) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for i := 0; i+1 < len(files); i += 2 {
		w, _ := mw.CreateFormFile("code_file", files[i])
		_, _ = w.Write([]byte(files[i+1]))
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// hostileScript and hostileLabel must reach the pages as text, never as markup.
const (
	hostileScript = "# </pre><script>alert('script')</script>\nimport pyNN\n"
	hostileLabel  = `<img src=x onerror=alert("label")>`
)

var invalidRe = regexp.MustCompile(`id="([a-z_]+)"[^>]*aria-invalid="true"`)

func TestCompareForm(t *testing.T) {
	s, _ := newCompareSite(t)
	// SpiNNaker is down: offered, but not ticked and refused.
	req, _ := http.NewRequest(http.MethodPut, s.url+"/status", strings.NewReader(`{"platforms": {"SpiNNaker": {"status": "down", "message": "maintenance"}}}`))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT /status: %v %v", resp, err)
	}
	b := s.browser()
	b.signIn("admin", "admin password")
	resp, page := b.get("/app/compare/new?collab=demo")
	if resp.StatusCode != 200 {
		t.Fatalf("the form: %s\n%s", resp.Status, page)
	}
	for _, p := range []string{"Demo", "Spikey", "BrainScaleS-2"} {
		if !strings.Contains(page, `name="platforms" value="`+p+`" checked`) {
			t.Errorf("the form does not tick %s by default", p)
		}
	}
	if !strings.Contains(page, `value="SpiNNaker" disabled`) || strings.Contains(page, `value="Spikey" disabled`) || strings.Contains(page, `value="BrainScaleS-ESS"`) {
		t.Error("the form does not offer exactly the compare API's platforms, the one down disabled")
	}
	csrf := csrfOf(t, page)
	ok := url.Values{"csrf": {csrf}, "collab": {"demo"}, "code": {hostileScript}, "platforms": {"Demo", "Spikey", "BrainScaleS-2"}}
	with := func(k string, v ...string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no collab", with("collab"), "collab", "Collab: choose"},
		{"another's collab", with("collab", "private-bob"), "collab", "Collab: you may not submit jobs in &#34;private-bob&#34;"},
		{"only the reference", with("platforms", "Demo"), "platforms", "Systems: choose at least one emulated system"},
		{"an unknown system", with("platforms", "Demo", "Nowhere"), "platforms", "Systems: &#34;Nowhere&#34; is not a platform"},
		{"a system that takes no jobs", with("platforms", "Demo", "SpiNNaker"), "platforms", "Systems: SpiNNaker takes no jobs here (down: maintenance)"},
		{"no code", with("code"), "code", "Code: paste the PyNN script"},
		{"a bad duration", with("wall_clock", "soon"), "wall_clock", "Duration: &#34;soon&#34; is not a duration"},
		{"too long", with("wall_clock", "200h"), "wall_clock", "Duration: &#34;200h&#34;"},
		{"the API's refusal", with("script", "other.py"), "script", "script: a script sent as text is run as run.py"},
	} {
		resp, page := b.postMultipart("/app/compare/new", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %s, want 422 with %q\n%.3000s", tc.name, resp.Status, tc.want, page)
			continue
		}
		m := invalidRe.FindStringSubmatch(page)
		if m == nil || m[1] != tc.field {
			t.Errorf("%s: the field marked invalid is %v, want %s", tc.name, m, tc.field)
		}
		if !strings.Contains(page, "# &lt;/pre&gt;&lt;script&gt;") && tc.form.Get("code") != "" {
			t.Errorf("%s: the form shown again does not keep the pasted script (escaped)", tc.name)
		}
		if strings.Contains(page, "<script>alert") {
			t.Fatalf("%s: the pasted script is in the page as markup", tc.name)
		}
	}
	// Without the CSRF token: refused, nothing submitted.
	if resp, _ := b.postMultipart("/app/compare/new", with("csrf")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %s", resp.Status)
	}
	// Pasted and uploaded at once: refused; an uploaded binary file: refused, naming the upload.
	if resp, page := b.postMultipart("/app/compare/new", ok, "run.py", hostileScript); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Code: give only one") {
		t.Errorf("pasted and uploaded: %s", resp.Status)
	}
	if resp, page := b.postMultipart("/app/compare/new", with("code"), "model.bin", "\x00\x01binary"); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Code file: model.bin is neither a text script") {
		t.Errorf("a binary upload: %s\n%.2000s", resp.Status, page)
	}
	if js, _ := s.st.JobList(ctx, &store.JobListParams{}); len(js) != 0 {
		t.Fatalf("refused forms submitted %d jobs", len(js))
	}
	// An uploaded script is the code, as a pasted one.
	resp, _ = b.postMultipart("/app/compare/new", with("code"), "run.py", hostileScript)
	js, _ := s.st.JobList(ctx, &store.JobListParams{Tags: []string{"compare"}})
	if resp.StatusCode != http.StatusSeeOther || len(js) != 2 || js[0].Code != hostileScript {
		t.Errorf("an uploaded script: %s, %d jobs", resp.Status, len(js))
	}
}

// TestComparePages: a comparison started from the form, its page while it
// runs and with the report, the platform left out named with its reason,
// its link from its jobs and the list; the script and a hostile population
// label escaped; another user's view of it (404).
func TestComparePages(t *testing.T) {
	s, cm := newCompareSite(t)
	b := s.browser()
	b.signIn("admin", "admin password")
	_, page := b.get("/app/compare/new?collab=demo")
	resp, body := b.postMultipart("/app/compare/new", url.Values{"csrf": {csrfOf(t, page)}, "collab": {"demo"}, "code": {hostileScript},
		"platforms": {"Demo", "Spikey", "BrainScaleS-2"}, "wall_clock": {"10m"}})
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/app/compare/([0-9a-f]{16})\?collab=demo&flash=`).FindStringSubmatch(loc)
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("submit: %s %q\n%s", resp.Status, loc, body)
	}
	id := m[1]
	if flash, _ := url.QueryUnescape(loc[strings.Index(loc, "flash=")+6:]); !strings.Contains(flash, "Spikey was not submitted") {
		t.Errorf("the flash does not name Spikey: %q", flash)
	}
	jobs, err := s.st.JobList(ctx, &store.JobListParams{Tags: []string{"compare:" + id}})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("the comparison's jobs: %d %v", len(jobs), err)
	}
	for _, j := range jobs {
		if !strings.Contains(string(j.HardwareConfig), `"wall_clock_s":600`) {
			t.Errorf("job %d (%s): hardware_config %s, want the 10 minutes' limit", j.ID, j.HardwarePlatform, j.HardwareConfig)
		}
	}
	// While it runs.
	resp, page = b.get("/app/compare/" + id + "?collab=demo")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="compare-status">running`) || !strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatalf("the running comparison's page: %s\n%s", resp.Status, page)
	}
	if !regexp.MustCompile(`(?s)<td>Spikey</td>.*not submitted.*quota`).MatchString(page) {
		t.Errorf("the page does not name Spikey as not submitted, with the reason:\n%s", page)
	}
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "# &lt;/pre&gt;&lt;script&gt;alert(&#39;script&#39;)") {
		t.Errorf("the script is not shown escaped:\n%s", page)
	}
	_, list := b.get("/app/compare?collab=demo")
	if !strings.Contains(list, `href="/app/compare/`+id+`?collab=demo"`) {
		t.Errorf("the list does not link the comparison:\n%s", list)
	}
	_, jp := b.get(fmt.Sprintf("/app/jobs/%d", jobs[0].ID))
	if !strings.Contains(jp, `href="/app/compare/`+id+`?collab=demo" id="job-compare"`) {
		t.Errorf("job %d's page does not link its comparison", jobs[0].ID)
	}

	// The workers' part: Demo records a simulation whose population has a
	// hostile label; BrainScaleS-2 records the same network with fewer spikes.
	pc := provider.New(s.url, s.key)
	for _, run := range []struct {
		platform string
		times    []float64
	}{{"Demo", []float64{10, 20, 30, 40, 50}}, {"BrainScaleS-2", []float64{12, 33}}} {
		j, err := pc.Claim(ctx, run.platform)
		if err != nil || j == nil {
			t.Fatalf("claim on %s: %v", run.platform, err)
		}
		in, out := recording(t, hostileLabel, run.times)
		for p, data := range map[string][]byte{"in": in, "out": out} {
			if _, err := pc.Upload(ctx, j, benchmark.RecordDir+"/session-1."+p, bytes.NewReader(data), ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := pc.Finish(ctx, j, "finished", nil); err != nil {
			t.Fatal(err)
		}
	}
	resp, page = b.get("/app/compare/" + id + "?collab=demo")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="compare-status">done`) || strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatalf("the ended comparison's page: %s\n%s", resp.Status, page)
	}
	for _, want := range []string{`id="compare-table"`, `<svg class="raster"`, `id="compare-report"`,
		"Did not run the script: its job was not submitted:", "&lt;img src=x onerror=alert(&#34;label&#34;)&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report's page lacks %q", want)
		}
	}
	if strings.Contains(page, "<img src=x") || strings.Contains(page, "<script>alert") {
		t.Errorf("user content is in the page as markup:\n%s", page)
	}
	// Five spikes on Demo, two on BrainScaleS-2: two rasters with their counts.
	if !strings.Contains(page, "5 spikes of 2 neurons") || !strings.Contains(page, "2 spikes of 2 neurons") {
		t.Errorf("the rasters do not draw the spikes:\n%s", page)
	}
	// The compare API names the platform left out too (docs/benchmarks.md).
	req := httptest.NewRequest(http.MethodGet, "/compare/"+id+"?collab=demo", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	rec := httptest.NewRecorder()
	cm.ServeHTTP(rec, req)
	var doc compare.Doc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Status != "done" {
		t.Fatalf("GET /compare/%s: %d %s", id, rec.Code, rec.Body)
	}
	found := false
	for _, j := range doc.Jobs {
		if j.Platform == "Spikey" && j.Status == "not submitted" && strings.Contains(j.Error, "quota") {
			found = true
		}
	}
	if !found || len(doc.Report.Systems) != 3 || !strings.Contains(doc.Text, "Spikey") {
		t.Errorf("GET /compare/%s does not name Spikey: %+v\n%s", id, doc.Jobs, doc.Text)
	}

	// Another user: 404 wherever he looks for it.
	bob := s.browser()
	bob.signIn("bob", "bob password")
	for _, path := range []string{"/app/compare/" + id + "?collab=demo", "/app/compare/" + id, "/app/compare/" + id + "?collab=private-bob",
		"/app/compare/" + id + "?collab=nowhere", "/app/compare/not-an-id"} {
		if resp, body := bob.get(path); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "onerror") {
			t.Errorf("bob GET %s: %s", path, resp.Status)
		}
	}
	if _, list := bob.get("/app/compare?collab=private-bob"); strings.Contains(list, id) {
		t.Error("bob's list shows admin's comparison")
	}
}

// recording is one simulation server session as nmp simserver records it
// (NMP_SIMSERVER_RECORD): a build of one population of two neurons
// labelled label, and the data request whose results hold its spikes,
// alternately on neurons 0 and 1.
func recording(t *testing.T, label string, times []float64) (in, out []byte) {
	t.Helper()
	member := func(w *npy.Writer, name string, data []byte) {
		f, err := w.Create(name, false)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write(data)
	}
	frame := func(dst *bytes.Buffer, fill func(*npy.Writer)) {
		var z bytes.Buffer
		w := npy.NewWriter(&z)
		fill(w)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_ = binary.Write(dst, binary.LittleEndian, uint64(z.Len()))
		dst.Write(z.Bytes())
	}
	js := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	var ib, ob bytes.Buffer
	frame(&ib, func(w *npy.Writer) {
		member(w, "request.json", []byte(`{"op": "build"}`))
		member(w, "network.json", js(map[string]any{"populations": []any{map[string]any{"label": label, "size": 2, "cell": map[string]any{"type": "IF_cond_exp"}}}}))
	})
	frame(&ob, func(w *npy.Writer) { member(w, "reply.json", []byte(`{"ok": true, "info": {"projection_sizes": []}}`)) })
	frame(&ib, func(w *npy.Writer) { member(w, "request.json", []byte(`{"op": "data"}`)) })
	ids := make([]int64, len(times))
	for i := range ids {
		ids[i] = int64(i % 2)
	}
	var res bytes.Buffer
	rw := npy.NewWriter(&res)
	member(rw, "results.json", js(map[string]any{
		"populations": []any{map[string]any{"label": label, "size": 2, "cell_type": "IF_cond_exp"}},
		"segments": []any{map[string]any{"runs_ms": []float64{100}, "spikes": []any{map[string]any{
			"population": 0, "recorded": "rec0", "ids": "ids0", "times": "times0"}}}}}))
	for name, a := range map[string]*npy.Array{"rec0": npy.Int64Array([]int64{0, 1}), "ids0": npy.Int64Array(ids), "times0": npy.Float64Array(times)} {
		if err := rw.Array(name, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	frame(&ob, func(w *npy.Writer) {
		member(w, "reply.json", []byte(`{"ok": true}`))
		member(w, "results.npz", res.Bytes())
	})
	return ib.Bytes(), ob.Bytes()
}
