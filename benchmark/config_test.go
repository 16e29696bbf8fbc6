package benchmark

import (
	"strings"
	"testing"
)

// The guidebook's example (chapter 7.1.1), with the public repository's
// "target" key.
const guidebookSuite = `[
  {"model": {"name": "IF_cond_exp", "description": "A population of IF neurons, each injected with a different current"},
   "tasks": [{"name": "I_f_curve", "command": "run_I_f_curve.py {system}", "target": ["SpiNNaker", "BrainScaleS"]}]},
  {"model": {"name": "SpikeSourcePoisson", "description": "Random spike sources"},
   "tasks": [{"name": "run20s", "command": "run_spike_train_statistics.py {system}"},
             {"name": "restricted", "command": "run.py --option1={system=spiNNaker,nest} a"},
             {"name": "lowlevel", "command": "hw_test.py --wafer 33", "target": ["BrainScaleS-2"]}]}
]`

var here = []Platform{{Name: "Demo", Backend: "nmp"}, {Name: "BrainScaleS-2", Backend: "brainscales2"}, {Name: "SpiNNaker", Backend: "spiNNaker"}}

func TestParseSuite(t *testing.T) {
	s, err := ParseSuite([]byte(guidebookSuite))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Models) != 2 || s.Models[0].Name != "IF_cond_exp" || len(s.Models[1].Tasks) != 3 || s.Models[0].Tasks[0].Target[1] != "BrainScaleS" {
		t.Fatalf("%+v", s)
	}
	planned, skipped := Expand(s, here)
	got := map[string]bool{}
	for _, p := range planned {
		got[p.Task+"@"+p.Platform] = true
	}
	want := []string{"I_f_curve@Demo", "I_f_curve@BrainScaleS-2", "I_f_curve@SpiNNaker", "run20s@Demo", "run20s@BrainScaleS-2", "run20s@SpiNNaker",
		"restricted@SpiNNaker", "lowlevel@BrainScaleS-2"}
	if len(planned) != len(want) || len(skipped) != 0 {
		t.Fatalf("planned %v, skipped %v", planned, skipped)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %s in %v", w, planned)
		}
	}
	// Without SpiNNaker the restricted task runs nowhere, and says why.
	_, skipped = Expand(s, here[:2])
	if len(skipped) != 1 || skipped[0].Task != "restricted" || !strings.Contains(skipped[0].Reason, "spiNNaker, nest") {
		t.Fatalf("skipped %+v", skipped)
	}
	// only restricts to platforms.
	planned, _ = Expand(s, here, "Demo")
	for _, p := range planned {
		if p.Platform != "Demo" {
			t.Fatalf("only Demo: %+v", p)
		}
	}
}

func TestParseSuiteErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "must be a JSON list"},
		{`{}`, "must be a JSON list"},
		{`[]`, "lists no models"},
		{`[{"tasks": []}]`, `entry 0: no "model"`},
		{`[{"model": {"description": "x"}, "tasks": []}]`, "entry 0: model: no name"},
		{`[{"model": {"name": 3}, "tasks": []}]`, "entry 0: model: name: a JSON number where a string belongs"},
		{`[{"model": {"name": "A"}, "tasks": []}]`, `entry 0 (model "A"): no tasks`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "run.py {system}"}]}, {"model": {"name": "A"}, "tasks": [{"name": "t", "command": "x {system}"}]}]`, `entry 1 (model "A"): the model is listed twice (also entry 0)`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": ""}]}]`, `task "t": command: empty`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "run.py"}]}]`, `task "t": command: no {system} placeholder`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "run.py {system"}]}]`, `malformed placeholder`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "run.py {system=}"}]}]`, `{system=} lists no backends`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "a {system}"}, {"name": "t", "command": "b {system}"}]}]`, `task "t": listed twice`},
		{`[{"model": {"name": "A"}, "tasks": [{"command": "a {system}"}]}]`, `tasks[0]: name: empty`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "a {system}", "target": "SpiNNaker"}]}]`, `tasks[0]: target: a JSON string where a list belongs`},
		{`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "a\n{system}"}]}]`, `more than one line`},
		{`[{"model": {"name": "A\u0001"}, "tasks": []}]`, `control character`},
		{`[1] x`, `must be a JSON list`},
	} {
		_, err := ParseSuite([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant ...%s...", tc.in, err, tc.want)
		}
	}
	if _, err := ParseSuite([]byte("[" + strings.Repeat(" ", MaxConfigBytes) + "]")); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("oversized: %v", err)
	}
}

func TestSkipCI(t *testing.T) {
	for msg, want := range map[string]bool{"docs only [skip ci]": true, "[CI SKIP] typo": true, "fix\n\n[ci skip]": true, "skip ci": false, "run it": false} {
		if SkipCI(msg) != want {
			t.Errorf("SkipCI(%q) = %v", msg, !want)
		}
	}
}

func TestCheckGitURL(t *testing.T) {
	for _, u := range []string{"https://github.com/CNRS-UNIC/hardware-benchmarks", "git://host/x.git", "http://host/x"} {
		if err := checkGitURL(u, false); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"/srv/repo", "file:///srv/repo", "ssh://host/x", "-uhack", "ext::sh -c x", "https:///x", ""} {
		if err := checkGitURL(u, false); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if err := checkGitURL("/srv/repo", true); err != nil {
		t.Error(err)
	}
}

func FuzzParseSuite(f *testing.F) {
	f.Add([]byte(guidebookSuite))
	f.Add([]byte(`[{"model": {"name": "A"}, "tasks": [{"name": "t", "command": "run.py {system=a,b} {system}"}]}]`))
	f.Add([]byte(`[{"model": null, "tasks": null}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite(data)
		if err != nil {
			if s != nil {
				t.Fatal("a suite with an error")
			}
			return
		}
		n := 0
		for _, m := range s.Models {
			if checkName(m.Name) != nil || len(m.Tasks) == 0 {
				t.Fatalf("accepted a bad model %+v", m)
			}
			for _, tk := range m.Tasks {
				n++
				if checkCommand(&tk) != nil {
					t.Fatalf("accepted a bad command %q", tk.Command)
				}
			}
		}
		if n > MaxTasks {
			t.Fatalf("%d tasks", n)
		}
		planned, _ := Expand(s, here)
		for _, p := range planned {
			if p.Command == "" || p.Platform == "" {
				t.Fatalf("bad run %+v", p)
			}
		}
	})
}
