package brainscales1

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseRedman(f *testing.F) {
	f.Add("<redman><neurons>3 17 300</neurons><drivers>12,13</drivers></redman>")
	f.Add("<redman><neurons>x</neurons></redman>")
	f.Add("<a><b><c/></b></a>")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		comps, err := parseRedman(strings.NewReader(s))
		if err != nil {
			return
		}
		d := newDefects()
		_ = d.apply(0, comps) // out-of-range Enums are errors, never panics
	})
}

func TestRedmanXML(t *testing.T) {
	dir := t.TempDir()
	h := enumOf(5, 5)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hicann-33-"+itoa(h)+".xml", "<redman><neurons>0 256</neurons><drivers>4</drivers><synapses>1</synapses></redman>")
	write("wafer-33.xml", "<redman><hicanns>"+itoa(enumOf(18, 7))+"</hicanns></redman>")
	d, err := readRedman(dir, 33)
	if err != nil {
		t.Fatal(err)
	}
	if !d.denmem(h, 0, 0) || !d.denmem(h, 0, 1) || d.denmem(h, 1, 0) || !d.driver(h, 4) || !d.hicann[enumOf(18, 7)] || !d.missing[0] || d.missing[h] {
		t.Fatal("defects not read as written")
	}
	write("hicann-33-"+itoa(h)+".xml", "<redman><neurons>512</neurons></redman>")
	if _, err := readRedman(dir, 33); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("err = %v", err)
	}
	// a placement on a denmem pair with a defect moves to the next free one
	write("hicann-33-"+itoa(h)+".xml", "<redman><neurons>0</neurons></redman>")
	d2 := lossNet(t, 1, map[string]any{"backend": "none", "defects": map[string]any{"backend": "xml", "path": dir},
		"skip_hicanns_without_neuron_blacklisting": true, "continue_despite_synapse_loss": true,
		"manual": []any{map[string]any{"population": 0, "hicanns": []int{h}}}})
	m, err := mapDescription(d2)
	if err != nil {
		t.Fatal(err)
	}
	if k := m.pl.of[0][0]; int(m.pl.hicann[k]) != h || m.pl.x[k] != 2 {
		t.Fatalf("first neuron at %s X(%d); want X(2) (denmem 0 is blacklisted)", hicannName(int(m.pl.hicann[k])), m.pl.x[k])
	}
	// the Poisson sources land on a HICANN that has a blacklist file: only h
	if k := m.pl.of[1][0]; int(m.pl.hicann[k]) != h {
		t.Fatalf("sources on %s", hicannName(int(m.pl.hicann[k])))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSkipHICANNsWithoutBlacklist(t *testing.T) {
	dir := t.TempDir()
	h := enumOf(20, 8)
	if err := os.WriteFile(filepath.Join(dir, "hicann-33-"+itoa(h)+".xml"), []byte("<redman></redman>"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := lossNet(t, 1, map[string]any{"backend": "none", "defects": map[string]any{"backend": "xml", "path": dir}, "continue_despite_synapse_loss": true})
	m, err := mapDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 2; p++ {
		for i := 0; i < 50; i++ {
			if got := int(m.pl.hicann[m.pl.of[p][i]]); got != h {
				t.Fatalf("population %d neuron %d on %s; only %s has defect data", p, i, hicannName(got), hicannName(h))
			}
		}
	}
}
