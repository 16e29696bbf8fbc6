package worker

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/platform"
)

func lines(ss ...string) []json.RawMessage {
	var out []json.RawMessage
	for _, s := range ss {
		out = append(out, json.RawMessage(s))
	}
	return out
}

// TestUsageFromReports: the cores and hardware time of the run reports reach
// the usage rule; reports that are malformed or would lower the charge below
// what the measured wall clock alone charges are not believed.
func TestUsageFromReports(t *testing.T) {
	tab := platform.Default()
	spin, err := tab.Get("SpiNNaker")
	if err != nil {
		t.Fatal(err)
	}
	demo, _ := tab.Get("Demo")
	// A rule that trusts the reported hardware time, to show the floor.
	hw := platform.Platform{Name: "HW", Units: "hours", Usage: func(u platform.Used) (float64, string) {
		if u.HardwareTime > 0 {
			return u.HardwareTime / 3600, "hardware hours"
		}
		return u.WallClock / 3600, "wall-clock hours"
	}}
	res := &sandboxResult{WallClock: 360, CPUTime: 300}
	for _, c := range []struct {
		name string
		p    platform.Platform
		runs []json.RawMessage
		want float64
		rule string
	}{
		{"no report", spin, nil, 0.1, "cores the mapping used"},
		{"two runs of 17 and 12 cores", spin, lines(`{"system":"spinnaker","cores":17,"hardware_time_ms":1000}`, `{"cores":12,"hardware_time_ms":5}`), 1.7, "cores the mapping used"},
		{"one core", spin, lines(`{"cores":1}`), 0.1, "cores the mapping used"},
		{"zero cores", spin, lines(`{"cores":0}`), 0.1, "cores the mapping used"},
		{"negative cores", spin, lines(`{"cores":-40}`), 0.1, "cores the mapping used"},
		{"fractional cores", spin, lines(`{"cores":2.5}`), 0.1, "cores the mapping used"},
		{"absurd cores", spin, lines(`{"cores":1e30}`), 0.1, "cores the mapping used"},
		{"cores as a string", spin, lines(`{"cores":"12"}`), 0.1, "cores the mapping used"},
		{"not JSON", spin, lines(`{"cores":12`), 0.1, "cores the mapping used"},
		{"Demo ignores cores", demo, lines(`{"cores":12,"hardware_time_ms":1}`), 0.1, "wall-clock hours"},
		{"hardware time above the wall clock", hw, lines(`{"hardware_time_ms":720000}`), 0.2, "hardware hours"},
		{"hardware time below the wall clock: the floor", hw, lines(`{"hardware_time_ms":1}`), 0.1, "would have charged less"},
		{"negative hardware time", hw, lines(`{"hardware_time_ms":-1e9}`), 0.1, "wall-clock hours"},
	} {
		v, _, rule := usage(c.p, res, c.runs)
		if math.Abs(v-c.want) > 1e-12 || !strings.Contains(rule, c.rule) {
			t.Errorf("%s: %v (%q), want %v (%q)", c.name, v, rule, c.want, c.rule)
		}
	}
	if cores, h := reportedUse(lines(`{"cores":3,"hardware_time_ms":1500}`, `{"hardware_time_ms":500}`, `{"hardware_time_ms":1.7e308}`, `{"hardware_time_ms":1e300}`)); cores != 3 || h != 2 {
		t.Errorf("reportedUse: %d cores, %v s, want 3 and 2 (absurd times must not count)", cores, h)
	}
}

// TestWorkerChargesReportedCores runs jobs on a core-hour platform whose
// scripts report the cores they used: honest reports are charged cores x
// wall clock, a forged report of no cores one core x wall clock.
func TestWorkerChargesReportedCores(t *testing.T) {
	tab := append(platform.Default(), platform.Platform{Name: "CoreTest", Units: "core-hours", TestGrant: 100, Reservation: 0.001,
		Backend: "nmp", System: "reference", Usage: platform.CoreHours})
	p := newTestPlatformOf(t, time.Minute, tab)
	p.start(p.worker(func(c *Config) { c.PlatformTable, c.Platforms, c.Slots = tab, []string{"CoreTest"}, 2 }))
	script := func(cores int) string {
		return `import json, os, time
time.sleep(0.3)
with open(os.path.join(os.environ["NMP_JOB_REPORT"], "runs.jsonl"), "a") as f:
    f.write(json.dumps({"system": "spinnaker", "cores": ` + jsonInt(cores) + `, "hardware_time_ms": 10.0}) + "\n")
`
	}
	honest := p.submit(map[string]any{"code": script(40), "hardware_platform": "CoreTest"})
	forged := p.submit(map[string]any{"code": script(0), "hardware_platform": "CoreTest"})
	for _, c := range []struct {
		id    int64
		cores float64
	}{{honest, 40}, {forged, 1}} {
		j := p.wait(c.id, "end", nil)
		if j.Status != "finished" || j.ResourceUsage == nil {
			t.Fatalf("job %d: %s, usage %+v, log:\n%s", c.id, j.Status, j.ResourceUsage, logOf(j))
		}
		res, _ := j.Provenance["resources"].(map[string]any)
		wall, _ := res["wall_clock_s"].(float64)
		if wall < 0.3 {
			t.Fatalf("job %d: wall clock %v s", c.id, wall)
		}
		if want := c.cores * wall / 3600; math.Abs(j.ResourceUsage.Value-want) > 1e-9*want || j.ResourceUsage.Units != "core-hours" {
			t.Errorf("job %d: charged %v %s, want %v (%v cores x %v s)", c.id, j.ResourceUsage.Value, j.ResourceUsage.Units, want, c.cores, wall)
		}
		t.Logf("job %d: %v cores x %.3f s = %.3g core-hours (%v)", c.id, c.cores, wall, j.ResourceUsage.Value, j.Provenance["resource_usage"])
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
