package worker

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// tarEntry describes an archive member for the tests.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTarGz(t testing.TB, entries []tarEntry) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func makeZip(t testing.TB, entries []tarEntry) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case tar.TypeSymlink:
			h.SetMode(os.ModeSymlink | 0o777)
			e.body = e.link
		case tar.TypeDir:
			h.SetMode(os.ModeDir | 0o755)
		default:
			h.SetMode(os.FileMode(0o644 | e.mode&0o111))
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unpack writes data to a file and extracts it into a fresh directory, which
// it returns with the error; it also checks that nothing appeared beside it.
func unpack(t testing.TB, data []byte, lim ExtractLimits) (string, extractStats, error) {
	base := t.TempDir()
	src := filepath.Join(base, "archive")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(base, "work")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	head := data
	if len(head) > 512 {
		head = head[:512]
	}
	kind := archiveKind(head)
	if kind == "" {
		return dst, extractStats{}, errors.New("not an archive")
	}
	st, err := extractArchive(src, dst, kind, lim)
	entries, _ := os.ReadDir(base)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("extraction wrote outside its directory: %v", names)
	}
	return dst, st, err
}

func listTree(t testing.TB, dir string) []string {
	var out []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			rel += " -> " + l
		case fi.IsDir():
			rel += "/"
		case fi.Mode()&0o111 != 0:
			rel += " *"
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

var lim = ExtractLimits{MaxBytes: 1 << 20, MaxFiles: 100}

func TestExtractGood(t *testing.T) {
	entries := []tarEntry{
		{name: "repo-main/", typ: tar.TypeDir},
		{name: "repo-main/run.py", body: "print(1)\n", mode: 0o755},
		{name: "repo-main/lib/model.py", body: "x = 1\n"},
		{name: "repo-main/data/in.txt", body: "data"},
		{name: "repo-main/model_link.py", typ: tar.TypeSymlink, link: "lib/model.py"},
		{name: "repo-main/data/up", typ: tar.TypeSymlink, link: "../lib"},
		{name: "repo-main/copy.txt", typ: tar.TypeLink, link: "repo-main/data/in.txt"},
	}
	want := []string{"copy.txt", "data/", "data/in.txt", "data/up -> ../lib", "lib/", "lib/model.py", "model_link.py -> lib/model.py", "run.py *"}
	for name, data := range map[string][]byte{"tar.gz": makeTarGz(t, entries), "zip": makeZip(t, entries[:6])} {
		t.Run(name, func(t *testing.T) {
			dst, st, err := unpack(t, data, lim)
			if err != nil {
				t.Fatal(err)
			}
			got := listTree(t, dst)
			w := want
			if name == "zip" {
				w = []string{"data/", "data/in.txt", "data/up -> ../lib", "lib/", "lib/model.py", "model_link.py -> lib/model.py", "run.py *"}
			}
			if strings.Join(got, "|") != strings.Join(w, "|") || st.Stripped != "repo-main" {
				t.Fatalf("got %q (stripped %q), want %q", got, st.Stripped, w)
			}
		})
	}
	// No common top directory: nothing stripped.
	dst, st, err := unpack(t, makeTarGz(t, []tarEntry{{name: "run.py", body: "1"}, {name: "lib/x.py", body: "2"}}), lim)
	if err != nil || st.Stripped != "" || strings.Join(listTree(t, dst), "|") != "lib/|lib/x.py|run.py" {
		t.Fatalf("%v %+v %q", err, st, listTree(t, dst))
	}
}

func TestExtractMalicious(t *testing.T) {
	big := strings.Repeat("0", 2<<20)
	many := make([]tarEntry, 150)
	for i := range many {
		many[i] = tarEntry{name: "f" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)), body: "x"}
	}
	cases := map[string]struct {
		entries []tarEntry
		msg     string
	}{
		"dot-dot":            {[]tarEntry{{name: "ok.py", body: "1"}, {name: "../evil.py", body: "x"}}, `goes outside`},
		"deep dot-dot":       {[]tarEntry{{name: "a/b/../../../evil", body: "x"}}, `goes outside`},
		"absolute":           {[]tarEntry{{name: "/tmp/evil", body: "x"}}, "absolute path"},
		"link absolute":      {[]tarEntry{{name: "passwd", typ: tar.TypeSymlink, link: "/etc/passwd"}}, "absolute path /etc/passwd"},
		"link out":           {[]tarEntry{{name: "a/up", typ: tar.TypeSymlink, link: "../../x"}}, "outside the code directory"},
		"write through link": {[]tarEntry{{name: "d", typ: tar.TypeSymlink, link: "sub"}, {name: "sub/", typ: tar.TypeDir}, {name: "d/x", body: "x"}}, "below the link d"},
		"link chain out":     {[]tarEntry{{name: "x", typ: tar.TypeSymlink, link: "."}, {name: "y", typ: tar.TypeSymlink, link: "x/.."}, {name: "z", body: "1"}}, "leads out of the code directory"},
		"hard link out":      {[]tarEntry{{name: "h", typ: tar.TypeLink, link: "../../etc/shadow"}}, "goes outside"},
		"hard link unknown":  {[]tarEntry{{name: "h", typ: tar.TypeLink, link: "etc/shadow"}}, "not a file of the archive before it"},
		"device":             {[]tarEntry{{name: "sda", typ: tar.TypeBlock}}, "device, FIFO or other special file"},
		"fifo":               {[]tarEntry{{name: "p", typ: tar.TypeFifo}}, "device, FIFO or other special file"},
		"too large":          {[]tarEntry{{name: "big", body: big}}, "unpacks to more than 1 MiB"},
		"too many":           {many, "more than 100 entries"},
		"duplicate":          {[]tarEntry{{name: "a", body: "1"}, {name: "a", body: "2"}}, "appears twice"},
		"file and link":      {[]tarEntry{{name: "a", typ: tar.TypeSymlink, link: "b"}, {name: "a", body: "2"}}, "both a file and a link"},
		"control chars":      {[]tarEntry{{name: "a\x1b[2J", body: "1"}}, "control characters"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := unpack(t, makeTarGz(t, c.entries), lim)
			if err == nil || !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want an unsafe-archive error with %q", err, c.msg)
			}
		})
	}
	// The same tricks in zip form.
	for name, c := range map[string]struct {
		entries []tarEntry
		msg     string
	}{
		"zip dot-dot":   {[]tarEntry{{name: "../evil.py", body: "x"}}, "goes outside"},
		"zip backslash": {[]tarEntry{{name: `..\..\evil.py`, body: "x"}}, "goes outside"},
		"zip link out":  {[]tarEntry{{name: "l", typ: tar.TypeSymlink, link: "/etc/shadow"}}, "absolute path"},
		"zip bomb":      {[]tarEntry{{name: "bomb", body: big}}, "unpacks to more than"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := unpack(t, makeZip(t, c.entries), lim)
			if err == nil || !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want an unsafe-archive error with %q", err, c.msg)
			}
		})
	}
	// A gzip stream that is not a tar archive.
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte("this is not tar"))
	_ = zw.Close()
	if _, _, err := unpack(t, b.Bytes(), lim); err == nil || !strings.Contains(err.Error(), "broken tar archive") {
		t.Fatalf("gzip of text: %v", err)
	}
}

// FuzzExtract holds extraction to its promises on any input: no panic, and
// nothing written outside the destination (unpack checks that).
func FuzzExtract(f *testing.F) {
	f.Add(makeTarGz(f, []tarEntry{{name: "a/run.py", body: "1"}, {name: "a/l", typ: tar.TypeSymlink, link: "run.py"}}))
	f.Add(makeZip(f, []tarEntry{{name: "x/y.py", body: "1"}, {name: "x/l", typ: tar.TypeSymlink, link: "../x"}}))
	f.Add(makeTarGz(f, []tarEntry{{name: "../x", body: "1"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dst, _, err := unpack(t, data, ExtractLimits{MaxBytes: 1 << 16, MaxFiles: 64})
		if err != nil {
			return
		}
		_ = filepath.Walk(dst, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode()&os.ModeSymlink != 0 {
				if real, err := filepath.EvalSymlinks(p); err == nil && !within(real, dst) {
					t.Fatalf("link %s leads to %s", p, real)
				}
			}
			return nil
		})
	})
}
