package web_test

// The web interface in a real browser: Debian's headless Chromium, driven
// with chromedp, against a real 'nmp serve' (SQLite, in-process workers that
// run the jobs in their sandbox). Screenshots of every page go to
// $NMP_WEB_SCREENSHOTS (default: a directory under $TMPDIR, printed).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/provider"
)

var (
	buildOnce sync.Once
	nmpBin    string
	buildErr  error
)

// nmpBinary builds nmp once, where the jobs' users can run it.
func nmpBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the browser tests run jobs in the workers' sandbox, which needs root; CI runs as root")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nmp-web-bin-")
		if err != nil {
			buildErr = err
			return
		}
		_ = os.Chmod(dir, 0o755)
		nmpBin = filepath.Join(dir, "nmp")
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = "/usr/local/go/bin/go"
		}
		out, err := exec.Command(goCmd, "build", "-o", nmpBin, "../cmd/nmp").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return nmpBin
}

type localPlatform struct {
	url, data, bin string
	boot           struct{ Admin, Password, Token, APIKey string }
}

// startPlatform runs 'nmp serve' (Test served by an outside runner: the test plays it).
func startPlatform(t *testing.T) *localPlatform {
	bin := nmpBinary(t)
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o711)
	_ = os.Chmod(filepath.Dir(dir), 0o711)
	p := &localPlatform{data: filepath.Join(dir, "data"), bin: bin}
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-data-dir", p.data, "-external", "Test")
	cmd.Env = append(os.Environ(), "HOME="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	ready := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`is ready at (http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	select {
	case p.url = <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("nmp serve did not say it was ready within 60 s")
	}
	b, err := os.ReadFile(filepath.Join(p.data, "bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	var boot map[string]string
	if err := json.Unmarshal(b, &boot); err != nil {
		t.Fatal(err)
	}
	p.boot.Admin, p.boot.Password, p.boot.Token, p.boot.APIKey = boot["admin"], boot["password"], boot["token"], boot["api_key"]
	if p.boot.Password == "" {
		t.Fatalf("bootstrap.json has no password for the administrator: %s", b)
	}
	return p
}

func (p *localPlatform) admin(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(p.bin, append([]string{"admin", "-data-dir", p.data}, args...)...)
	if len(args) > 2 && args[len(args)-1] == "-password-stdin" {
		cmd.Stdin = strings.NewReader("second user passphrase 7731\n")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nmp admin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// browser starts headless Chromium.
func chromium(t *testing.T) context.Context {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser tests need Debian's chromium package (scripts/setup installs it): ", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "en-GB"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal("start chromium: ", err)
	}
	return ctx
}

func shotDir(t *testing.T) string {
	dir := os.Getenv("NMP_WEB_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nmp-web-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type session struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

func (s *session) run(what string, timeout time.Duration, actions ...chromedp.Action) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, body string
		_ = chromedp.Run(s.ctx, chromedp.Location(&loc), chromedp.Text("main", &body, chromedp.ByQuery))
		s.shot("failure-" + strings.ReplaceAll(what, " ", "-"))
		s.t.Fatalf("%s: %v\npage %s:\n%s", what, err, loc, body)
	}
}

func (s *session) shot(name string) {
	var buf []byte
	if err := chromedp.Run(s.ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		s.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(s.dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		s.t.Log(err)
	}
}

func (s *session) text(sel string) string {
	var out string
	s.run("read "+sel, 10*time.Second, chromedp.Text(sel, &out, chromedp.ByQuery))
	return out
}

// waitText waits until the element's text contains want.
func (s *session) waitText(sel, want string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByQuery))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.shot("failure-wait")
	s.t.Fatalf("%s never showed %q within %s; it shows:\n%s", sel, want, timeout, got)
}

func (s *session) signIn(user, password string) {
	s.trySignIn(user, password, ".signout")
}

func (s *session) trySignIn(user, password, then string) {
	s.run("sign in as "+user, 30*time.Second,
		chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SetValue("#username", user, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(then, chromedp.ByQuery))
}

func (s *session) signOut() {
	s.run("sign out", 20*time.Second, chromedp.Click(".signout button", chromedp.ByQuery), chromedp.WaitVisible("#username", chromedp.ByQuery))
}

// jobIDFromURL reads the job number of the job page the browser shows.
func (s *session) jobIDFromURL() int64 {
	var loc string
	s.run("location", 5*time.Second, chromedp.Location(&loc))
	var id int64
	if _, err := fmt.Sscanf(loc[strings.Index(loc, "/app/jobs/")+len("/app/jobs/"):], "%d", &id); err != nil {
		s.t.Fatalf("not a job page: %s", loc)
	}
	return id
}

const demoScript = `import sys, time
exec("import pyNN.%s as sim" % sys.argv[1])
import matplotlib.pyplot as plt
from neo.io import PickleIO
sim.setup(timestep=0.1)
cells = sim.Population(20, sim.IF_cond_exp(tau_m=10.0), label="cells")
noise = sim.Population(20, sim.SpikeSourcePoisson(rate=200.0), label="noise")
sim.Projection(noise, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.05, delay=1.0))
cells.record(["spikes", "v"])
for i in range(3):
    sim.run(100.0)
    print("ran %d ms" % ((i + 1) * 100), flush=True)
    time.sleep(2)
block = cells.get_data()
PickleIO("demo.pkl").write_block(block)
counts = cells.get_spike_counts()
plt.bar(list(range(len(counts))), [counts[k] for k in sorted(counts)])
plt.xlabel("neuron")
plt.ylabel("spikes")
plt.savefig("spike_counts.png")
sim.end()
print("done")
`

// compareScript runs on every PyNN 0.10 backend ({system} is its argument).
const compareScript = `import sys
exec("import pyNN.%s as sim" % sys.argv[1])
sim.setup(timestep=0.1)
inputs = sim.Population(10, sim.SpikeSourcePoisson(rate=60.0), label="inputs")
cells = sim.Population(10, sim.IF_curr_exp(tau_m=10.0), label="cells")
sim.Projection(inputs, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=8.0, delay=1.0))
inputs.record("spikes")
cells.record("spikes")
sim.run(300.0)
sim.end()
`

func TestBrowser(t *testing.T) {
	p := startPlatform(t)
	s := &session{t: t, ctx: chromium(t), base: p.url, dir: shotDir(t)}
	t.Logf("screenshots in %s", s.dir)
	p.admin(t, "user", "add", "bob", "-password-stdin")

	// Sign in: / sends a browser to the sign-in page, then to the job list.
	s.run("open /", 30*time.Second, chromedp.Navigate(p.url+"/"), chromedp.WaitVisible("#username", chromedp.ByQuery))
	s.shot("signin")
	s.trySignIn("admin", "wrong password", "#signin-error")
	if !strings.Contains(s.text("main"), "Wrong username or password") {
		t.Fatal("a wrong password did not say so")
	}
	s.signIn(p.boot.Admin, p.boot.Password)
	if got := s.text("h1"); got != "Jobs of demo" {
		t.Fatalf("after sign-in: %q", got)
	}
	s.shot("jobs-empty")

	// New Job on Demo with a pasted PyNN script; the log streams while it runs.
	s.run("new job form", 20*time.Second, chromedp.Click(`a[href^="/app/jobs/new"]`, chromedp.ByQuery), chromedp.WaitVisible("#code", chromedp.ByQuery))
	var unavailable string
	s.run("platforms", 5*time.Second, chromedp.TextContent(`#platform option[value="TestPlatform"]`, &unavailable, chromedp.ByQuery))
	if !strings.Contains(unavailable, "unavailable") {
		t.Errorf("the drop-down does not say TestPlatform is unavailable: %q", unavailable)
	}
	s.run("bad hardware config", 20*time.Second,
		chromedp.SetValue("#platform", "Demo", chromedp.ByQuery),
		chromedp.SetValue("#code", demoScript, chromedp.ByQuery),
		chromedp.SendKeys("#hardware_config", `{"limits": `, chromedp.ByQuery))
	var valid bool
	s.run("validity", 5*time.Second, chromedp.Evaluate(`document.getElementById("hardware_config").checkValidity()`, &valid))
	if valid {
		t.Fatal("the page accepted a hardware config that is not JSON")
	}
	s.run("fill the form", 20*time.Second,
		chromedp.SetValue("#hardware_config", `{"limits": {"wall_clock_s": 300}}`, chromedp.ByQuery),
		chromedp.SendKeys("#hardware_config", " ", chromedp.ByQuery),
		chromedp.SendKeys("#tags", "browser, demo", chromedp.ByQuery))
	s.shot("newjob")
	s.run("submit", 30*time.Second, chromedp.Click(`#newjob button.primary`, chromedp.ByQuery), chromedp.WaitVisible("#log", chromedp.ByQuery))
	demo := s.jobIDFromURL()
	s.waitText("#log", "ran 100 ms", 90*time.Second)
	if st := s.text("#job-status"); st != "running" {
		t.Errorf("the log streamed, but the job is %q, not running", st)
	}
	s.shot("job-running")
	s.waitText("#job-status", "finished", 120*time.Second)
	s.run("results shown", 30*time.Second, chromedp.WaitVisible(`#plots svg[data-kind="spikes"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#plots svg[data-kind="signal"]`, chromedp.ByQuery), chromedp.WaitVisible(`.figures img`, chromedp.ByQuery))
	var imgOK bool
	s.run("figure", 10*time.Second, chromedp.Evaluate(`(() => { const i = document.querySelector(".figures img"); return i.complete && i.naturalWidth > 100; })()`, &imgOK))
	if !imgOK {
		t.Error("the job's figure did not load")
	}
	s.shot("job-finished")
	// Zoom: drag across the raster.
	var box []float64
	s.run("raster box", 5*time.Second, chromedp.Evaluate(`(() => { const e = document.querySelector('#plots svg[data-kind="spikes"]'); e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, &box))
	y := box[1] + box[3]/2
	held := func(p *input.DispatchMouseEventParams) *input.DispatchMouseEventParams {
		return p.WithButton(input.Left).WithButtons(1).WithClickCount(1)
	}
	s.run("drag", 10*time.Second,
		chromedp.MouseEvent(input.MousePressed, box[0]+box[2]*0.3, y, held),
		chromedp.MouseEvent(input.MouseMoved, box[0]+box[2]*0.4, y, held),
		chromedp.MouseEvent(input.MouseMoved, box[0]+box[2]*0.5, y, held),
		chromedp.MouseEvent(input.MouseReleased, box[0]+box[2]*0.5, y, held))
	var resetDisabled bool
	s.run("zoomed", 5*time.Second, chromedp.Evaluate(`[...document.querySelectorAll("#plots button")].find(b => b.textContent === "Reset zoom").disabled`, &resetDisabled))
	if resetDisabled {
		t.Error("dragging across the raster did not zoom")
	}
	s.shot("job-plot-zoomed")

	// Download an output: an attachment, with the size the page shows.
	var dl map[string]any
	s.run("download", 20*time.Second, chromedp.Evaluate(`(async () => {
		const a = [...document.querySelectorAll(".files a")].find(a => a.textContent === "demo.pkl");
		const r = await fetch(a.href);
		const b = await r.arrayBuffer();
		return {status: r.status, disposition: r.headers.get("content-disposition"), type: r.headers.get("content-type"), size: b.byteLength, download: a.hasAttribute("download")};
	})()`, &dl, awaitPromise))
	if dl["status"] != float64(200) || !strings.HasPrefix(fmt.Sprint(dl["disposition"]), "attachment") || dl["type"] != "application/octet-stream" || dl["size"].(float64) < 1000 || dl["download"] != true {
		t.Errorf("download of demo.pkl: %v", dl)
	}

	// The BrainScaleS-2 tutorial's second experiment, pasted unchanged, with the tutorial's command.
	script, err := os.ReadFile("../examples/brainscales2/second_experiment.py")
	if err != nil {
		t.Fatal(err)
	}
	s.run("bss2 job", 30*time.Second, chromedp.Navigate(p.url+"/app/jobs/new"), chromedp.WaitVisible("#code", chromedp.ByQuery),
		chromedp.SetValue("#platform", "BrainScaleS-2", chromedp.ByQuery), chromedp.SetValue("#code", string(script), chromedp.ByQuery),
		chromedp.SendKeys("#command", "run.py", chromedp.ByQuery), chromedp.Click(`#newjob button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible("#log", chromedp.ByQuery))
	s.waitText("#job-status", "finished", 180*time.Second)
	s.run("madc plot", 30*time.Second, chromedp.WaitVisible(`#plots svg[data-kind="signal"]`, chromedp.ByQuery))
	if txt := s.text("#plots"); !strings.Contains(txt, "madc") {
		t.Errorf("the BrainScaleS-2 job's plot does not show the MADC readout: %q", txt)
	}
	s.shot("job-bss2")

	// Resubmit the Demo job, then remove the new one.
	s.run("resubmit", 30*time.Second, chromedp.Navigate(fmt.Sprintf("%s/app/jobs/%d", p.url, demo)), chromedp.WaitVisible("#log", chromedp.ByQuery),
		chromedp.Click(`form[action$="/resubmit"] button`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	again := s.jobIDFromURL()
	if again == demo {
		t.Fatal("resubmitting did not make a new job")
	}
	s.run("remove", 30*time.Second, chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`form[action$="/remove"] button`, chromedp.ByQuery), chromedp.WaitVisible("form.filters", chromedp.ByQuery))
	if f := s.text(".flash"); f != fmt.Sprintf("Job %d removed.", again) {
		t.Errorf("after removing: %q", f)
	}
	s.shot("jobs")
	s.run("platforms page", 20*time.Second, chromedp.Navigate(p.url+"/app/platforms"), chromedp.WaitVisible("table", chromedp.ByQuery))
	if txt := s.text("table"); !strings.Contains(txt, "nmp-virtual-hx-0") || !strings.Contains(txt, "unavailable") {
		t.Errorf("platforms page: %q", txt)
	}
	s.shot("platforms")

	// Compare across systems: one pasted script on Demo, SpiNNaker and
	// Spikey (whose PyNN 0.6 refuses it), the page while the jobs run, then
	// the report side by side with its rasters.
	s.run("compare form", 30*time.Second, chromedp.Navigate(p.url+"/app/compare?collab=demo"), chromedp.WaitVisible("#new-compare", chromedp.ByQuery),
		chromedp.Click("#new-compare", chromedp.ByQuery), chromedp.WaitVisible("#newcompare", chromedp.ByQuery),
		chromedp.SetValue("#code", compareScript, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('input[name="platforms"]').forEach(c => { c.checked = ["Demo", "SpiNNaker", "Spikey"].includes(c.value); })`, nil),
		chromedp.SendKeys("#wall_clock", "5m", chromedp.ByQuery))
	s.shot("compare-new")
	s.run("start the comparison", 30*time.Second, chromedp.Click(`#newcompare button.primary`, chromedp.ByQuery), chromedp.WaitVisible("#compare-jobs", chromedp.ByQuery))
	if rows := s.text("#compare-jobs tbody"); !strings.Contains(rows, "SpiNNaker") || !strings.Contains(rows, "Spikey") {
		t.Errorf("the comparison's jobs: %q", rows)
	}
	s.shot("compare-running")
	s.waitText("#compare-status", "done", 240*time.Second)
	s.run("comparison report", 30*time.Second, chromedp.WaitVisible("#compare-rasters svg.raster", chromedp.ByQuery))
	var rasters float64
	s.run("rasters", 5*time.Second, chromedp.Evaluate(`document.querySelectorAll("#compare-rasters svg.raster path[d^='M']").length`, &rasters))
	if rasters < 4 {
		t.Errorf("the comparison draws %v rasters with spikes, want Demo's and SpiNNaker's of both populations", rasters)
	}
	if txt := s.text("#compare-table"); !strings.Contains(txt, "van Rossum") {
		t.Errorf("the side-by-side table: %q", txt)
	}
	if txt := s.text("main"); !strings.Contains(txt, "Did not run the script") {
		t.Errorf("the page does not say Spikey refused the script: %q", txt)
	}
	s.shot("compare")
	s.run("a comparison's job links it", 30*time.Second, chromedp.Click(`#compare-jobs a[href^="/app/jobs/"]`, chromedp.ByQuery), chromedp.WaitVisible("#job-compare", chromedp.ByQuery))

	// A CSRF attempt: another site's page posts the remove form of job 'demo'.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/app/jobs/%d/remove"><input name="csrf" value="forged"></form><script>document.forms[0].submit()</script>`, p.url, demo)
	}))
	defer evil.Close()
	s.run("csrf", 30*time.Second, chromedp.Navigate(evil.URL), chromedp.WaitVisible("p.error", chromedp.ByQuery))
	uc := client.New(p.url, p.boot.Token)
	if j, err := uc.Job(context.Background(), demo, false); err != nil || j.Status != "finished" {
		t.Fatalf("after the CSRF attempt job %d is %v (%v)", demo, j, err)
	}
	// With the session cookie but without the form's token (a same-site script), it is refused too.
	var status float64
	s.run("csrf without token", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/app/jobs/%d", p.url, demo)), chromedp.WaitVisible("#log", chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`fetch("/app/jobs/%d/remove", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "csrf=forged"}).then(r => r.status)`, demo), &status,
			awaitPromise))
	if status != 403 {
		t.Errorf("a form without the CSRF token answered %v, not 403", status)
	}

	// Bob: a collab's jobs are not his to see; he asks for resources for his own collab.
	s.signOut()
	s.signIn("bob", "second user passphrase 7731")
	s.run("cross-collab job", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/app/jobs/%d", p.url, demo)), chromedp.WaitVisible("p.error", chromedp.ByQuery))
	if txt := s.text("p.error"); !strings.Contains(txt, "not found") {
		t.Errorf("bob opening job %d: %q", demo, txt)
	}
	s.run("cross-collab list", 20*time.Second, chromedp.Navigate(p.url+"/app/jobs?collab=demo"), chromedp.WaitVisible("p.error", chromedp.ByQuery))
	if txt := s.text("p.error"); !strings.Contains(txt, "may not view") {
		t.Errorf("bob listing demo's jobs: %q", txt)
	}
	long := strings.Repeat("x", 510)
	s.run("request form", 30*time.Second, chromedp.Navigate(p.url+"/app/resources/new"), chromedp.WaitVisible("#title", chromedp.ByQuery),
		chromedp.SendKeys("#title", "Spiking models of the barrel cortex", chromedp.ByQuery),
		chromedp.SendKeys("#abstract", long, chromedp.ByQuery))
	var n float64
	s.run("abstract length", 5*time.Second, chromedp.Evaluate(`document.getElementById("abstract").value.length`, &n))
	if n != 500 {
		t.Errorf("the page let the abstract grow to %v characters", n)
	}
	if h := s.text("#abstract-count"); !strings.Contains(h, "500 / 500") {
		t.Errorf("the counter says %q", h)
	}
	s.shot("request")
	s.run("submit request", 30*time.Second, chromedp.Click(`button[value="submit"]`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	if txt := s.text("main"); !strings.Contains(txt, "under review") {
		t.Errorf("after submitting the request: %q", txt)
	}

	// The administrator accepts it; Bob sees the quota.
	s.signOut()
	s.signIn(p.boot.Admin, p.boot.Password)
	s.run("review", 20*time.Second, chromedp.Navigate(p.url+"/app/review"), chromedp.WaitVisible("article.review", chromedp.ByQuery))
	s.shot("review")
	s.run("accept", 30*time.Second, chromedp.Click(`article.review form button.primary`, chromedp.ByQuery), chromedp.WaitVisible(".flash", chromedp.ByQuery))
	s.signOut()
	s.signIn("bob", "second user passphrase 7731")
	s.run("quotas", 20*time.Second, chromedp.Navigate(p.url+"/app/resources?collab=private-bob"), chromedp.WaitVisible("ul.quotas meter", chromedp.ByQuery))
	if txt := s.text("ul.quotas"); !strings.Contains(txt, "Demo") || !strings.Contains(txt, "0 / 1 hours") {
		t.Errorf("bob's quotas: %q", txt)
	}
	s.shot("resources")

	// A job with a 10 MB log and 1,000 output files: the page paints within a second.
	big := bigJob(t, p)
	s.signOut()
	s.signIn(p.boot.Admin, p.boot.Password)
	var paint float64
	// The browser records the paint entry shortly after the element is
	// visible, not always before: wait for the entry itself.
	s.run("big job page", 60*time.Second, chromedp.Navigate(fmt.Sprintf("%s/app/jobs/%d", p.url, big)), chromedp.WaitVisible("#log", chromedp.ByQuery),
		chromedp.Poll(`(() => { const e = performance.getEntriesByName("first-contentful-paint")[0]; return e ? e.startTime : false; })()`, &paint,
			chromedp.WithPollingTimeout(10*time.Second)))
	var rows float64
	s.run("rows", 5*time.Second, chromedp.Evaluate(`document.querySelectorAll(".files tbody tr").length`, &rows))
	// The target (first paint within 1 s on an idle machine) is a measurement, not
	// a timed assertion: the figure is logged (docs/web.md records it); only a page
	// that takes ten times as long fails here.
	t.Logf("job page with a 10 MB log and %v output files: first contentful paint after %.0f ms", rows, paint)
	if rows != 1000 || paint < 0 || paint > 10000 {
		t.Errorf("big job page: %v rows, first paint after %.0f ms (want 1000 rows, and far less than 10 s)", rows, paint)
	}
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// bigJob makes a finished job on Test (run by this test as its provider)
// with a 10 MB log and 1,000 output files.
func bigJob(t *testing.T, p *localPlatform) int64 {
	ctx := context.Background()
	uc := client.New(p.url, p.boot.Token)
	// The demo collab's test access has no quota on Test (the reference server's test platform): add one.
	ps, err := uc.Projects(ctx, "demo", "accepted")
	if err != nil || len(ps) == 0 {
		t.Fatalf("demo's requests: %v %v", ps, err)
	}
	req, _ := http.NewRequest(http.MethodPost, p.url+"/projects/"+ps[0].ID+"/quotas", strings.NewReader(`{"platform": "Test", "limit": 100}`))
	req.Header.Set("Authorization", "Bearer "+p.boot.Token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add a Test quota: %v %v", resp, err)
	}
	j, err := uc.Submit(ctx, &client.Submission{Code: "print('big')", Platform: "Test", Collab: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	pc := provider.New(p.url, p.boot.APIKey)
	job, err := pc.Claim(ctx, "Test")
	if err != nil || job.ID != j.ID {
		t.Fatalf("claim: %v %v", job, err)
	}
	line := strings.Repeat("a line of a long log, ", 4) + "\n"
	chunk := strings.Repeat(line, (1<<20)/len(line))
	for i := 0; i < 10; i++ {
		if err := pc.AppendLog(ctx, job, chunk); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if _, err := pc.Upload(ctx, job, fmt.Sprintf("out/file_%04d.txt", i), strings.NewReader("x"), "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	if err := pc.Finish(ctx, job, "finished", nil); err != nil {
		t.Fatal(err)
	}
	return j.ID
}
