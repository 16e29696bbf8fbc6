package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/nmp-platform/nmp/"

// allowed maps a package (or, ending in "/", every package under a directory)
// to the nmp packages it may import (the same prefix rule). Every package of
// the module must match a rule: a new room is a decision, written here and in
// docs/architecture.md.
var allowed = map[string][]string{
	// Leaves.
	"npy":       nil,
	"nmpi":      nil,
	"platform":  nil,
	"store":     nil,
	"internal/": {"internal/", "nmpi"},

	// The simulation side: description, kernel, results, systems.
	"network":   {"npy", "internal/"},
	"engine":    {"network", "internal/"},
	"results":   {"engine", "network", "npy"},
	"system":    {"engine", "network", "results", "npy", "internal/"},
	"system/":   {"system", "engine", "network", "results", "npy", "internal/"},
	"simserver": {"system", "engine", "network", "results", "npy", "internal/"},

	// The platform side.
	"store/":   {"store", "store/"},
	"identity": {"store"},
	"notify":   {"store"},
	"queue":    {"platform", "identity", "store"},
	"api":      {"platform", "nmpi", "identity", "queue", "store", "internal/"},
	"client":   {"nmpi", "internal/"},
	"provider": {"nmpi", "internal/"},
	"worker":   {"platform", "provider", "nmpi", "internal/"},
	"web":      {"platform", "nmpi", "benchmark/compare", "internal/"},
	"ops":      {"store"},
	// The benchmark service: a client of the queue with its own tables.
	"benchmark": {"platform", "client", "nmpi", "identity", "store", "benchmark/compare", "internal/"},
	// One script on several systems, side by side (nmp compare).
	"benchmark/compare": {"npy"},

	// The binary wires everything together.
	"cmd/": {""},
}

// simulationSide may not reach the network, a database or a process: the
// engine and the systems know nothing of HTTP, SQL or Python.
var simulationSide = []string{"npy", "network", "engine", "results", "system", "system/"}
var forbiddenStd = []string{"net/http", "database/sql", "os/exec"}

func match(rule, pkg string) bool {
	if strings.HasSuffix(rule, "/") {
		return strings.HasPrefix(pkg, rule)
	}
	return pkg == rule
}

// sameSystem tells whether a and b are in the room of one system
// (system/<name>/...): a system's packages may import each other, never
// another system's. (Its calibration packages hold themselves to less, in
// their own tests: they see the chip only as the real one is seen.)
func sameSystem(a, b string) bool {
	room := func(p string) string {
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 2 || parts[0] != "system" {
			return ""
		}
		return parts[0] + "/" + parts[1]
	}
	return room(a) != "" && room(a) == room(b)
}

// rule returns the most specific rule for pkg.
func rule(pkg string) (string, bool) {
	best, ok := "", false
	for r := range allowed {
		if match(r, pkg) && (!ok || len(r) > len(best) || (len(r) == len(best) && !strings.HasSuffix(r, "/"))) {
			best, ok = r, true
		}
	}
	return best, ok
}

func TestImports(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	imports := map[string]map[string]bool{} // package -> imports (non-test files)
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "python" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			imports[pkg][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s", len(imports), root)
	}
	for pkg, imps := range imports {
		r, ok := rule(pkg)
		if !ok {
			t.Errorf("%s: no rule in allowed (add the room here and to docs/architecture.md)", pkg)
			continue
		}
		for imp := range imps {
			if after, ok := strings.CutPrefix(imp, module); ok {
				if after == pkg || strings.HasPrefix(after, pkg+"/internal") || sameSystem(pkg, after) {
					continue
				}
				if !slices.ContainsFunc(allowed[r], func(a string) bool { return a == "" || match(a, after) }) {
					t.Errorf("%s imports %s, which its room (%q) may not", pkg, after, r)
				}
				continue
			}
			if slices.ContainsFunc(simulationSide, func(s string) bool { return match(s, pkg) }) && slices.Contains(forbiddenStd, imp) {
				t.Errorf("%s imports %s: the simulation side knows nothing of HTTP, SQL or processes", pkg, imp)
			}
		}
	}
}
