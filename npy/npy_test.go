package npy

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDtypes(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/dtype_*.npy")
	if len(files) < 10 {
		t.Fatalf("testdata missing: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		xs := a.Float64s()
		if strings.Contains(f, "b1") {
			if len(xs) != 3 || xs[0] != 1 || xs[1] != 0 || xs[2] != 1 {
				t.Errorf("%s: got %v", f, xs)
			}
			continue
		}
		if len(xs) != 6 {
			t.Fatalf("%s: got %d elements", f, len(xs))
		}
		for i, x := range xs {
			if x != float64(i) {
				t.Errorf("%s: element %d is %g", f, i, x)
			}
		}
		wantInt := !strings.Contains(f, "f")
		if a.IsInt() != wantInt {
			t.Errorf("%s: IsInt %v", f, a.IsInt())
		}
	}
}

func TestReadShapesAndRefusals(t *testing.T) {
	t.Parallel()
	read := func(name string) (*Array, error) {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return Read(bytes.NewReader(b), int64(len(b)))
	}
	a, err := read("matrix.npy")
	if err != nil || len(a.Shape) != 2 || a.Shape[0] != 3 || a.Shape[1] != 4 || a.Float(11) != 11 {
		t.Errorf("matrix: %v %v", a, err)
	}
	a, err = read("scalar.npy")
	if err != nil || len(a.Shape) != 0 || a.Len() != 1 || a.Float(0) != 2.5 {
		t.Errorf("scalar: %+v %v", a, err)
	}
	if _, err := read("bigendian.npy"); err == nil || !strings.Contains(err.Error(), "big-endian") {
		t.Errorf("big-endian: %v", err)
	}
	if _, err := read("fortran.npy"); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Errorf("fortran: %v", err)
	}
	// A shape claiming more data than the member holds is refused before allocating.
	var buf bytes.Buffer
	writeHeader(&buf, "<f8", []int{1 << 30})
	if _, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil || !strings.Contains(err.Error(), "needs") {
		t.Errorf("oversized shape: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	xs := []float64{1.5, -2, math.Inf(1), 0}
	if err := WriteFloat64(&buf, xs, nil); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%64 != 32 { // header padded so data starts at a multiple of 64
		if (buf.Len()-len(xs)*8)%64 != 0 {
			t.Errorf("data offset %d is not 64-aligned", buf.Len()-len(xs)*8)
		}
	}
	a, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range a.Float64s() {
		if x != xs[i] {
			t.Errorf("element %d: %g != %g", i, x, xs[i])
		}
	}
	buf.Reset()
	if err := WriteInt32(&buf, []int32{7, -1}, []int{2, 1}); err != nil {
		t.Fatal(err)
	}
	a, err = Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || !a.IsInt() || a.Int(0) != 7 || a.Int(1) != -1 || len(a.Shape) != 2 {
		t.Errorf("int32: %+v %v", a, err)
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Float64("a/x", []float64{1, 2, 3, 4, 5, 6}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Int32("ids", []int32{3, -4}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Array("big", Int64Array([]int64{1 << 40})); err != nil {
		t.Fatal(err)
	}
	f, err := w.Create("doc.json", true)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(`{"k":1}`))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	arrays, other, err := ReadArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if x := arrays["a/x"]; x == nil || len(x.Shape) != 2 || x.Shape[1] != 3 || x.Float(5) != 6 {
		t.Errorf("a/x: %+v", x)
	}
	if ids := arrays["ids"]; ids == nil || !ids.IsInt() || ids.Int(1) != -4 {
		t.Errorf("ids: %+v", ids)
	}
	if big := arrays["big"]; big == nil || big.Int(0) != 1<<40 {
		t.Errorf("big: %+v", big)
	}
	if string(other["doc.json"]) != `{"k":1}` {
		t.Errorf("doc.json: %q", other["doc.json"])
	}
	if _, _, err := ReadArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 10); err == nil || !strings.Contains(err.Error(), "more than the 10") {
		t.Errorf("bound: %v", err)
	}
}

// FuzzRead feeds arbitrary bytes to the .npy reader, alone and as an
// archive member: it must return errors, never panic, and never allocate
// more than the input justifies.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'shape': (1,)}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := Read(bytes.NewReader(b), int64(len(b))); err == nil {
			var out bytes.Buffer
			if err := Write(&out, a); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		m, _ := w.Create("m.npy", false)
		m.Write(b)
		w.Close()
		_, _, _ = ReadArchive(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 1<<20)
	})
}
