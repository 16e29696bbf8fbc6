//go:build !(goexperiment.simd && amd64)

package engine

// haveSIMD is false without GOEXPERIMENT=simd on amd64: the scalar loops run.
const haveSIMD = false

func (m *lifCond) stepExpHomSIMD(lo, hi int, in *Input, out *Spikes) {
	m.stepExpHomScalar(lo, hi, in, out)
}

func (m *lifCurr) stepExpHomSIMD(lo, hi int, in *Input, out *Spikes) {
	m.stepExpHomScalar(lo, hi, in, out)
}
