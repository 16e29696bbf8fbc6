package worker

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

const noFollow = syscall.O_NOFOLLOW

// Archives come from URLs anyone can submit, and the worker unpacks them as
// root, so extraction trusts nothing in them: every entry must stay inside
// the destination (no absolute paths, no "..", no entry below a link), links
// must point inside it, hard links only to files of the same archive, and
// only directories, regular files and links are accepted. The bytes written
// and the number of entries are counted as they are written (headers may
// lie), and the first entry past a limit stops the extraction. File modes
// keep only the execute bits (0644 or 0755). If every entry lies in one
// top-level directory (as in GitHub's archives), that directory is stripped,
// so that the job's command is relative to the code's root.

// ExtractLimits bound what one archive may unpack to.
type ExtractLimits struct {
	MaxBytes int64 // total size of the files
	MaxFiles int   // number of entries
}

// ErrUnsafeArchive marks archives refused for what they contain.
var ErrUnsafeArchive = errors.New("unsafe archive")

// archiveKind tells a zip, gzip-compressed tar, bzip2-compressed tar or
// plain tar archive from its first bytes ("" when it is none of them).
func archiveKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "tar.gz"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "tar.bz2"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "tar"
	}
	return ""
}

type entryType int

const (
	entryDir entryType = iota
	entryFile
	entrySymlink
	entryHardlink
)

// entry is one member of an archive, read by the iterator of its format.
type entry struct {
	name   string
	typ    entryType
	exec   bool
	target string                        // links
	open   func() (io.ReadCloser, error) // files
}

type extractStats struct {
	Files    int
	Bytes    int64
	Stripped string // the top-level directory that was stripped, if any
}

// extractArchive unpacks the archive file src (of the given kind) into the
// existing, empty directory dst.
func extractArchive(src, dst, kind string, lim ExtractLimits) (extractStats, error) {
	var st extractStats
	// First pass: names only, to check them all and find a common top directory.
	var names []string
	n := 0
	err := walkArchive(src, kind, func(e *entry) error {
		n++
		if lim.MaxFiles > 0 && n > lim.MaxFiles {
			return fmt.Errorf("%w: more than %d entries", ErrUnsafeArchive, lim.MaxFiles)
		}
		clean, err := cleanEntryName(e.name)
		if err != nil {
			return err
		}
		if clean != "" {
			names = append(names, clean)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	strip := commonTop(names)
	st.Stripped = strings.TrimSuffix(strip, "/")

	links := map[string]bool{}   // symlink entries (after stripping)
	files := map[string]string{} // regular files written: name → path
	type link struct{ name, target string }
	var symlinks []link
	root, err := filepath.Abs(dst)
	if err != nil {
		return st, err
	}
	rel := func(e *entry) (string, error) {
		clean, err := cleanEntryName(e.name)
		if err != nil {
			return "", err
		}
		clean = strings.TrimPrefix(clean, strip)
		if clean == "" || clean == strings.TrimSuffix(strip, "/") {
			return "", nil
		}
		for p := path.Dir(clean); p != "."; p = path.Dir(p) {
			if links[p] {
				return "", fmt.Errorf("%w: entry %s lies below the link %s", ErrUnsafeArchive, clean, p)
			}
		}
		return clean, nil
	}
	// Symlinks are recorded first, so that no entry can be written through one.
	err = walkArchive(src, kind, func(e *entry) error {
		if e.typ != entrySymlink {
			return nil
		}
		name, err := rel(e)
		if err != nil || name == "" {
			return err
		}
		if err := checkLinkTarget(name, e.target); err != nil {
			return err
		}
		links[name] = true
		symlinks = append(symlinks, link{name, e.target})
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, l := range symlinks {
		for p := path.Dir(l.name); p != "."; p = path.Dir(p) {
			if links[p] {
				return st, fmt.Errorf("%w: link %s lies below the link %s", ErrUnsafeArchive, l.name, p)
			}
		}
	}
	err = walkArchive(src, kind, func(e *entry) error {
		name, err := rel(e)
		if err != nil || name == "" {
			return err
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		switch e.typ {
		case entryDir:
			if links[name] {
				return fmt.Errorf("%w: %s is both a directory and a link", ErrUnsafeArchive, name)
			}
			return os.MkdirAll(target, 0o755)
		case entrySymlink:
			return nil
		case entryHardlink:
			t, err := cleanEntryName(e.target)
			if err != nil {
				return err
			}
			t = strings.TrimPrefix(t, strip)
			from, ok := files[t]
			if !ok {
				return fmt.Errorf("%w: hard link %s points to %s, which is not a file of the archive before it", ErrUnsafeArchive, name, e.target)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			st.Files++
			return os.Link(from, target)
		case entryFile:
			if links[name] {
				return fmt.Errorf("%w: %s is both a file and a link", ErrUnsafeArchive, name)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mode := os.FileMode(0o644)
			if e.exec {
				mode = 0o755
			}
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, mode)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%w: %s appears twice", ErrUnsafeArchive, name)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			r, err := e.open()
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			room := int64(-1)
			if lim.MaxBytes > 0 {
				room = lim.MaxBytes - st.Bytes
			}
			var src io.Reader = r
			if room >= 0 {
				src = io.LimitReader(r, room+1)
			}
			w, err := io.Copy(f, src)
			r.Close()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			st.Bytes += w
			if room >= 0 && w > room {
				return fmt.Errorf("%w: it unpacks to more than %s", ErrUnsafeArchive, Bytes(lim.MaxBytes))
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			files[name] = target
			st.Files++
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, l := range symlinks {
		target := filepath.Join(root, filepath.FromSlash(l.name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return st, err
		}
		if err := os.Symlink(l.target, target); err != nil {
			if errors.Is(err, os.ErrExist) {
				return st, fmt.Errorf("%w: %s appears twice", ErrUnsafeArchive, l.name)
			}
			return st, err
		}
		st.Files++
	}
	// Chains of links can resolve elsewhere than each link alone; check where they end.
	for _, l := range symlinks {
		target := filepath.Join(root, filepath.FromSlash(l.name))
		if real, err := filepath.EvalSymlinks(target); err == nil && !within(real, root) {
			return st, fmt.Errorf("%w: link %s leads out of the code directory", ErrUnsafeArchive, l.name)
		}
	}
	return st, nil
}

// cleanEntryName checks an entry's name and returns it relative and
// slash-separated, without a trailing slash ("" for the root itself).
func cleanEntryName(name string) (string, error) {
	orig := name
	name = strings.ReplaceAll(name, "\\", "/")
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", fmt.Errorf("%w: entry name %q holds control characters or invalid UTF-8", ErrUnsafeArchive, orig)
		}
	}
	if strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("%w: entry %q has an absolute path", ErrUnsafeArchive, orig)
	}
	var segs []string
	for _, s := range strings.Split(name, "/") {
		switch s {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: entry %q goes outside the code directory (\"..\")", ErrUnsafeArchive, orig)
		}
		if len(s) > 255 {
			return "", fmt.Errorf("%w: entry %q has a name longer than 255 bytes", ErrUnsafeArchive, orig)
		}
		segs = append(segs, s)
	}
	if len(segs) > 64 {
		return "", fmt.Errorf("%w: entry %q is nested more than 64 directories deep", ErrUnsafeArchive, orig)
	}
	return strings.Join(segs, "/"), nil
}

// checkLinkTarget refuses a symlink whose target is absolute or leads out of
// the root, seen from the link's own directory.
func checkLinkTarget(name, target string) error {
	if target == "" {
		return fmt.Errorf("%w: link %s has no target", ErrUnsafeArchive, name)
	}
	if strings.HasPrefix(target, "/") || strings.ContainsRune(target, 0) {
		return fmt.Errorf("%w: link %s points to the absolute path %s", ErrUnsafeArchive, name, target)
	}
	p := path.Join(path.Dir(name), target)
	if p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("%w: link %s points to %s, outside the code directory", ErrUnsafeArchive, name, target)
	}
	return nil
}

// commonTop returns "dir/" when every name lies in one top-level directory dir.
func commonTop(names []string) string {
	if len(names) == 0 {
		return ""
	}
	top, _, _ := strings.Cut(names[0], "/")
	below := false
	for _, n := range names {
		first, rest, found := strings.Cut(n, "/")
		if first != top {
			return ""
		}
		if found && rest != "" {
			below = true
		}
	}
	if !below {
		return ""
	}
	return top + "/"
}

// walkArchive calls fn for every entry of the archive, in order.
func walkArchive(src, kind string, fn func(*entry) error) error {
	if kind == "zip" {
		return walkZip(src, fn)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	switch kind {
	case "tar.gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%w: not a gzip stream: %v", ErrUnsafeArchive, err)
		}
		defer zr.Close()
		r = zr
	case "tar.bz2":
		r = bzip2.NewReader(r)
	case "tar":
	default:
		return fmt.Errorf("unknown archive kind %q", kind)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: broken tar archive: %v", ErrUnsafeArchive, err)
		}
		e := &entry{name: h.Name, exec: h.Mode&0o111 != 0, target: h.Linkname}
		switch h.Typeflag {
		case tar.TypeDir:
			e.typ = entryDir
		case tar.TypeReg:
			e.typ = entryFile
			e.open = func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }
		case tar.TypeSymlink:
			e.typ = entrySymlink
		case tar.TypeLink:
			e.typ = entryHardlink
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue
		default:
			return fmt.Errorf("%w: entry %s is a device, FIFO or other special file (type %q)", ErrUnsafeArchive, h.Name, h.Typeflag)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func walkZip(src string, fn func(*entry) error) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("%w: broken zip archive: %v", ErrUnsafeArchive, err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "__MACOSX/") {
			continue // macOS resource forks
		}
		mode := zf.Mode()
		e := &entry{name: zf.Name, exec: mode&0o111 != 0}
		switch {
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			e.typ = entryDir
		case mode&os.ModeSymlink != 0:
			e.typ = entrySymlink
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("%w: link %s: %v", ErrUnsafeArchive, zf.Name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return fmt.Errorf("%w: link %s: %v", ErrUnsafeArchive, zf.Name, err)
			}
			e.target = string(b)
		case mode.IsRegular():
			e.typ = entryFile
			e.open = zf.Open
		default:
			return fmt.Errorf("%w: entry %s is a device, FIFO or other special file", ErrUnsafeArchive, zf.Name)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
