//go:build goexperiment.simd && amd64

package engine

import (
	"simd/archsimd"
	"unsafe"
)

// at4 returns the four elements of xs from i on, which the caller has
// checked exist; it spares the vector loop a bounds check per load.
func at4(xs []float64, i int) *[4]float64 {
	return (*[4]float64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(xs)), i*8))
}

func at4i(xs []int32, i int) *[4]int32 {
	return (*[4]int32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(xs)), i*4))
}

// haveSIMD selects the vector kernels: built with GOEXPERIMENT=simd on a
// CPU with AVX2. They compute the same operations in the same order as the
// scalar loops (no fused multiply-add), so results are bit-identical;
// TestFastPathsMatchReference holds them to it.
var haveSIMD = archsimd.X86.AVX2()

// stepExpHomSIMD is stepExpHom four neurons at a time.
func (m *lifCond) stepExpHomSIMD(lo, hi int, in *Input, out *Spikes) {
	h := &m.h
	v, ge, gi, refr := m.v[lo:hi], m.ge[lo:hi], m.gi[lo:hi], m.refr[lo:hi]
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	iext, gap := in.external(lo, hi)
	n := len(v) &^ 3
	// One check for all the unchecked loads below.
	if len(ge) < n || len(gi) < n || len(refr) < n || len(inE) < n || len(inI) < n {
		panic("engine: slices shorter than the population")
	}
	peh, pih := archsimd.BroadcastFloat64x4(h.peh), archsimd.BroadcastFloat64x4(h.pih)
	pe, pi := archsimd.BroadcastFloat64x4(h.pe), archsimd.BroadcastFloat64x4(h.pi)
	gL, gLvr, dtc := archsimd.BroadcastFloat64x4(h.gL), archsimd.BroadcastFloat64x4(h.gLvr), archsimd.BroadcastFloat64x4(h.dtc)
	eE, eI, iOff := archsimd.BroadcastFloat64x4(h.eE), archsimd.BroadcastFloat64x4(h.eI), archsimd.BroadcastFloat64x4(h.iOff)
	thr, reset := archsimd.BroadcastFloat64x4(h.vThresh), archsimd.BroadcastFloat64x4(h.vReset)
	one, half, twelfth := archsimd.BroadcastFloat64x4(1), archsimd.BroadcastFloat64x4(0.5), archsimd.BroadcastFloat64x4(1.0/12)
	zero := archsimd.BroadcastFloat64x4(0)
	zeroI := archsimd.BroadcastInt64x4(0)
	for i := 0; i < n; i += 4 {
		// Only AVX2 instructions (VPMOVSXDQ, VPCMPGTQ): the mask must not
		// come from a bitmap, which would need AVX-512's KMOV.
		inRefr := archsimd.LoadInt32x4(at4i(refr, i)).ExtendToInt64().Greater(zeroI)
		vi := archsimd.LoadFloat64x4(at4(v, i))
		gev := archsimd.LoadFloat64x4(at4(ge, i))
		giv := archsimd.LoadFloat64x4(at4(gi, i))
		gem := gev.Mul(peh)
		gim := giv.Mul(pih)
		I := iOff
		if iext != nil {
			I = I.Add(archsimd.LoadFloat64x4(at4(iext, i)))
		}
		if gap != nil {
			I = I.Add(archsimd.LoadFloat64x4(at4(gap, i)))
		}
		a := gL.Add(gem).Add(gim).Mul(dtc)
		num := gLvr.Add(gem.Mul(eE)).Add(gim.Mul(eI)).Add(I)
		a2 := a.Mul(a).Mul(twelfth)
		ha := half.Mul(a)
		vn := vi.Mul(one.Sub(ha).Add(a2)).Add(dtc.Mul(num)).Div(one.Add(ha).Add(a2))
		if rb := inRefr.ToBits(); rb != 0 {
			vn = reset.Merge(vn, inRefr)
			for k := 0; k < 4; k++ {
				if rb&(1<<k) != 0 {
					refr[i+k]--
				}
			}
		}
		gev.Mul(pe).Add(archsimd.LoadFloat64x4(at4(inE, i))).Store(at4(ge, i))
		giv.Mul(pi).Add(archsimd.LoadFloat64x4(at4(inI, i))).Store(at4(gi, i))
		zero.Store(at4(inE, i))
		zero.Store(at4(inI, i))
		vn.Store(at4(v, i))
		if sb := vn.GreaterEqual(thr).ToBits(); sb != 0 {
			for k := 0; k < 4; k++ {
				if sb&(1<<k) != 0 {
					out.Add(lo + i + k)
					v[i+k] = h.vReset
					refr[i+k] = h.refSteps
				}
			}
		}
	}
	if n < len(v) {
		m.stepExpHomScalar(lo+n, hi, in, out)
	}
}

// stepExpHomSIMD is lifCurr's stepExpHom four neurons at a time.
func (m *lifCurr) stepExpHomSIMD(lo, hi int, in *Input, out *Spikes) {
	h := &m.h
	v, ie, ii, refr := m.v[lo:hi], m.ie[lo:hi], m.ii[lo:hi], m.refr[lo:hi]
	inE, inI := in.Syn[0][lo:hi], in.Syn[1][lo:hi]
	iext, gap := in.external(lo, hi)
	n := len(v) &^ 3
	if len(ie) < n || len(ii) < n || len(refr) < n || len(inE) < n || len(inI) < n {
		panic("engine: slices shorter than the population")
	}
	vRest, p22, p20 := archsimd.BroadcastFloat64x4(h.vRest), archsimd.BroadcastFloat64x4(h.p22), archsimd.BroadcastFloat64x4(h.p20)
	p11e, p11i := archsimd.BroadcastFloat64x4(h.p11e), archsimd.BroadcastFloat64x4(h.p11i)
	p21e, p21i := archsimd.BroadcastFloat64x4(h.p21e), archsimd.BroadcastFloat64x4(h.p21i)
	iOff, thr := archsimd.BroadcastFloat64x4(h.iOff), archsimd.BroadcastFloat64x4(h.vThresh)
	zero := archsimd.BroadcastFloat64x4(0)
	zeroI := archsimd.BroadcastInt64x4(0)
	for i := 0; i < n; i += 4 {
		inRefr := archsimd.LoadInt32x4(at4i(refr, i)).ExtendToInt64().Greater(zeroI)
		vi := archsimd.LoadFloat64x4(at4(v, i))
		iev := archsimd.LoadFloat64x4(at4(ie, i))
		iiv := archsimd.LoadFloat64x4(at4(ii, i))
		I := iOff
		if iext != nil {
			I = I.Add(archsimd.LoadFloat64x4(at4(iext, i)))
		}
		if gap != nil {
			I = I.Add(archsimd.LoadFloat64x4(at4(gap, i)))
		}
		vn := vRest.Add(p22.Mul(vi.Sub(vRest))).Add(p21e.Mul(iev)).Add(p21i.Mul(iiv)).Add(p20.Mul(I))
		if rb := inRefr.ToBits(); rb != 0 {
			vn = vi.Merge(vn, inRefr)
			for k := 0; k < 4; k++ {
				if rb&(1<<k) != 0 {
					refr[i+k]--
				}
			}
		}
		p11e.Mul(iev).Add(archsimd.LoadFloat64x4(at4(inE, i))).Store(at4(ie, i))
		p11i.Mul(iiv).Add(archsimd.LoadFloat64x4(at4(inI, i))).Store(at4(ii, i))
		zero.Store(at4(inE, i))
		zero.Store(at4(inI, i))
		vn.Store(at4(v, i))
		if sb := vn.GreaterEqual(thr).ToBits(); sb != 0 {
			for k := 0; k < 4; k++ {
				if sb&(1<<k) != 0 {
					out.Add(lo + i + k)
					v[i+k] = h.vReset
					refr[i+k] = h.refSteps
				}
			}
		}
	}
	if n < len(v) {
		m.stepExpHomScalar(lo+n, hi, in, out)
	}
}
