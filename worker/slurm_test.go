package worker

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/provider"
)

func TestParseSlurmConfig(t *testing.T) {
	c, err := ParseSlurmConfig([]byte(`{"poll": "500ms", "env": ["SLURM_CONF=/x"], "platforms": {"Demo": {"partition": "cpu", "gres": "chip:1", "allowed_gres": ["chip:2"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Poll != 500*time.Millisecond || c.Platforms["Demo"].Partition != "cpu" {
		t.Fatalf("%+v", c)
	}
	for _, tc := range []struct{ in, want string }{
		{`{}`, "platforms: none configured"},
		{`{"platforms": {"Demo": {}}}`, "platforms.Demo.partition: required"},
		{`{"platforms": {"Demo": {"partition": "-p x"}}}`, `platforms.Demo.partition: "-p x" is not a SLURM name`},
		{`{"platforms": {"Demo": {"partition": "a", "allowed_gres": ["chip;rm"]}}}`, `platforms.Demo.allowed_gres: "chip;rm" is not a SLURM name`},
		{`{"platforms": {"Demo": {"partition": "a", "cpus_per_task": 4, "max_cpus_per_task": 2}}}`, "do not fit"},
		{`{"poll": "soon", "platforms": {"Demo": {"partition": "a"}}}`, `poll: "soon" is not a positive duration`},
		{`{"env": ["X"], "platforms": {"Demo": {"partition": "a"}}}`, `env[0]: "X" is not NAME=VALUE`},
		{`{"partitions": {}}`, `unknown field "partitions"`},
	} {
		_, err := ParseSlurmConfig([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestSlurmRequest(t *testing.T) {
	p := SlurmPlatform{Partition: "bss2", QOS: "normal", AllowedQOS: []string{"high"}, Gres: "chip:1", AllowedGres: []string{"chip:2"}, CPUsPerTask: 1, MaxCPUsPerTask: 4}
	q, err := p.request(json.RawMessage(`{"limits": {"wall_clock_s": 5}, "slurm": {"gres": "chip:2", "qos": "high", "cpus_per_task": 3}, "other": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.Gres != "chip:2" || q.QOS != "high" || q.CPUsPerTask != 3 || q.Partition != "bss2" {
		t.Fatalf("%+v", q)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"slurm": {"gres": "chip:9"}}`, `hardware_config.slurm.gres: "chip:9" is not allowed on this platform (allowed: "chip:1", "chip:2")`},
		{`{"slurm": {"qos": "root"}}`, `hardware_config.slurm.qos: "root" is not allowed`},
		{`{"slurm": {"cpus_per_task": 5}}`, "hardware_config.slurm.cpus_per_task: 5 is not between 1 and 4"},
		{`{"slurm": {"cpus_per_task": 0}}`, "is not between 1 and 4"},
		{`{"slurm": {"partition": "other"}}`, `hardware_config.slurm: json: unknown field "partition"`},
		{`[1]`, "hardware_config: not a JSON object"},
	} {
		_, err := p.request(json.RawMessage(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestSbatchArgs(t *testing.T) {
	args := sbatchArgs(slurmRequest{Partition: "p", Account: "a", QOS: "q", Gres: "chip:1", CPUsPerTask: 2},
		Limits{WallClock: 61 * time.Second, Memory: 3<<20 + 1}, "nmp-1-1", "/w", "/j/slurm.log", 999, 995)
	for _, want := range []string{"--partition=p", "--account=a", "--qos=q", "--gres=chip:1", "--cpus-per-task=2", "--time=2", "--mem=4M",
		"--uid=999", "--gid=995", "--chdir=/w", "--output=/j/slurm.log", "--export=NONE", "--no-requeue", "--job-name=nmp-1-1"} {
		if !slices.Contains(args, want) {
			t.Errorf("sbatch args lack %s: %v", want, args)
		}
	}
}

// The batch script passes the command and the environment literally: no
// word of a job's command is ever interpreted by the shell.
func TestBatchScript(t *testing.T) {
	dir := t.TempDir()
	w := &Worker{cfg: Config{Name: "w"}}
	j := &provider.Job{Job: nmpi.Job{ID: 7}}
	r := &jobRun{w: w, job: j, work: dir, command: []string{"/bin/sh", "-c", `echo "$1|$A"; pwd`, "x", "it's $(id) `id` \"q\" \\ *"}}
	script := batchScript(r, []string{"PATH=/usr/bin:/bin", "A=b'c $HOME"})
	path := filepath.Join(t.TempDir(), "job.sh")
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", path)
	cmd.Env = []string{"SLURM_JOB_ID=12", "SECRET=leak"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s\n%s", err, out, script)
	}
	want := "it's $(id) `id` \"q\" \\ *|b'c $HOME\n" + dir + "\n"
	if string(out) != want {
		t.Fatalf("script output %q, want %q\n%s", out, want, script)
	}
	if strings.Contains(script, "SECRET") {
		t.Fatal("the script passes the worker's environment")
	}
}

func TestParseScontrol(t *testing.T) {
	j := parseScontrol("JobId=5 JobName=nmp-2-1 UserId=nmp-job(999) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 RunTime=1-02:03:04 TimeLimit=00:01:00 NodeList=vm BatchHost=vm\n")
	if j.State != "TIMEOUT" || j.Reason != "TimeLimit" || j.Exit != 0 || j.Signal != 15 || j.RunTime != 26*time.Hour+3*time.Minute+4*time.Second || j.NodeList != "vm" || !j.done() {
		t.Fatalf("%+v", j)
	}
	if j := parseScontrol("JobId=6 JobState=RUNNING Reason=None ExitCode=0:0 RunTime=00:00:03 NodeList=(null)"); j.done() || j.Reason != "" || j.NodeList != "" || j.RunTime != 3*time.Second {
		t.Fatalf("%+v", j)
	}
}

func FuzzSlurmRequest(f *testing.F) {
	f.Add([]byte(`{"slurm": {"gres": "chip:2", "qos": "high", "cpus_per_task": 3}}`))
	f.Add([]byte(`{"slurm": null}`))
	f.Add([]byte(`{"slurm": {"gres": 1}}`))
	p := SlurmPlatform{Partition: "bss2", Gres: "chip:1", AllowedGres: []string{"chip:2"}, AllowedQOS: []string{"high"}, MaxCPUsPerTask: 4}
	f.Fuzz(func(t *testing.T, hc []byte) {
		q, err := p.request(json.RawMessage(hc))
		if err != nil {
			return
		}
		// Whatever a job asks, it gets only allowed values.
		if q.Gres != "chip:1" && q.Gres != "chip:2" || q.QOS != "" && q.QOS != "high" || q.CPUsPerTask < 1 || q.CPUsPerTask > 4 || q.Partition != "bss2" {
			t.Fatalf("%s gave %+v", hc, q)
		}
	})
}

func FuzzParseSlurmConfig(f *testing.F) {
	f.Add([]byte(`{"poll": "1s", "platforms": {"Demo": {"partition": "cpu", "allowed_gres": ["chip:2"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseSlurmConfig(data)
		if err != nil {
			return
		}
		for _, p := range c.Platforms {
			for _, v := range append([]string{p.Partition, p.Account, p.QOS, p.Gres, p.Constraint}, append(p.AllowedGres, p.AllowedQOS...)...) {
				if strings.HasPrefix(v, "-") || strings.ContainsAny(v, " \n\t;'\"$`") {
					t.Fatalf("accepted %q", v)
				}
			}
		}
	})
}

func FuzzParseScontrol(f *testing.F) {
	f.Add("JobId=5 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15 RunTime=1-02:03:04 NodeList=vm")
	f.Add("RunTime=999999999999999999:9:9")
	f.Add("RunTime=-5-1:1")
	f.Fuzz(func(t *testing.T, line string) {
		j := parseScontrol(line)
		if j.RunTime < 0 {
			t.Fatalf("negative run time from %q", line)
		}
	})
}
