package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/platform"
)

// scriptPython2 is what the seed documents' BrainScaleS-1 and Spikey
// scripts look like: print statements, xrange, zip used as a list, has_key.
const scriptPython2 = `import sys
d = {"a": 1}
if d.has_key("a"):
    print "has a"
total = 0
for i in xrange(5):
    total += i
print "total", total
pairs = zip([1, 2, 3], "abc")
print "first pair", pairs[0]
print "backend", sys.argv[1]
`

// scriptPython3 prints the digest of its own file, to show it ran untouched.
const scriptPython3 = `import hashlib, sys
print("sha256", hashlib.sha256(open(sys.argv[0], "rb").read()).hexdigest())
`

// TestWorkerPython2 runs Python 2 scripts on a platform whose row converts
// them, a Python 3 script there, and a Python 2 script on Demo, which does not.
func TestWorkerPython2(t *testing.T) {
	tab := append(platform.Default(), platform.Platform{Name: "Py2Test", Units: "hours", TestGrant: 1, Reservation: 0.001,
		Backend: "nmp", System: "reference", Usage: platform.WallClockHours, Python2: true})
	p := newTestPlatformOf(t, time.Minute, tab)
	p.start(p.worker(func(c *Config) {
		c.PlatformTable, c.Platforms, c.Slots = tab, []string{"Py2Test", "Demo"}, 3
	}))
	py2 := p.submit(map[string]any{"code": scriptPython2, "hardware_platform": "Py2Test"})
	py3 := p.submit(map[string]any{"code": scriptPython3, "hardware_platform": "Py2Test"})
	demo := p.submit(map[string]any{"code": scriptPython2, "hardware_platform": "Demo"})

	j := p.wait(py2, "end", nil)
	log := logOf(j)
	t.Logf("log:\n%s", log)
	for _, want := range []string{"[nmp worker] python 2: converted to Python 3 with lib2to3 (Python 3 could not compile them): run.py\n",
		"has a\n", "total 10\n", "first pair (1, 'a')\n", "backend nmp\n"} {
		if !strings.Contains(log, want) {
			t.Fatalf("Python 2 on Py2Test: no %q; status %s, log:\n%s", want, j.Status, log)
		}
	}
	if j.Status != "finished" || strings.Contains(log, "Warning") {
		t.Fatalf("Python 2 on Py2Test: status %s, log:\n%s", j.Status, log)
	}
	if py, _ := j.Provenance["python2"].(map[string]any); fmt.Sprint(py["converted"]) != "[run.py]" || py["tool"] != "lib2to3" {
		t.Fatalf("provenance python2: %v", j.Provenance["python2"])
	}

	j = p.wait(py3, "end", nil)
	log = logOf(j)
	sum := sha256.Sum256([]byte(scriptPython3))
	if j.Status != "finished" || !strings.Contains(log, "sha256 "+hex.EncodeToString(sum[:])+"\n") ||
		!strings.Contains(log, "python 2: every .py file compiles under Python 3; none converted") || strings.Contains(log, "converted to Python 3") {
		t.Fatalf("Python 3 on Py2Test: status %s, log:\n%s", j.Status, log)
	}

	j = p.wait(demo, "end", nil)
	log = logOf(j)
	if j.Status != "error" || !strings.Contains(log, "SyntaxError") || strings.Contains(log, "python 2:") {
		t.Fatalf("Python 2 on Demo: status %s, log:\n%s", j.Status, log)
	}
}

// TestPython2ConverterNoneAttribute runs the converter on a BrainScaleS-1
// style script: after lib2to3, attributes named None (which Python 3
// refuses) become None_, and nothing else changes.
func TestPython2ConverterNoneAttribute(t *testing.T) {
	dir := t.TempDir()
	src := "class M:\n    None_ = 7\n    class B:\n        None_ = 8\nm = M()\nm.backend = M.None\nprint m.backend, M.B.None, None\n"
	if err := os.WriteFile(filepath.Join(dir, "s.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", python2Converter)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"converted": ["s.py"]`) {
		t.Fatalf("converter: %v %s", err, out)
	}
	run := exec.Command("/usr/bin/python3", "s.py")
	run.Dir = dir
	got, err := run.CombinedOutput()
	if err != nil || string(got) != "7 8 None\n" {
		t.Fatalf("converted script: %v %q", err, got)
	}
}

// TestPython2ConverterSemantics runs the converter on a script that compiles
// under Python 3 but counts on Python 2's list-returning zip and dict.keys()
// (as the Spikey school's stp.py does) and on execfile (as the BrainScaleS-1
// platform demo's ess/run.py does): it is adapted and runs, while a
// Python 3 script whose print and next() calls lib2to3 would break stays as
// it is.
func TestPython2ConverterSemantics(t *testing.T) {
	dir := t.TempDir()
	semantic := "import sys\nexecfile('helper.py')\npairs = zip([1, 2], [3, 4])\nkeys = {'a': 1}.keys()\nsys.stdout.write('%s %s %s %s\\n' % (pairs[1], keys[0], range(3)[2], HELPER))\n"
	py3 := "class R:\n    def next(self):\n        return 5\nr = R()\nprint('x', r.next(), sep='=')\n"
	for name, src := range map[string]string{"stp.py": semantic, "py3.py": py3, "helper.py": "HELPER = 'h'\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("/usr/bin/python3", "-c", python2Converter)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"adapted": ["stp.py"]`) || !strings.Contains(string(out), `"converted": []`) {
		t.Fatalf("converter: %v %s", err, out)
	}
	for name, want := range map[string]string{"stp.py": "(2, 4) a 2 h\n", "py3.py": "x=5\n"} {
		run := exec.Command("/usr/bin/python3", name)
		run.Dir = dir
		got, err := run.CombinedOutput()
		if err != nil || string(got) != want {
			t.Fatalf("%s after the converter: %v %q, want %q", name, err, got, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "py3.py")); string(b) != py3 {
		t.Fatalf("py3.py was changed:\n%s", b)
	}
}
