package spinnaker

import (
	"math"
	"math/big"
	"testing"

	"github.com/nmp-platform/nmp/internal/rng"
)

// The fixed-point operations, held against their definitions computed
// with exact rationals.
func TestFixedPoint(t *testing.T) {
	const seed = 11
	t.Logf("seed %d", seed)
	r := rng.New(seed)
	floorDiv := func(num *big.Int, shift uint) int64 {
		// floor(num / 2^shift)
		q := new(big.Int).Rsh(num, shift) // Rsh on big.Int rounds toward minus infinity
		return q.Int64()
	}
	for i := 0; i < 200000; i++ {
		a, b := int32(r.Uint64()), int32(r.Uint64())
		if i%3 == 0 {
			a >>= 12 // values of the size neurons have
			b >>= 12
		}
		// accum × accum: toward minus infinity, then truncate to 32 bits.
		p := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b)))
		if want := int32(floorDiv(p, 15)); mulK(a, b) != want {
			t.Fatalf("mulK(%d, %d) = %d, want %d", a, b, mulK(a, b), want)
		}
		d := uint32(r.Uint64())
		q := new(big.Int).Mul(big.NewInt(int64(a)), new(big.Int).SetUint64(uint64(d)))
		if want := int32(floorDiv(q, 32)); decayK(a, d) != want {
			t.Fatalf("decayK(%d, %d) = %d, want %d", a, d, decayK(a, d), want)
		}
	}
	for _, c := range []struct {
		f    float64
		want int32
	}{{1, 32768}, {-65, -65 * 32768}, {0.5 / 32768, 1}, {-0.5 / 32768, -1}, {1e9, math.MaxInt32}, {-1e9, math.MinInt32}} {
		if got := toK(c.f); got != c.want {
			t.Errorf("toK(%g) = %d, want %d", c.f, got, c.want)
		}
	}
	if ceilK(toK(2.0)) != 2 || ceilK(toK(2.0)+1) != 3 || ceilK(toK(0.1)) != 1 || ceilK(0) != 0 {
		t.Error("ceilK")
	}
	if toU032(1) != math.MaxUint32 || toU032(0.5) != 1<<31 || toU032(-1) != 0 {
		t.Error("toU032")
	}
}
