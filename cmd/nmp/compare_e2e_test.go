package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/benchmark"
	"github.com/nmp-platform/nmp/benchmark/compare"
	"github.com/nmp-platform/nmp/client"
)

// TestEndToEndCompareAPI runs nmp compare -server against a real nmp serve
// with its in-process workers: the synfire chain becomes one job per
// platform in the caller's collab (here Demo, Spikey and BrainScaleS-2),
// and the server's report names Spikey's 4-bit weights and BrainScaleS-2's
// refusal, as the local nmp compare does.
func TestEndToEndCompareAPI(t *testing.T) {
	bin := nmpBinary(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import pyNN.nmp, pynn_brainscales.brainscales2").Run(); err != nil {
		t.Skip("SKIPPED: pyNN.nmp or pynn_brainscales is not importable (scripts/setup installs them)")
	}
	p := &localServer{t: t, bin: bin, dir: reachableTempDir(t)}
	p.home = filepath.Join(p.dir, "home")
	p.data = filepath.Join(p.dir, "data")
	_ = os.Mkdir(p.home, 0o700)
	p.args = []string{"serve", "-data-dir", p.data, "-work-dir", filepath.Join(p.dir, "jobs"), "-allow-private-urls", "-poll", "100ms",
		"-calibration-hour", "-1", "-memory", "2GiB"}
	p.launch("127.0.0.1:0")
	p.token = readBootstrapToken(t, p.data)

	// Without a token there is no one to charge.
	resp, err := http.Post(p.url+"/compare/", "application/json", strings.NewReader(`{"collab": "demo", "code": "print(1)"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /compare/ without a token: %s, want 401", resp.Status)
	}

	out := filepath.Join(p.dir, "cmp")
	script := filepath.Join("..", "..", "examples", "benchmarks", "run_synfire_chain.py")
	text := p.nmpOK("compare", script, "-server", p.url, "-collab", "demo", "-platforms", "Spikey,BrainScaleS-2", "-out", out)
	t.Logf("%s", text)
	var cmp compare.Doc
	js, err := os.ReadFile(filepath.Join(out, "comparison.json"))
	if err != nil || json.Unmarshal(js, &cmp) != nil || cmp.Report == nil {
		t.Fatalf("comparison.json: %v\n%s", err, js)
	}
	if len(cmp.Jobs) != 3 || cmp.Jobs[0].Platform != "Demo" || cmp.Status != "done" {
		t.Fatalf("jobs %+v (%s), want Demo first, then Spikey and BrainScaleS-2", cmp.Jobs, cmp.Status)
	}
	// Each is a normal job of the caller's collab, tagged with the comparison, and charged.
	c := client.New(p.url, p.token)
	for _, cj := range cmp.Jobs {
		j, err := c.Job(context.Background(), cj.JobID, false)
		if err != nil {
			t.Fatal(err)
		}
		tagged := false
		for _, tag := range j.Tags {
			tagged = tagged || tag == "compare:"+cmp.ID
		}
		if j.Collab != "demo" || j.HardwarePlatform != cj.Platform || !tagged || !j.Ended() {
			t.Errorf("job %d: collab %s, platform %s, tags %v, status %s", j.ID, j.Collab, j.HardwarePlatform, j.Tags, j.Status)
		}
		if j.Status == "finished" && j.ResourceUsage == nil {
			t.Errorf("job %d (%s) was not charged", j.ID, j.HardwarePlatform)
		}
	}
	rep := cmp.Report
	if rep.Reference != "Demo" || len(rep.Systems) != 3 || rep.Systems[0].Refused != "" {
		t.Fatalf("report: %+v", rep)
	}
	groups := 0
	for _, pop := range rep.Systems[0].Populations {
		if strings.HasPrefix(pop.Label, "group") && pop.Active == 20 {
			groups++
		}
	}
	if groups != 8 {
		t.Errorf("the volley reached %d of 8 groups on the reference", groups)
	}
	for _, s := range rep.Systems[1:] {
		switch s.Platform {
		case "Spikey":
			quantised := 0
			for _, ch := range s.Changes {
				if strings.HasPrefix(ch, "weights: ") && strings.Contains(ch, "4-bit") {
					quantised++
				}
			}
			if s.Refused != "" || quantised != 8 || s.JobID == 0 || len(s.Populations) == 0 || s.Populations[1].VanRossum == nil {
				t.Errorf("Spikey: refused %q, %d changes naming its 4-bit weights (want 8), job %d", s.Refused, quantised, s.JobID)
			}
		case "BrainScaleS-2":
			if !strings.Contains(s.Refused, "IF_cond_exp") {
				t.Errorf("BrainScaleS-2: %q, want the reason (no IF_cond_exp on the chip)", s.Refused)
			}
		default:
			t.Errorf("a comparison on %s was not asked for", s.Platform)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), "4-bit") {
		t.Errorf("report.html: %v, %d bytes without a raster or the report", err, len(page))
	}
	if _, err := os.Stat(filepath.Join(out, "compare.png")); err != nil {
		t.Errorf("no plot: %v", err)
	}
	// An id nobody started is not found.
	if _, err := (&benchmark.Client{Server: p.url, Token: p.token}).Comparison(context.Background(), "0123456789abcdef", 0); err == nil || !strings.Contains(err.Error(), "no jobs of it") {
		t.Errorf("an unknown comparison: %v", err)
	}
}
