package brainscales1

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseRedman(f *testing.F) {
	f.Add("<redman><neurons>3 17 300</neurons><drivers>12,13</drivers></redman>")
	f.Add("<redman><neurons>x</neurons></redman>")
	f.Add("<a><b><c/></b></a>")
	f.Add(boostArchive("Hicann", map[string][]int{"neurons": {3}, "synapses": {9}}, nil, map[string]bool{"neurons": true}))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		rd, err := parseRedman(strings.NewReader(s))
		if err != nil {
			return
		}
		d := newDefects()
		_ = d.apply(0, rd.comps) // out-of-range Enums are errors, never panics
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

// boostArchive writes a blacklist as redman's XML backend does (a boost
// serialization archive): the resource's element with one manager per
// component, each a selection of items and a hasvalue flag. Enums of grid
// coordinates go in item/e/value, others in item/value.
func boostArchive(kind string, comps map[string][]int, noValue map[string]bool, grid map[string]bool) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" ?>\n<!DOCTYPE boost_serialization>\n")
	b.WriteString("<boost_serialization signature=\"serialization::archive\" version=\"18\">\n<data class_id=\"0\" tracking_level=\"0\" version=\"1\">\n")
	b.WriteString("\t<px class_id=\"1\" class_name=\"redman::resources::" + kind + "WithBackend\" tracking_level=\"1\" version=\"1\" object_id=\"_0\">\n")
	b.WriteString("\t\t<" + kind + " class_id=\"2\" tracking_level=\"1\" version=\"3\" object_id=\"_1\">\n\t\t\t<Base class_id=\"3\" tracking_level=\"0\" version=\"0\"></Base>\n")
	names := make([]string, 0, len(comps))
	for n := range comps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString("\t\t\t<" + n + " tracking_level=\"0\" version=\"1\">\n\t\t\t\t<px tracking_level=\"1\" version=\"1\">\n")
		b.WriteString("\t\t\t\t\t<predicate tracking_level=\"0\" version=\"0\"></predicate>\n\t\t\t\t\t<selection tracking_level=\"0\" version=\"0\">\n")
		b.WriteString("\t\t\t\t\t\t<count>" + itoa(len(comps[n])) + "</count>\n\t\t\t\t\t\t<item_version>0</item_version>\n")
		for _, e := range comps[n] {
			if grid[n] {
				b.WriteString("\t\t\t\t\t\t<item><x><value>0</value></x><y><value>0</value></y><e><value>" + itoa(e) + "</value></e></item>\n")
			} else {
				b.WriteString("\t\t\t\t\t\t<item><value>" + itoa(e) + "</value></item>\n")
			}
		}
		hv := "1"
		if noValue[n] {
			hv = "0"
		}
		b.WriteString("\t\t\t\t\t</selection>\n\t\t\t\t\t<hasvalue>" + hv + "</hasvalue>\n\t\t\t\t</px>\n\t\t\t</" + n + ">\n")
	}
	b.WriteString("\t\t</" + kind + ">\n\t\t<id><value>33</value></id>\n\t</px>\n</data>\n</boost_serialization>\n")
	return b.String()
}

// TestRedmanBoostArchives: redman's own files, under its own names.
func TestRedmanBoostArchives(t *testing.T) {
	dir := t.TempDir()
	h, g := enumOf(5, 5), enumOf(6, 5)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hicann-Wafer(33)-Enum("+itoa(h)+").xml", boostArchive("Hicann", map[string][]int{"neurons": {3, 256}, "drivers": {7},
		"dnc_merger": {2}, "synapses": {5 * 256}, "merger0": {1}, "fgblocks": nil}, nil, map[string]bool{"neurons": true, "synapses": true}))
	write("hicann-Wafer(33)-Enum("+itoa(g)+").xml", boostArchive("Hicann", map[string][]int{"neurons": nil, "drivers": nil}, map[string]bool{"neurons": true}, nil))
	write("wafer-Wafer(33).xml", boostArchive("Wafer", map[string][]int{"hicanns": {enumOf(18, 7)}, "fpgas": nil}, nil, nil))
	d, err := readRedman(dir, 33)
	if err != nil {
		t.Fatal(err)
	}
	if !d.denmem(h, 3, 0) || !d.denmem(h, 0, 1) || d.denmem(h, 4, 0) || !d.driver(h, 7) || !d.merger(h, 2) || !d.synapse(h, 5, 0) || d.synapse(h, 5, 1) {
		t.Fatal("components not read as written")
	}
	if !d.hicann[enumOf(18, 7)] || d.missing[h] || !d.missing[g] || !d.missing[0] {
		t.Fatalf("wafer: disabled %v; missing h %v, g (neurons without value) %v, 0 (no file) %v", d.hicann[enumOf(18, 7)], d.missing[h], d.missing[g], d.missing[0])
	}
	for name, text := range map[string]string{
		"count 2, but 1 items":   strings.Replace(boostArchive("Hicann", map[string][]int{"drivers": {7}}, nil, nil), "<count>1<", "<count>2<", 1),
		"not a redman component": boostArchive("Hicann", map[string][]int{"gadgets": {1}}, nil, nil),
		"out of range":           boostArchive("Hicann", map[string][]int{"drivers": {224}}, nil, nil),
		"no Hicann, Wafer":       "<boost_serialization><data><px><Other/></px></data></boost_serialization>",
	} {
		write("hicann-Wafer(33)-Enum("+itoa(h)+").xml", text)
		if _, err := readRedman(dir, 33); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("want %q: %v", name, err)
		}
	}
}
