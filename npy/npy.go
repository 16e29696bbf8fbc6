// Package npy reads and writes numpy's array formats: single arrays in the
// .npy format and zip archives of them in the .npz layout. It is the one
// codec behind nmp's network descriptions, results archives and simulation
// server messages, so that Python reads and writes all of them with numpy
// alone. Readers take untrusted input: they refuse what they cannot read
// with an error and never allocate more than the input's size justifies.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// maxHeader bounds the header a reader accepts; numpy writes well under 1 KiB.
const maxHeader = 1 << 16

// Read reads one array in numpy's .npy format (versions 1 to 3) from r.
// size is the number of bytes available (from the archive directory), used to
// refuse a shape that claims more data than there is before allocating it.
func Read(r io.Reader, size int64) (*Array, error) {
	br := bufio.NewReaderSize(r, 4096)
	var magic [8]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("npy: short header: %w", err)
	}
	if string(magic[:6]) != "\x93NUMPY" {
		return nil, errors.New("npy: not a .npy array (bad magic)")
	}
	var hlen int
	consumed := int64(8)
	switch magic[6] {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, fmt.Errorf("npy: short header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(l[:]))
		consumed += 2
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, fmt.Errorf("npy: short header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(l[:]))
		consumed += 4
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", magic[6], magic[7])
	}
	if hlen > maxHeader {
		return nil, fmt.Errorf("npy: header of %d bytes is too long", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return nil, fmt.Errorf("npy: short header: %w", err)
	}
	consumed += int64(hlen)
	descr, fortran, shape, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32*16/d {
			return nil, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n *= d
	}
	if fortran && len(shape) > 1 {
		return nil, errors.New("npy: Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray")
	}
	kind, width, err := parseDescr(descr)
	if err != nil {
		return nil, err
	}
	nbytes := int64(n) * int64(width)
	if size >= 0 && nbytes > size-consumed {
		return nil, fmt.Errorf("npy: shape %v of %s needs %d bytes but the member holds %d", shape, descr, nbytes, size-consumed)
	}
	a := &Array{Shape: shape}
	switch {
	case kind == 'f' && width == 8 && littleEndian:
		a.f64 = make([]float64, n)
		if err := readInto(br, a.f64); err != nil {
			return nil, err
		}
	case kind == 'i' && width == 8 && littleEndian:
		a.i64 = make([]int64, n)
		if err := readInto(br, a.i64); err != nil {
			return nil, err
		}
	default:
		raw := make([]byte, nbytes)
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, fmt.Errorf("npy: short data: %w", err)
		}
		if kind == 'f' {
			a.f64 = make([]float64, n)
		} else {
			a.i64 = make([]int64, n)
		}
		le := binary.LittleEndian
		for i := 0; i < n; i++ {
			p := raw[i*width:]
			switch {
			case kind == 'f' && width == 4:
				a.f64[i] = float64(math.Float32frombits(le.Uint32(p)))
			case kind == 'f' && width == 8:
				a.f64[i] = math.Float64frombits(le.Uint64(p))
			case kind == 'i' && width == 1:
				a.i64[i] = int64(int8(p[0]))
			case kind == 'i' && width == 2:
				a.i64[i] = int64(int16(le.Uint16(p)))
			case kind == 'i' && width == 4:
				a.i64[i] = int64(int32(le.Uint32(p)))
			case kind == 'i' && width == 8:
				a.i64[i] = int64(le.Uint64(p))
			case kind == 'u' && width == 1, kind == 'b':
				a.i64[i] = int64(p[0])
			case kind == 'u' && width == 2:
				a.i64[i] = int64(le.Uint16(p))
			case kind == 'u' && width == 4:
				a.i64[i] = int64(le.Uint32(p))
			case kind == 'u' && width == 8:
				u := le.Uint64(p)
				if u > math.MaxInt64 {
					return nil, fmt.Errorf("npy: element %d (%d) does not fit a signed 64-bit integer", i, u)
				}
				a.i64[i] = int64(u)
			}
		}
	}
	return a, nil
}

func readInto[T float64 | int64](r io.Reader, xs []T) error {
	if len(xs) == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), len(xs)*8)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("npy: short data: %w", err)
	}
	return nil
}

// parseDescr accepts the little-endian numeric dtypes numpy writes.
func parseDescr(d string) (kind byte, width int, err error) {
	if len(d) < 3 {
		return 0, 0, fmt.Errorf("npy: unsupported dtype %q", d)
	}
	order, k := d[0], d[1]
	w, err := strconv.Atoi(d[2:])
	if err != nil {
		return 0, 0, fmt.Errorf("npy: unsupported dtype %q", d)
	}
	if order == '>' && w > 1 {
		return 0, 0, fmt.Errorf("npy: big-endian dtype %q is not supported; convert with .astype('<%c%d')", d, k, w)
	}
	if order != '<' && order != '|' && order != '=' && !(order == '>' && w == 1) {
		return 0, 0, fmt.Errorf("npy: unsupported dtype %q", d)
	}
	switch {
	case k == 'f' && (w == 4 || w == 8):
	case (k == 'i' || k == 'u') && (w == 1 || w == 2 || w == 4 || w == 8):
	case k == 'b' && w == 1:
	default:
		return 0, 0, fmt.Errorf("npy: unsupported dtype %q (use float64, float32 or an integer type)", d)
	}
	return k, w, nil
}

// parseHeader reads the Python dict literal of an .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }.
func parseHeader(h string) (descr string, fortran bool, shape []int, err error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return "", false, nil, errors.New("npy: malformed header")
	}
	body := h[1 : len(h)-1]
	found := 0
	for len(strings.TrimSpace(body)) > 0 {
		body = strings.TrimSpace(body)
		key, rest, ok := pyString(body)
		if !ok {
			return "", false, nil, errors.New("npy: malformed header key")
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return "", false, nil, errors.New("npy: malformed header")
		}
		rest = strings.TrimSpace(rest[1:])
		switch key {
		case "descr":
			descr, rest, ok = pyString(rest)
			if !ok {
				return "", false, nil, errors.New("npy: unsupported descr (structured dtypes are not supported)")
			}
			found++
		case "fortran_order":
			switch {
			case strings.HasPrefix(rest, "True"):
				fortran, rest = true, rest[4:]
			case strings.HasPrefix(rest, "False"):
				fortran, rest = false, rest[5:]
			default:
				return "", false, nil, errors.New("npy: malformed fortran_order")
			}
			found++
		case "shape":
			if !strings.HasPrefix(rest, "(") {
				return "", false, nil, errors.New("npy: malformed shape")
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return "", false, nil, errors.New("npy: malformed shape")
			}
			shape = []int{}
			for _, f := range strings.Split(rest[1:end], ",") {
				f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "L"))
				if f == "" {
					continue
				}
				d, err := strconv.Atoi(f)
				if err != nil {
					return "", false, nil, fmt.Errorf("npy: malformed shape %q", rest[:end+1])
				}
				shape = append(shape, d)
			}
			rest = rest[end+1:]
			found++
		default:
			return "", false, nil, fmt.Errorf("npy: unknown header key %q", key)
		}
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, ",")
		body = rest
	}
	if found != 3 {
		return "", false, nil, errors.New("npy: header lacks descr, fortran_order or shape")
	}
	return descr, fortran, shape, nil
}

// pyString reads a quoted Python string literal (no escapes needed for npy headers).
func pyString(s string) (val, rest string, ok bool) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[end+2:], true
}

// Write writes a in .npy format version 1.0: float64 data as '<f8',
// integer data as '<i8'.
func Write(w io.Writer, a *Array) error {
	shape := a.Shape
	if shape == nil {
		shape = []int{a.Len()}
	}
	return write(w, a.i64 != nil, shape, a.f64, a.i64)
}

// WriteFloat64 writes xs with the given shape (nil: one dimension).
func WriteFloat64(w io.Writer, xs []float64, shape []int) error {
	if shape == nil {
		shape = []int{len(xs)}
	}
	return write(w, false, shape, xs, nil)
}

// WriteInt64 writes xs with the given shape (nil: one dimension).
func WriteInt64(w io.Writer, xs []int64, shape []int) error {
	if shape == nil {
		shape = []int{len(xs)}
	}
	return write(w, true, shape, nil, xs)
}

// WriteInt32 writes xs as '<i4'.
func WriteInt32(w io.Writer, xs []int32, shape []int) error {
	if shape == nil {
		shape = []int{len(xs)}
	}
	if err := writeHeader(w, "<i4", shape); err != nil {
		return err
	}
	if len(xs) == 0 {
		return nil
	}
	if littleEndian {
		_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&xs[0])), len(xs)*4))
		return err
	}
	return binary.Write(w, binary.LittleEndian, xs)
}

func write(w io.Writer, isInt bool, shape []int, f []float64, i []int64) error {
	descr := "<f8"
	if isInt {
		descr = "<i8"
	}
	if err := writeHeader(w, descr, shape); err != nil {
		return err
	}
	var b []byte
	switch {
	case isInt && len(i) > 0:
		b = unsafe.Slice((*byte)(unsafe.Pointer(&i[0])), len(i)*8)
	case !isInt && len(f) > 0:
		b = unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*8)
	}
	if !littleEndian {
		if isInt {
			return binary.Write(w, binary.LittleEndian, i)
		}
		return binary.Write(w, binary.LittleEndian, f)
	}
	_, err := w.Write(b)
	return err
}

func writeHeader(w io.Writer, descr string, shape []int) error {
	var sb strings.Builder
	sb.WriteString("{'descr': '")
	sb.WriteString(descr)
	sb.WriteString("', 'fortran_order': False, 'shape': (")
	for k, d := range shape {
		sb.WriteString(strconv.Itoa(d))
		if len(shape) == 1 || k < len(shape)-1 {
			sb.WriteString(",")
		}
		if k < len(shape)-1 {
			sb.WriteString(" ")
		}
	}
	sb.WriteString("), }")
	// Pad so that magic + length + header is a multiple of 64, ending in '\n'.
	total := 10 + sb.Len() + 1
	pad := (64 - total%64) % 64
	sb.WriteString(strings.Repeat(" ", pad))
	sb.WriteByte('\n')
	hdr := sb.String()
	var pre [10]byte
	copy(pre[:], "\x93NUMPY\x01\x00")
	if len(hdr) > math.MaxUint16 {
		return errors.New("npy: header too long")
	}
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(hdr)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	_, err := io.WriteString(w, hdr)
	return err
}
