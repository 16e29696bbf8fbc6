package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// python2Converter converts, in place, the .py files of the working
// directory that Python 3 cannot compile, with lib2to3 (in Debian 12's
// Python 3.11), and prints what it did as one JSON line. It runs as the
// job's user in the job's sandbox, under its limits: it parses code the job
// brought, which must not be parsed with the worker's privileges.
const python2Converter = `
import json, os, warnings
# lib2to3 warns that it is deprecated; it is still the converter Python 3.11 ships.
warnings.simplefilter("ignore")
from lib2to3 import refactor

def syntax_error(path):
    try:
        with open(path, "rb") as f:
            compile(f.read(), path, "exec", dont_inherit=True)
    except SyntaxError as e:
        return "%s (line %s)" % (e.msg, e.lineno)
    except (ValueError, OSError):
        pass  # not a syntax matter: Python says what it is when the job runs
    return None

# Python 2 allowed None as an attribute name, and BrainScaleS-1's scripts
# use it (PyMarocco.None, Defects.Backend.None); lib2to3 keeps it. As a last
# step it becomes None_, the name nmp's front ends give those attributes.
def fix_none_attributes(path):
    import io, tokenize
    try:
        with open(path, "rb") as f:
            toks = list(tokenize.tokenize(io.BytesIO(f.read()).readline))
    except (tokenize.TokenError, SyntaxError, OSError):
        return False
    changed = False
    for i, t in enumerate(toks):
        if t.type == tokenize.NAME and t.string == "None" and i > 0 and toks[i-1].type == tokenize.OP and toks[i-1].string == ".":
            toks[i] = t._replace(string="None_")
            changed = True
    if changed:
        with open(path, "wb") as f:
            f.write(tokenize.untokenize(toks))
    return changed

# A script that compiles under Python 3 may still count on Python 2's
# semantics: zip, map, filter, range and dict.keys() returning lists
# (np.array(zip(a, b))), and execfile. These fixers only turn such calls into
# lists (and execfile into exec), which is harmless where the script was
# written for Python 3; the fixers that
# would change valid Python 3 (print, input, next, ...) are left out.
SEMANTIC = ["dict", "filter", "map", "zip", "xrange", "has_key", "itertools", "execfile",
            "itertools_imports", "basestring", "long", "raw_input"]

todo, valid = [], []
for root, dirs, files in os.walk("."):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    for name in sorted(files):
        path = os.path.join(root, name)[2:]
        if name.endswith(".py") and not os.path.islink(path):
            (todo if syntax_error(path) else valid).append(path)
converted, adapted, failed = [], [], []
if valid:
    tool = refactor.RefactoringTool(["lib2to3.fixes.fix_" + f for f in SEMANTIC])
    for path in valid:
        try:
            with open(path, "rb") as f:
                before = f.read()
            tool.refactor_file(path, write=True)
            with open(path, "rb") as f:
                after = f.read()
        except Exception:
            continue  # left as it is: it compiles, and Python says the rest when it runs
        if after != before:
            if syntax_error(path):
                with open(path, "wb") as f:
                    f.write(before)
            else:
                adapted.append(path)
if todo:
    tool = refactor.RefactoringTool(refactor.get_fixers_from_package("lib2to3.fixes"))
    for path in todo:
        try:
            tool.refactor_file(path, write=True)
        except Exception as e:
            failed.append({"file": path, "error": str(e)})
            continue
        err = syntax_error(path)
        if err and fix_none_attributes(path):
            err = syntax_error(path)
        if err:
            failed.append({"file": path, "error": err})
        else:
            converted.append(path)
print(json.dumps({"converted": converted, "adapted": adapted, "failed": failed}))
`

// python2Result is what python2Converter reports.
type python2Result struct {
	Converted []string `json:"converted"`
	// Adapted are files that compile under Python 3 in which calls that
	// returned lists in Python 2 (zip, map, dict.keys(), ...) were made to.
	Adapted []string `json:"adapted"`
	Failed  []struct {
		File  string `json:"file"`
		Error string `json:"error"`
	} `json:"failed"`
}

// convertPython2 runs python2Converter on the job's working directory, for
// platforms whose row asks for it, and says in the log which files it converted.
func (r *jobRun) convertPython2(ctx context.Context) error {
	if !r.sys.Python2 {
		return nil
	}
	var out boundedBuffer
	out.max = 1 << 20
	env := append(r.env(), "PYTHONDONTWRITEBYTECODE=1")
	// -I: the job's files must not shadow the standard library the converter imports.
	res, err := r.runTo(ctx, []string{r.w.cfg.Python, "-I", "-c", python2Converter}, env, r.limits, true, &out)
	if err != nil {
		return err
	}
	text := out.String()
	var got python2Result
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if res.Reason != "" || res.ExitCode != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &got) != nil {
		r.log.printf("python 2: lib2to3 failed:\n%s", strings.TrimSpace(text))
		what := fmt.Sprintf("exit status %d", res.ExitCode)
		if res.Reason != "" {
			what = "its " + res.Reason + " limit was reached"
		}
		return userErrorf("converting the job's Python 2 scripts with lib2to3 failed (%s); the log has Python's message", what)
	}
	r.prov["python2"] = map[string]any{"tool": "lib2to3", "converted": got.Converted, "adapted": got.Adapted, "failed": got.Failed}
	if len(got.Converted) > 0 {
		r.log.printf("python 2: converted to Python 3 with lib2to3 (Python 3 could not compile them): %s", strings.Join(got.Converted, ", "))
	}
	if len(got.Adapted) > 0 {
		r.log.printf("python 2: made zip, map, filter, range and dict views return lists as in Python 2 (lib2to3's fixers for them) in: %s", strings.Join(got.Adapted, ", "))
	}
	for _, f := range got.Failed {
		r.log.printf("python 2: %s could not be converted to Python 3: %s", f.File, f.Error)
	}
	if len(got.Converted)+len(got.Adapted)+len(got.Failed) == 0 {
		r.log.printf("python 2: every .py file compiles under Python 3; none converted")
	}
	return nil
}

// boundedBuffer keeps the first max bytes written to it.
type boundedBuffer struct {
	bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
