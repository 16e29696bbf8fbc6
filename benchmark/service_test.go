package benchmark

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

func TestDescribeChange(t *testing.T) {
	a := Fingerprint("nmp", "v1", "system", "brainscales2", "chip", "hx-0")
	b := Fingerprint("nmp", "v1", "system", "brainscales2", "chip", "hx-7")
	if got := describeChange(a, b); got != "chip hx-0 -> hx-7" {
		t.Errorf("%q", got)
	}
	if got := describeChange("", a); !strings.HasPrefix(got, "first seen") {
		t.Errorf("%q", got)
	}
	if got := describeChange(a, Fingerprint("nmp", "v2", "system", "brainscales2", "chip", "hx-0")); got != "nmp v1 -> v2" {
		t.Errorf("%q", got)
	}
}

func tarGz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestSuiteFromArchive(t *testing.T) {
	suite := `[{"model": {"name": "M"}, "tasks": [{"name": "t", "command": "run.py {system}"}]}]`
	for _, files := range []map[string]string{
		{"benchmarks.json": suite, "run.py": ""},
		{"repo-main/benchmarks.json": suite, "repo-main/run.py": ""}, // GitHub's archives
	} {
		s, err := suiteFromArchive(tarGz(t, files))
		if err != nil || s.Models[0].Name != "M" {
			t.Errorf("%v: %v", files, err)
		}
	}
	if _, err := suiteFromArchive(tarGz(t, map[string]string{"a/benchmarks.json": suite, "b/x": ""})); err == nil || !strings.Contains(err.Error(), "no benchmarks.json at its top") {
		t.Errorf("two top directories: %v", err)
	}
	if _, err := suiteFromArchive([]byte("not gzip")); err == nil {
		t.Error("not an archive, accepted")
	}
}
