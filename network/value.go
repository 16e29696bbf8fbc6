package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/nmp-platform/nmp/npy"
)

// Kind says what a Value holds.
type Kind int

const (
	// KindNone is an absent value.
	KindNone Kind = iota
	// KindScalar is one number, the same for every element (booleans are 0 or 1).
	KindScalar
	// KindArray is one number per element, or one sequence for sequence-valued
	// parameters (spike_times, amplitudes, ...).
	KindArray
	// KindRagged is one sequence per element: Values split at Offsets.
	KindRagged
	// KindRandom is a random distribution, drawn on the Go side.
	KindRandom
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindScalar:
		return "scalar"
	case KindArray:
		return "array"
	case KindRagged:
		return "ragged array"
	case KindRandom:
		return "random distribution"
	}
	return "unknown"
}

// Value is a parameter value or an index list in a description: a number, an
// array, a ragged array (one sequence per element) or a random distribution.
// In JSON it is written as a number, a boolean, a list, a list of lists,
// {"array": NAME} naming a .npy member of the archive,
// {"ragged": {"values": V, "offsets": V}}, or
// {"distribution": NAME, "parameters": {...}}.
type Value struct {
	Kind   Kind
	Scalar float64
	// Array holds KindArray's elements, or KindRagged's concatenated sequences.
	Array *npy.Array
	// Offsets holds KindRagged's n+1 offsets into Array.
	Offsets *npy.Array
	Dist    *Distribution

	// ref and offRef name archive members not yet resolved.
	ref, offRef string
}

// Distribution is a PyNN RandomDistribution: a name and its parameters.
type Distribution struct {
	Name       string             `json:"distribution"`
	Parameters map[string]float64 `json:"parameters"`
	c          compiled
}

// MarshalJSON writes d as a value object, its non-finite parameters as the
// strings "inf", "-inf" and "nan" (JSON has no literal for them).
func (d Distribution) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"distribution":`)
	name, err := json.Marshal(d.Name)
	if err != nil {
		return nil, err
	}
	buf.Write(name)
	buf.WriteString(`,"parameters":{`)
	for i, k := range sortedKeys(d.Parameters) {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(marshalFloat(d.Parameters[k]))
	}
	buf.WriteString("}}")
	return buf.Bytes(), nil
}

// Scalar returns a scalar Value.
func Scalar(x float64) Value { return Value{Kind: KindScalar, Scalar: x} }

// Floats returns an array Value holding xs.
func Floats(xs []float64) Value { return Value{Kind: KindArray, Array: npy.Float64Array(xs)} }

// Ints returns an array Value holding xs.
func Ints(xs []int64) Value { return Value{Kind: KindArray, Array: npy.Int64Array(xs)} }

// Ragged returns a ragged Value from per-element sequences.
func Ragged(seqs [][]float64) Value {
	off := make([]int64, len(seqs)+1)
	var all []float64
	for i, s := range seqs {
		all = append(all, s...)
		off[i+1] = int64(len(all))
	}
	return Value{Kind: KindRagged, Array: npy.Float64Array(all), Offsets: npy.Int64Array(off)}
}

// Random returns a Value drawn from a distribution.
func Random(name string, params map[string]float64) Value {
	return Value{Kind: KindRandom, Dist: &Distribution{Name: name, Parameters: params}}
}

// IsSet reports whether v holds anything.
func (v *Value) IsSet() bool { return v != nil && v.Kind != KindNone }

// Len is the number of elements of an array value, the number of sequences
// of a ragged one, and -1 for scalars and distributions, which fit any size.
func (v *Value) Len() int {
	switch v.Kind {
	case KindArray:
		return v.Array.Len()
	case KindRagged:
		return v.Offsets.Len() - 1
	}
	return -1
}

// At returns the i-th element of a scalar or array value.
func (v *Value) At(i int) float64 {
	if v.Kind == KindScalar {
		return v.Scalar
	}
	return v.Array.Float(i)
}

// Seq returns the i-th sequence of a ragged value, or the single sequence of
// an array value (sequence-valued parameters given once for all elements).
func (v *Value) Seq(i int) []float64 {
	f := v.Array.Float64s()
	switch v.Kind {
	case KindRagged:
		return f[v.Offsets.Int(i):v.Offsets.Int(i+1)]
	case KindArray:
		return f
	case KindScalar:
		return []float64{v.Scalar}
	}
	return nil
}

// UnmarshalJSON decodes any of the forms listed on Value.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*v = Value{}
	if len(b) == 0 {
		return fmt.Errorf("empty value")
	}
	switch b[0] {
	case 'n':
		return nil
	case 't', 'f':
		var x bool
		if err := json.Unmarshal(b, &x); err != nil {
			return err
		}
		v.Kind = KindScalar
		if x {
			v.Scalar = 1
		}
		return nil
	case '[':
		return v.unmarshalList(b)
	case '{':
		return v.unmarshalObject(b)
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		// Non-finite numbers have no JSON literal; accept their common spellings.
		switch s {
		case "inf", "Infinity", "+inf":
			v.Kind, v.Scalar = KindScalar, math.Inf(1)
			return nil
		case "-inf", "-Infinity":
			v.Kind, v.Scalar = KindScalar, math.Inf(-1)
			return nil
		case "nan", "NaN":
			v.Kind, v.Scalar = KindScalar, math.NaN()
			return nil
		}
		return fmt.Errorf("got the string %q where a number, list or object was expected", s)
	default:
		x, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("cannot read %q as a number", truncate(string(b)))
		}
		v.Kind, v.Scalar = KindScalar, x
		return nil
	}
}

func (v *Value) unmarshalList(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	nested := false
	for _, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) > 0 && r[0] == '[' {
			nested = true
			break
		}
	}
	if !nested {
		xs := make([]float64, len(raw))
		for i, r := range raw {
			var e Value
			if err := e.UnmarshalJSON(r); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			if e.Kind != KindScalar {
				return fmt.Errorf("element %d: expected a number", i)
			}
			xs[i] = e.Scalar
		}
		*v = Floats(xs)
		return nil
	}
	seqs := make([][]float64, len(raw))
	for i, r := range raw {
		var e Value
		if err := e.UnmarshalJSON(r); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		switch e.Kind {
		case KindArray:
			seqs[i] = e.Array.Float64s()
		case KindScalar:
			seqs[i] = []float64{e.Scalar}
		default:
			return fmt.Errorf("element %d: expected a list of numbers", i)
		}
	}
	*v = Ragged(seqs)
	return nil
}

func (v *Value) unmarshalObject(b []byte) error {
	var o struct {
		Array        *string `json:"array"`
		Distribution *string `json:"distribution"`
		// Parameters are read as values so that "inf", "-inf" and "nan"
		// are accepted (normal_clipped's open bounds).
		Parameters map[string]json.RawMessage `json:"parameters"`
		Ragged     *struct {
			Values  json.RawMessage `json:"values"`
			Offsets json.RawMessage `json:"offsets"`
		} `json:"ragged"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return fmt.Errorf("value object: %w (expected {\"array\": NAME}, {\"ragged\": ...} or {\"distribution\": NAME, \"parameters\": {...}})", err)
	}
	switch {
	case o.Array != nil:
		v.Kind, v.ref = KindArray, *o.Array
	case o.Distribution != nil:
		v.Kind = KindRandom
		v.Dist = &Distribution{Name: *o.Distribution, Parameters: make(map[string]float64, len(o.Parameters))}
		for _, k := range sortedKeys(o.Parameters) {
			var p Value
			if err := p.UnmarshalJSON(o.Parameters[k]); err != nil {
				return fmt.Errorf("distribution %q parameter %q: %w", *o.Distribution, k, err)
			}
			if p.Kind != KindScalar {
				return fmt.Errorf("distribution %q parameter %q: expected a number (got %s)", *o.Distribution, k, p.Kind)
			}
			v.Dist.Parameters[k] = p.Scalar
		}
	case o.Ragged != nil:
		var vals, offs Value
		if err := vals.UnmarshalJSON(o.Ragged.Values); err != nil {
			return fmt.Errorf("ragged values: %w", err)
		}
		if err := offs.UnmarshalJSON(o.Ragged.Offsets); err != nil {
			return fmt.Errorf("ragged offsets: %w", err)
		}
		if vals.Kind != KindArray || offs.Kind != KindArray {
			return fmt.Errorf("ragged values and offsets must be arrays")
		}
		v.Kind = KindRagged
		v.Array, v.ref = vals.Array, vals.ref
		v.Offsets, v.offRef = offs.Array, offs.ref
	default:
		return fmt.Errorf("value object needs one of the keys array, ragged, distribution")
	}
	return nil
}

// MarshalJSON writes v inline (arrays as lists), or as a reference when v
// names an archive member (see Writer).
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.Kind {
	case KindNone:
		return []byte("null"), nil
	case KindScalar:
		return marshalFloat(v.Scalar), nil
	case KindRandom:
		return json.Marshal(v.Dist)
	case KindArray:
		if v.ref != "" {
			return json.Marshal(map[string]string{"array": v.ref})
		}
		return marshalArray(v.Array)
	case KindRagged:
		var buf bytes.Buffer
		buf.WriteString(`{"ragged":{"values":`)
		if v.ref != "" {
			b, _ := json.Marshal(map[string]string{"array": v.ref})
			buf.Write(b)
		} else {
			b, err := marshalArray(v.Array)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
		}
		buf.WriteString(`,"offsets":`)
		if v.offRef != "" {
			b, _ := json.Marshal(map[string]string{"array": v.offRef})
			buf.Write(b)
		} else {
			b, err := marshalArray(v.Offsets)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
		}
		buf.WriteString("}}")
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown value kind %d", v.Kind)
}

// marshalArray writes a as a JSON list (numbers the way marshalFloat does).
func marshalArray(a *npy.Array) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	n := a.Len()
	isInt := n > 0 && a.IsInt()
	for i := 0; i < n; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		if isInt {
			buf.WriteString(strconv.FormatInt(int64(a.Int(i)), 10))
		} else {
			buf.Write(marshalFloat(a.Float(i)))
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

func marshalFloat(x float64) []byte {
	switch {
	case math.IsInf(x, 1):
		return []byte(`"inf"`)
	case math.IsInf(x, -1):
		return []byte(`"-inf"`)
	case math.IsNaN(x):
		return []byte(`"nan"`)
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// sortedKeys returns the keys of m in order, so that errors and output are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
