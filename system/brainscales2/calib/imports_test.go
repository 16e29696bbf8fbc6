package calib_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports: the calibration's own files import the standard library and
// nmp's random streams, nothing else: not the emulation (system/...), not
// the engine.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		n++
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if strings.Contains(p, ".") && p != "github.com/nmp-platform/nmp/internal/rng" {
				t.Errorf("%s imports %s: the calibration may import only the standard library and internal/rng", f, p)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d source files found", n)
	}
}
