package engine

import "math"

// Exact propagators of linear subthreshold dynamics (Rotter and Diesmann
// 1999). For a membrane dV/dt = -(V-V_rest)/tau_m + I/c_m driven by a
// synaptic current with time constant tau_s, the step of length h maps
// (V, I) to (V', I') exactly. The forms below stay accurate when tau_m and
// tau_s are equal or nearly so, where the textbook formula divides by zero.
// They are exported for the systems whose own neuron models integrate the
// same dynamics (system/brainscales2's analog circuits), so that there is
// one implementation of them. They hold in any consistent units.

// expm1Ratio returns (1 - e^-x)/x, with its limit 1 at x = 0.
func expm1Ratio(x float64) float64 {
	if math.Abs(x) < 1e-5 {
		return 1 - x/2 + x*x/6
	}
	return -math.Expm1(-x) / x
}

// alphaRatio returns (1 - e^-x (1+x))/x^2, with its limit 1/2 at x = 0.
func alphaRatio(x float64) float64 {
	if math.Abs(x) < 1e-2 {
		return 0.5 - x/3 + x*x/8 - x*x*x/30 + x*x*x*x/144
	}
	return (-math.Expm1(-x) - x*math.Exp(-x)) / (x * x)
}

// PropExp returns the membrane's response at h to an exponentially decaying
// current of initial amplitude 1 nA with time constant taus:
// (1/cm) * integral_0^h e^(-(h-s)/taum) e^(-s/taus) ds, in mV.
func PropExp(h, taum, taus, cm float64) float64 {
	a := 1/taus - 1/taum
	return math.Exp(-h/taum) * h * expm1Ratio(a*h) / cm
}

// PropAlpha returns the membrane's response at h to a current s*e^(-s/taus)
// (the "derivative" variable of an alpha synapse, initial value 1 nA/ms):
// (1/cm) * integral_0^h e^(-(h-s)/taum) s e^(-s/taus) ds, in mV.
func PropAlpha(h, taum, taus, cm float64) float64 {
	a := 1/taus - 1/taum
	return math.Exp(-h/taum) * h * h * alphaRatio(a*h) / cm
}

// PropConst returns the membrane's response at h to a constant current of 1 nA.
func PropConst(h, taum, cm float64) float64 {
	return -math.Expm1(-h/taum) * taum / cm
}

// steps converts a duration in ms to whole steps, rounding to the nearest.
func steps(ms, dt float64) int64 {
	return int64(math.Round(ms / dt))
}
