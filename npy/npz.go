package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"
)

// ReadArchive reads every .npy member of a zip archive and returns them by
// name (without the extension), with the raw bytes of the other members.
// maxBytes, when positive, bounds the total uncompressed size of the
// members; it is checked against the archive directory before anything is
// allocated.
func ReadArchive(r io.ReaderAt, size, maxBytes int64) (arrays map[string]*Array, other map[string][]byte, err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("reading archive: %w", err)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if maxBytes > 0 && total > uint64(maxBytes) {
		return nil, nil, fmt.Errorf("the archive holds %d bytes, more than the %d this machine can take", total, maxBytes)
	}
	arrays, other = map[string]*Array{}, map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if strings.HasSuffix(f.Name, ".npy") {
			var a *Array
			a, err = Read(rc, int64(f.UncompressedSize64))
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
			}
			arrays[strings.TrimSuffix(f.Name, ".npy")] = a
		} else {
			var b []byte
			b, err = io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
			other[f.Name] = b
		}
		rc.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return arrays, other, nil
}

// Writer writes an archive in the .npz layout. Arrays are stored
// uncompressed, as numpy.savez does, so that numpy can map them.
type Writer struct {
	zw *zip.Writer
}

// NewWriter starts an archive on w.
func NewWriter(w io.Writer) *Writer { return &Writer{zw: zip.NewWriter(w)} }

// Array writes a as the member name.npy.
func (w *Writer) Array(name string, a *Array) error {
	f, err := w.Create(name+".npy", false)
	if err != nil {
		return err
	}
	return Write(f, a)
}

// Float64 writes xs with the given shape (nil: one dimension) as name.npy.
func (w *Writer) Float64(name string, xs []float64, shape []int) error {
	f, err := w.Create(name+".npy", false)
	if err != nil {
		return err
	}
	return WriteFloat64(f, xs, shape)
}

// Int32 writes xs with the given shape (nil: one dimension) as name.npy.
func (w *Writer) Int32(name string, xs []int32, shape []int) error {
	f, err := w.Create(name+".npy", false)
	if err != nil {
		return err
	}
	return WriteInt32(f, xs, shape)
}

// Create starts another member, such as a JSON document, compressed or
// stored; it is written until the next member starts or the archive closes.
func (w *Writer) Create(name string, compress bool) (io.Writer, error) {
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	return w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
}

// Close finishes the archive; it does not close the underlying writer.
func (w *Writer) Close() error { return w.zw.Close() }
