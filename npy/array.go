package npy

import "math"

// Array is a numeric array: floating-point data as float64, integer data as
// int64, whatever width it had in the file.
type Array struct {
	Shape []int
	f64   []float64
	i64   []int64
}

// Float64Array wraps xs (not copied).
func Float64Array(xs []float64) *Array { return &Array{Shape: []int{len(xs)}, f64: xs} }

// Int64Array wraps xs (not copied).
func Int64Array(xs []int64) *Array { return &Array{Shape: []int{len(xs)}, i64: xs} }

// Len is the number of elements.
func (a *Array) Len() int {
	if a == nil {
		return 0
	}
	if a.i64 != nil {
		return len(a.i64)
	}
	return len(a.f64)
}

// IsInt reports whether the array holds integers.
func (a *Array) IsInt() bool { return a.i64 != nil }

// Float64s returns the elements as float64 (integers converted once, then cached).
func (a *Array) Float64s() []float64 {
	if a == nil {
		return nil
	}
	if a.f64 == nil && a.i64 != nil {
		a.f64 = make([]float64, len(a.i64))
		for i, x := range a.i64 {
			a.f64[i] = float64(x)
		}
	}
	return a.f64
}

// Int64s returns the elements as integers. A float array converts only if
// every element is a whole number; otherwise the index of the first element
// that is not is returned with ok false.
func (a *Array) Int64s() (xs []int64, bad int, ok bool) {
	if a == nil {
		return nil, 0, true
	}
	if a.i64 != nil {
		return a.i64, 0, true
	}
	out := make([]int64, len(a.f64))
	for i, x := range a.f64 {
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return nil, i, false
		}
		out[i] = int64(x)
	}
	a.i64 = out
	return out, 0, true
}

// Float returns element i as float64.
func (a *Array) Float(i int) float64 {
	if a.f64 != nil {
		return a.f64[i]
	}
	return float64(a.i64[i])
}

// Int returns element i as int (truncating floats).
func (a *Array) Int(i int) int {
	if a.i64 != nil {
		return int(a.i64[i])
	}
	return int(a.f64[i])
}
