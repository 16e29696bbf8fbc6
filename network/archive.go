package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nmp-platform/nmp/npy"
)

// DocumentName is the archive member that holds the JSON document.
const DocumentName = "network.json"

// DecodeOptions bound what a decoder accepts.
type DecodeOptions struct {
	// MaxBytes bounds the total size of the arrays an archive may bring
	// (0: DefaultMaxBytes). Checked against the archive directory before
	// anything is allocated.
	MaxBytes int64
}

// DefaultMaxBytes is the default bound on the arrays of one description: half
// the memory the machine has available, or 8 GiB where that cannot be read.
var DefaultMaxBytes = func() int64 {
	if avail := MemAvailable(); avail > 0 {
		return avail / 2
	}
	return 8 << 30
}()

// ReadFile reads a description from a JSON file or an .npz archive.
func ReadFile(path string, opts DecodeOptions) (*Description, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := Decode(f, fi.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Decode reads a description from r, which holds size bytes: a zip archive
// (numpy .npz layout) with the member network.json, or a JSON document.
func Decode(r io.ReaderAt, size int64, opts DecodeOptions) (*Description, error) {
	var head [4]byte
	n, _ := r.ReadAt(head[:], 0)
	if n >= 4 && string(head[:4]) == "PK\x03\x04" {
		return decodeArchive(r, size, opts)
	}
	if size > 1<<30 {
		return nil, fmt.Errorf("a JSON description of %d bytes is too large; put large arrays in an .npz archive", size)
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return DecodeJSON(buf, nil)
}

// DecodeBytes is Decode for a description held in memory.
func DecodeBytes(b []byte, opts DecodeOptions) (*Description, error) {
	return Decode(bytes.NewReader(b), int64(len(b)), opts)
}

func decodeArchive(r io.ReaderAt, size int64, opts DecodeOptions) (*Description, error) {
	max := opts.MaxBytes
	if max == 0 {
		max = DefaultMaxBytes
	}
	arrays, other, err := npy.ReadArchive(r, size, max)
	if err != nil {
		return nil, err
	}
	js, ok := other[DocumentName]
	if !ok {
		return nil, fmt.Errorf("the archive has no %s member", DocumentName)
	}
	return DecodeJSON(js, arrays)
}

// DecodeJSON decodes a JSON document whose array references are resolved
// against arrays (which may be nil). Unknown fields are errors, so that a
// misspelt key is reported rather than ignored.
func DecodeJSON(js []byte, arrays map[string]*npy.Array) (*Description, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var d Description
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(js, err)
	}
	if dec.More() {
		return nil, errors.New("network.json: unexpected data after the document")
	}
	d.arrays = arrays
	if err := d.resolve(); err != nil {
		return nil, err
	}
	return &d, nil
}

// jsonError adds the line and column to encoding/json's errors.
func jsonError(js []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Errorf("network.json: field %s: expected %s, got a JSON %s (%s)", te.Field, te.Type, te.Value, lineCol(js, off))
		}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if off >= 0 {
		return fmt.Errorf("network.json: %s (%s)", msg, lineCol(js, off))
	}
	return fmt.Errorf("network.json: %s", msg)
}

func lineCol(js []byte, off int64) string {
	if off > int64(len(js)) {
		off = int64(len(js))
	}
	line := 1 + bytes.Count(js[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(js[:off], '\n'))
	return "line " + strconv.Itoa(line) + ", column " + strconv.FormatInt(col, 10)
}

// resolve replaces references to archive members by the arrays.
func (d *Description) resolve() error {
	return d.walkValues(func(path string, v *Value) error {
		if v.ref != "" {
			a, ok := d.arrays[v.ref]
			if !ok {
				return fmt.Errorf("%s: the archive has no array %q", path, v.ref)
			}
			v.Array = a
		}
		if v.offRef != "" {
			a, ok := d.arrays[v.offRef]
			if !ok {
				return fmt.Errorf("%s: the archive has no array %q", path, v.offRef)
			}
			v.Offsets = a
		}
		return nil
	})
}

// walkValues calls fn for every Value of the description with its path.
func (d *Description) walkValues(fn func(path string, v *Value) error) error {
	walkMap := func(prefix string, m map[string]Value) error {
		for _, k := range sortedKeys(m) {
			v := m[k]
			if err := fn(prefix+"."+k, &v); err != nil {
				return err
			}
			m[k] = v
		}
		return nil
	}
	walkSel := func(prefix string, s Selection) error {
		for i := range s {
			if s[i].Indices != nil {
				if err := fn(fmt.Sprintf("%s[%d].indices", prefix, i), s[i].Indices); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i := range d.Populations {
		p := &d.Populations[i]
		name := fmt.Sprintf("populations[%d]", i)
		if err := walkMap(name+".parameters", p.Parameters); err != nil {
			return err
		}
		if err := walkMap(name+".initial_values", p.InitialValues); err != nil {
			return err
		}
	}
	for i := range d.Projections {
		p := &d.Projections[i]
		name := fmt.Sprintf("projections[%d]", i)
		if err := walkSel(name+".pre", p.Pre); err != nil {
			return err
		}
		if err := walkSel(name+".post", p.Post); err != nil {
			return err
		}
		if err := walkMap(name+".synapse.parameters", p.Synapse.Parameters); err != nil {
			return err
		}
		if c := p.Synapse.TimingDependence; c != nil {
			if err := walkMap(name+".synapse.timing_dependence.parameters", c.Parameters); err != nil {
				return err
			}
		}
		if c := p.Synapse.WeightDependence; c != nil {
			if err := walkMap(name+".synapse.weight_dependence.parameters", c.Parameters); err != nil {
				return err
			}
		}
		if c := p.Connections; c != nil {
			if err := fn(name+".connections.pre", &c.Pre); err != nil {
				return err
			}
			if err := fn(name+".connections.post", &c.Post); err != nil {
				return err
			}
			if err := walkMap(name+".connections.parameters", c.Parameters); err != nil {
				return err
			}
		}
	}
	for i := range d.CurrentSources {
		c := &d.CurrentSources[i]
		name := fmt.Sprintf("current_sources[%d]", i)
		if err := walkMap(name+".parameters", c.Parameters); err != nil {
			return err
		}
		if err := walkSel(name+".targets", c.Targets); err != nil {
			return err
		}
	}
	for i := range d.Recordings {
		if err := walkSel(fmt.Sprintf("recordings[%d].selection", i), d.Recordings[i].Selection); err != nil {
			return err
		}
	}
	for i := range d.Schedule {
		a := &d.Schedule[i]
		name := fmt.Sprintf("schedule[%d]", i)
		if s := a.Set; s != nil {
			if err := walkSel(name+".set.selection", s.Selection); err != nil {
				return err
			}
			for _, m := range []struct {
				k string
				m map[string]Value
			}{{"parameters", s.Parameters}, {"initial_values", s.InitialValues}, {"state", s.State}} {
				if err := walkMap(name+".set."+m.k, m.m); err != nil {
					return err
				}
			}
		}
		if s := a.SetSynapses; s != nil {
			if err := walkMap(name+".set_synapses.parameters", s.Parameters); err != nil {
				return err
			}
		}
		if s := a.SetCurrentSource; s != nil {
			if err := walkMap(name+".set_current_source.parameters", s.Parameters); err != nil {
				return err
			}
		}
		if r := a.Record; r != nil {
			if err := walkSel(name+".record.selection", r.Selection); err != nil {
				return err
			}
		}
	}
	return nil
}

// Writer builds an archive: the JSON document with large arrays moved into
// .npy members. Arrays of at most InlineMax elements stay in the JSON.
type Writer struct {
	InlineMax int
}

// Encode writes d as an archive to w.
func (wr Writer) Encode(w io.Writer, d *Description) error {
	zw := npy.NewWriter(w)
	type member struct {
		name string
		a    *npy.Array
	}
	var members []member
	count := 0
	// Name the large arrays for the duration of the encoding; the names are
	// cleared again so that d is left as it was.
	defer d.walkValues(func(_ string, v *Value) error {
		v.ref, v.offRef = "", ""
		return nil
	})
	if err := d.walkValues(func(path string, v *Value) error {
		if v.Kind == KindArray && v.Array.Len() > wr.InlineMax {
			v.ref = fmt.Sprintf("a%d", count)
			count++
			members = append(members, member{v.ref, v.Array})
		}
		if v.Kind == KindRagged && v.Array.Len() > wr.InlineMax {
			v.ref = fmt.Sprintf("a%d", count)
			v.offRef = fmt.Sprintf("a%d", count+1)
			count += 2
			members = append(members, member{v.ref, v.Array}, member{v.offRef, v.Offsets})
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Slice(members, func(i, j int) bool { return members[i].name < members[j].name })
	for _, m := range members {
		if err := zw.Array(m.name, m.a); err != nil {
			return err
		}
	}
	fw, err := zw.Create(DocumentName, true)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(fw)
	enc.SetIndent("", " ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	return zw.Close()
}

// DecodeAction decodes one schedule action whose array references are
// resolved against arrays, as an interactive session receives them.
func DecodeAction(js []byte, arrays map[string]*npy.Array) (*Action, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var a Action
	if err := dec.Decode(&a); err != nil {
		return nil, jsonError(js, err)
	}
	d := &Description{Schedule: []Action{a}, arrays: arrays}
	if err := d.resolve(); err != nil {
		return nil, err
	}
	return &d.Schedule[0], nil
}
