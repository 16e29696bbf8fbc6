package worker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/platform"
)

func TestSplitCommand(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  string
	}{
		{"run.py {system}", []string{"run.py", "{system}"}, ""},
		{"  main.py   --option1=42\t{system} ", []string{"main.py", "--option1=42", "{system}"}, ""},
		{`run.py 'a b' "c \"d\" \\ e" f\ g`, []string{"run.py", "a b", `c "d" \ e`, "f g"}, ""},
		{`x.py ''`, []string{"x.py", ""}, ""},
		{`x.py 'open`, nil, "unterminated single quote"},
		{`x.py "open`, nil, "unterminated double quote"},
		{"   ", nil, "empty"},
	} {
		got, err := splitCommand(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestBuildCommand(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		want []string
		err  string
	}{
		{"", []string{"/py", "run.py", "nmp"}, ""},
		{"main.py --option1=42 {system}", []string{"/py", "main.py", "--option1=42", "nmp"}, ""},
		{"run_I_f_curve.py --plot-figure {system=spiNNaker,nmp}", []string{"/py", "run_I_f_curve.py", "--plot-figure", "nmp"}, ""},
		{"task.py --option1={system} arg1", []string{"/py", "task.py", "--option1=nmp", "arg1"}, ""},
		{"python3 -u run.py {system}", []string{"/py", "-u", "run.py", "nmp"}, ""},
		{"sh run.sh", []string{"sh", "run.sh"}, ""},
		{"lowlevel.py", []string{"/py", "lowlevel.py"}, ""},
		{"run.py {system=spiNNaker,nest}", nil, "restricts the job to the backends spiNNaker, nest, and Demo's backend is nmp"},
	} {
		got, err := buildCommand(c.cmd, "nmp", "Demo", "/py")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.cmd, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.cmd, got, err, c.want)
		}
	}
}

func TestScriptName(t *testing.T) {
	for cmd, want := range map[string]string{"": "run.py", "run.py {system}": "run.py", "main.py --x {system}": "main.py",
		"python3 exp.py": "exp.py", "sh x.sh": "run.py", "../evil.py": "run.py", "sub/x.py": "run.py", "{system}.py": "run.py"} {
		if got := scriptName(cmd); got != want {
			t.Errorf("scriptName(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestEffectiveLimits(t *testing.T) {
	w := Limits{WallClock: time.Hour, CPUTime: time.Hour, Memory: 1 << 30, Output: 1 << 30, Processes: 10}
	got, notes, err := effectiveLimits(w, json.RawMessage(`{"limits": {"wall_clock_s": 60, "memory_mib": 4096}, "other": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.WallClock != time.Minute || got.Memory != 1<<30 || got.CPUTime != time.Hour || len(notes) != 1 || !strings.Contains(notes[0], "memory_mib") {
		t.Fatalf("got %+v, notes %q", got, notes)
	}
	for cfg, msg := range map[string]string{
		`{"limits": {"wall_clock_s": -1}}`:  "wall_clock_s: -1 is not a positive number",
		`{"limits": {"wallclock": 1}}`:      "unknown field",
		`{"limits": {"memory_mib": "big"}}`: "cannot unmarshal",
		`[1]`:                               "not a JSON object",
	} {
		if _, _, err := effectiveLimits(w, json.RawMessage(cfg)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", cfg, err, msg)
		}
	}
	if got, _, err := effectiveLimits(w, nil); err != nil || got != w {
		t.Fatalf("no config: %+v %v", got, err)
	}
}

func TestClassifyCode(t *testing.T) {
	for code, want := range map[string]string{
		"import pyNN.nest as sim\nsim.setup()":                  codeScript,
		"print('http://example.org')":                           codeScript,
		"https://github.com/CNRS-UNIC/hardware-benchmarks":      codeURL,
		"https://github.com/apdavison/nmpi_test.git":            codeGit,
		"git://example.org/x":                                   codeGit,
		"https://example.org/code.zip":                          codeArchive,
		"https://example.org/code.tar.gz?x=1":                   codeArchive,
		"https://example.org/code/0123456789abcdef.tar.gz":      codeArchive,
		"  https://example.org/archive/refs/heads/main.tgz  \n": codeArchive,
	} {
		got, _, err := classifyCode(code)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", code, got, err, want)
		}
	}
	for code, msg := range map[string]string{
		"drive://563/source_code": "no EBRAINS Drive",
		"file:///etc/passwd":      "http, https or git",
		"ssh://git@host/x":        "http, https or git",
		"https:///x.zip":          "no host",
	} {
		if _, _, err := classifyCode(code); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", code, err, msg)
		}
	}
}

func TestSystems(t *testing.T) {
	tab := platform.Default()
	s, err := tab.Get("Demo")
	if err != nil || s.Backend != "nmp" || s.Unavailable != "" {
		t.Fatalf("Demo: %+v %v", s, err)
	}
	if e := tab.Emulated(); !reflect.DeepEqual(e, []string{"BrainScaleS", "BrainScaleS-2", "BrainScaleS-ESS", "Demo", "SpiNNaker", "Spikey"}) {
		t.Fatalf("emulated: %v", e)
	}
	u := tab.Unavailable([]string{"SpiNNaker"})
	if _, ok := u["SpiNNaker"]; ok || u["TestPlatform"] == "" || u["Demo"] != "" || u["BrainScaleS-2"] != "" || u["Spikey"] != "" {
		t.Fatalf("unavailable: %v", u)
	}
	v, units, _ := usage(s, &sandboxResult{WallClock: 36}, nil)
	if units != "hours" || v != 0.01 {
		t.Fatalf("usage %v %s", v, units)
	}
	b, _ := tab.Get("BrainScaleS-2")
	if v, units, _ := usage(b, &sandboxResult{WallClock: 36}, nil); units != "chip-hours" || v != 0.01 || b.DefaultChip == "" {
		t.Fatalf("BrainScaleS-2 usage %v %s, chip %q", v, units, b.DefaultChip)
	}
}

func TestPublicIP(t *testing.T) {
	f := newFetcher("http://127.0.0.1:8080", false, time.Second)
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "127.0.0.1:9090": false, "10.0.0.1:80": false,
		"169.254.169.254:80": false, "[::1]:80": false, "100.64.0.1:80": false, "0.0.0.0:80": false} {
		_, err := f.checkHost(t.Context(), addr)
		if (err == nil) != ok {
			t.Errorf("%s: allowed=%v, want %v (%v)", addr, err == nil, ok, err)
		}
	}
}

// FuzzGitConfigValues: what git config -z answers comes from a user's
// .gitmodules; reading it never fails, and every value it yields is one of
// a record of the wanted key, whole.
func FuzzGitConfigValues(f *testing.F) {
	f.Add([]byte("submodule.lib.url\nhttps://example.org/lib.git\x00submodule.a.b.url\n../rel.git\x00"))
	f.Add([]byte("submodule.x.url\x00\nurl\x00submodule.y.url\nfile:///etc\nmore\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range gitConfigValues(data, ".url") {
			if !bytes.Contains(data, []byte(".url\n"+v)) || strings.Contains(v, "\x00") {
				t.Fatalf("value %q", v)
			}
		}
	})
}

func TestGitConfigValues(t *testing.T) {
	got := gitConfigValues([]byte("submodule.lib.url\nhttps://example.org/lib.git\x00submodule.a.b.url\next::sh -c x\nsecond line\x00submodule.p.path\nlib\x00"), ".url")
	if fmt.Sprintf("%q", got) != `["https://example.org/lib.git" "ext::sh -c x\nsecond line"]` {
		t.Fatalf("%q", got)
	}
}

// FuzzUnescapeMount: mountinfo's escapes are undone without panics, and
// text without a backslash is left alone.
func FuzzUnescapeMount(f *testing.F) {
	f.Add(`/mnt/with\040space`)
	f.Add(`\\\0\777\`)
	f.Fuzz(func(t *testing.T, s string) {
		got := unescapeMount(s)
		if !strings.Contains(s, `\`) && got != s {
			t.Fatalf("%q became %q", s, got)
		}
		if len(got) > len(s) {
			t.Fatalf("%q grew to %q", s, got)
		}
	})
}
