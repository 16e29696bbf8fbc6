package spinnaker

import "math"

// The arithmetic of a SpiNNaker core as sPyNNaker's C code does it. The
// ARM968 has no floating point: neuron state and parameters are REAL, GCC's
// `accum` (s16.15: 32 bits, 15 of them fraction), and decay factors are
// `unsigned long fract` (U0.32). Values travel here as their bit patterns.

// kOne is 1.0 as s16.15 bits.
const kOne = 1 << 15

// mulK is accum × accum as the cores compute it: the 64-bit product
// shifted right by the 15 fraction bits (rounding toward minus infinity),
// truncated to 32 bits without saturation. sPyNNaker's own integration
// test of IF_curr_exp's voltage (test_set_and_reset: i_offset 1 nA, the
// voltages −65, −64.024658203125, −63.09686279296875, −62.214324951171875,
// −61.37481689453125 read back from a board) holds exactly with exp_TC
// 31170/2^15 and this truncation, and with no rounding of the product.
func mulK(a, b int32) int32 {
	return int32((int64(a) * int64(b)) >> 15)
}

// decayK is sPyNNaker's decay_s1615: an s16.15 value times a U0.32 factor,
// the product shifted right by 32 (rounding toward minus infinity).
func decayK(x int32, d uint32) int32 {
	return int32((int64(x) * int64(d)) >> 32)
}

// toK is a host-side float converted to s16.15 as the data specification
// writes it: rounded to the nearest LSB and saturated to the type's range.
func toK(f float64) int32 {
	x := math.Round(f * kOne)
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	if x < math.MinInt32 {
		return math.MinInt32
	}
	return int32(x)
}

// fromK is the value of s16.15 bits.
func fromK(k int32) float64 { return float64(k) / kOne }

// toU032 is a factor in [0, 1) as U0.32 bits, rounded to nearest (1.0
// saturates to the largest fraction).
func toU032(f float64) uint32 {
	x := math.Round(f * (1 << 32))
	if x >= 1<<32 {
		return math.MaxUint32
	}
	if x < 0 {
		return 0
	}
	return uint32(x)
}

// u032MulK is sPyNNaker's decay_s1615_to_u032: an s16.15 value times a
// U0.32 factor, as a U0.32 (product shifted right by 15).
func u032MulK(x int32, d uint32) uint32 {
	return uint32((uint64(uint32(x)) * uint64(d)) >> 15)
}

// ceilK is lif_ceil_accum: the ceiling of an s16.15 value as an integer.
func ceilK(k int32) int32 {
	i, f := k>>15, k&0x7FFF
	if f > 0 {
		return i + 1
	}
	return i
}

// divK is kdivk, s16.15 division, here rounded to nearest on the host.
func divK(a, b float64) int32 { return toK(a / b) }
