package engine

import "math"

// Adaptive Runge-Kutta integration for the non-linear cell types (AdEx, HH,
// Izhikevich).
//
// The scheme is Dormand and Prince's embedded 5(4) pair: seven stages, the
// last evaluated at the new state so that it serves as the first stage of the
// next substep (FSAL), and an error estimate from the difference of the fifth-
// and fourth-order solutions. Each neuron keeps its own substep length from
// one engine step to the next, as NEST's GSL-based models do, so a neuron at
// rest takes one substep per step and a neuron in a spike takes as many as its
// error bound asks for. Substeps never cross a step boundary, because inputs
// change there.
//
// Models drive the stages themselves (odeWork.stage, odeWork.errNorm) and call
// their own right-hand side, so the hot loop has no interface or function-value
// calls. The scratch lives on the stack of the model's Step.

// odeDim is the largest state vector of a model integrated this way.
const odeDim = 6

type odeVec [odeDim]float64

// Dormand-Prince 5(4) coefficients (Dormand and Prince 1980; Hairer, Norsett
// and Wanner, Table 5.2). dpA[s] is the row of stage s; dpA[6] is also the
// fifth-order solution; dpE are the error weights (b5 - b4). The systems are
// autonomous within a substep, so the stage times are not needed.
var (
	dpA = [7][6]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	}
	dpE = [7]float64{71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40}
)

// odeWork is the scratch of one neuron's integration.
type odeWork struct {
	k  [7]odeVec // stage derivatives; k[0] = f(y), k[6] = f(y1)
	y  odeVec    // state at the start of the substep
	yt odeVec    // stage argument; after stage 6 the fifth-order solution y1
}

// stage sets yt to the argument of stage s (1..6) for a substep of length h
// over the first n components.
func (w *odeWork) stage(s, n int, h float64) {
	a := &dpA[s]
	for j := 0; j < n; j++ {
		acc := 0.0
		for r := 0; r < s; r++ {
			acc += a[r] * w.k[r][j]
		}
		w.yt[j] = w.y[j] + h*acc
	}
}

// errNorm returns the largest error of the substep in units of the
// absolute tolerances, given as their inverses; the substep is acceptable
// when it is at most 1.
func (w *odeWork) errNorm(n int, h float64, invTol *odeVec) float64 {
	e := 0.0
	for j := 0; j < n; j++ {
		acc := 0.0
		for r := 0; r < 7; r++ {
			acc += dpE[r] * w.k[r][j]
		}
		// Plain comparisons: math.Max's NaN handling costs a call here.
		if x := math.Abs(h*acc) * invTol[j]; x > e || x != x {
			e = x
		}
	}
	if e != e {
		return math.Inf(1) // a NaN state: shrink the substep
	}
	return e
}

// nextStep returns the substep length after one of length h with error e:
// the usual safety factor 0.9 on the fifth-root rule, at most 5 times longer
// and at least 5 times shorter. The bounds are tested first because the
// power is costly and a neuron at rest is nearly always at the upper one.
func nextStep(h, e float64) float64 {
	const (
		eGrow   = 1.889568e-4 // (0.9/5)^5
		eShrink = 1845.28125  // (0.9/0.2)^5
	)
	switch {
	case e <= eGrow:
		return 5 * h
	case e >= eShrink:
		return 0.2 * h
	}
	return 0.9 * h * math.Pow(e, -0.2)
}

// hermiteCross returns the fraction theta in [0, 1] of a substep at which the
// cubic Hermite interpolant of a component, from value y0 with slope f0 to y1
// with slope f1 over a substep of length h, first reaches thr, given y0 < thr
// <= y1. The interpolant is third-order accurate, which is ample for locating
// a threshold crossing inside a substep the error control already accepted.
func hermiteCross(y0, y1, f0, f1, h, thr float64) float64 {
	p := func(s float64) float64 {
		s2 := s * s
		s3 := s2 * s
		return (2*s3-3*s2+1)*y0 + (s3-2*s2+s)*h*f0 + (-2*s3+3*s2)*y1 + (s3-s2)*h*f1 - thr
	}
	// The interpolant may cross more than once; scan for the first sign change,
	// then bisect.
	const scan = 8
	lo, hi := 0.0, 1.0
	for k := 1; k <= scan; k++ {
		s := float64(k) / scan
		if p(s) >= 0 {
			hi = s
			break
		}
		lo = s
	}
	for range 50 {
		mid := 0.5 * (lo + hi)
		if p(mid) >= 0 {
			hi = mid
		} else {
			lo = mid
		}
		if hi-lo < 1e-12 {
			break
		}
	}
	return hi
}
