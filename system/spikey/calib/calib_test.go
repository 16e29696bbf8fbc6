package calib

import (
	"go/parser"
	"go/token"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestSeesOnlyTheChipsInterface holds the package to its promise: it
// imports nothing but the standard library's arithmetic and formatting
// (in particular nothing of the emulation, whose fixed-pattern noise it
// must measure rather than read), and Chip offers only what the real
// system offers its calibration software.
func TestSeesOnlyTheChipsInterface(t *testing.T) {
	allowed := map[string]bool{"errors": true, "fmt": true, "math": true, "sort": true, "time": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s: the calibration may see the chip only through Chip", name, path)
			}
		}
	}
	if files == 0 {
		t.Fatal("no source files found")
	}
	var methods []string
	ct := reflect.TypeOf((*Chip)(nil)).Elem()
	for i := 0; i < ct.NumMethod(); i++ {
		methods = append(methods, ct.Method(i).Name)
	}
	sort.Strings(methods)
	if got := strings.Join(methods, " "); got != "ReadCell ReadReference Run Station" {
		t.Errorf("Chip offers %s; a change here must stay within what the real chip exposes (and this test says so)", got)
	}
}

// TestFitCharging fits a known charging curve with a known threshold.
func TestFitCharging(t *testing.T) {
	const dt, tau, rest, reset, thresh, ref = 0.1, 7.3, -45.0, -80.0, -55.0, 1.0
	var v, spikes []float64
	x, refr := rest, 0
	for k := 0; k < 3000; k++ {
		if refr > 0 {
			refr--
			x = reset
		} else {
			x += (rest - x) * (1 - math.Exp(-dt/tau))
		}
		v = append(v, x)
		if x >= thresh {
			spikes = append(spikes, float64(k+1)*dt)
			x, refr = reset, int(ref/dt)
		}
	}
	got, th, ok := fitCharging(v, dt, spikes, 10)
	t.Logf("tau %.4f ms (true %g), threshold %.3f mV (true %g), %d spikes", got, tau, th, thresh, len(spikes))
	if !ok || math.Abs(got-tau) > 0.05 || math.Abs(th-thresh) > 0.5 {
		t.Errorf("fit gave tau %g, threshold %g (ok %v)", got, th, ok)
	}
	l, err := fitLine([]float64{1, 2, 3}, []float64{3, 5, 7})
	if err != nil || math.Abs(l.Gain-2) > 1e-12 || math.Abs(l.Offset-1) > 1e-12 || math.Abs(l.Inverse(5)-2) > 1e-12 {
		t.Errorf("line %+v, %v", l, err)
	}
}
