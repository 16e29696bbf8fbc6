package calib

import (
	"fmt"
	"math"
	"slices"
)

// The COBA calibration (calix's ExcCOBABiasCalib and InhCOBABiasCalib with
// their COBAReferenceCalib): a conductance-based input's strength changes
// with the membrane potential. Two CapMem cells per input set it: the
// COBA OTA's voltage cell (v_rev_coba) and its bias (i_bias_coba). Both are
// searched by measuring PSP amplitudes through the CADC at two resting
// potentials: at the reference potential the amplitude must be the one
// the input has without COBA (CUBA), and, extrapolated linearly from a
// second potential towards the reversal, it must vanish at the reversal
// potential.

// COBA measurement settings (calix's values).
const (
	cobaMinLeak      = 60.0  // lowest resting potential a PSP is measured at (CADC)
	cobaMaxLeak      = 165.0 // highest
	cobaAmplitude    = 30.0  // expected amplitude of the four events (CADC)
	cobaAllowedDev   = 15.0  // a resting potential further from its target makes the bias lower
	cobaLeakBias     = 120   // leak_i_bias during the COBA calibration: τ_mem about 30 µs
	cobaTowardsRev   = 0.8   // the second potential: this fraction of the way to the reversal
	cobaMinSeparated = 2 * cobaAmplitude
	// cobaBiasMax is the largest COBA bias searched: calix limits the
	// search to a quarter of the CapMem range, enough for biologically
	// plausible targets.
	cobaBiasMax = CapMemMax / 4
)

// cobaReference returns the reference potential of neuron i: where a
// COBA input is as strong as it is without COBA (calix: the target's
// e_coba_reference, by default midway between leak and threshold).
func (t *NeuronTarget) cobaReference(i int) float64 {
	if t.ECobaReference != nil && !math.IsNaN(t.ECobaReference.at(i)) {
		return t.ECobaReference.at(i)
	}
	return (t.Leak.at(i) + t.Threshold.at(i)) / 2
}

// cobaGeometry are the potentials of one input's COBA calibration.
type cobaGeometry struct {
	active           []bool    // the neurons with COBA on this input
	ref              []float64 // the reference potential
	leakRef, leakRev []float64 // the resting potentials the PSPs are measured from
	flipped          []bool    // the second potential on the reference's other side
}

// cobaPoints works out, for input s, where calix's COBA calibration
// measures, and refuses targets that leave no room for it (before anything
// touches the chip).
func (t *NeuronTarget) cobaPoints(s int) (cobaGeometry, error) {
	sign, rev := 1.0, t.ECobaReversalExc
	if s == 1 {
		sign, rev = -1, t.ECobaReversalInh
	}
	g := cobaGeometry{active: make([]bool, NumNeurons), ref: make([]float64, NumNeurons), leakRef: make([]float64, NumNeurons),
		leakRev: make([]float64, NumNeurons), flipped: make([]bool, NumNeurons)}
	for i := range g.active {
		ref := t.cobaReference(i)
		g.ref[i], g.leakRef[i], g.leakRev[i] = ref, ref, ref
		if !t.coba(s, i) {
			continue
		}
		g.active[i] = true
		if ref < cobaMinLeak || ref > cobaMaxLeak {
			return g, fmt.Errorf("e_coba_reference: %g at neuron %d (midway between its leak and threshold unless given) is outside %g to %g CADC reads, where PSPs can be measured", ref, i, cobaMinLeak, cobaMaxLeak)
		}
		// The four events' excursion is centred on the reference.
		g.leakRef[i] = ref - sign*cobaAmplitude/2
		// The second potential: most of the way to the reversal, within
		// the range where PSPs can be measured, and far enough from the
		// reference; else on the reference's other side.
		x := math.Min(math.Max(ref+cobaTowardsRev*(rev.at(i)-ref), cobaMinLeak), cobaMaxLeak)
		if math.Abs(ref-x) < cobaMinSeparated {
			x, g.flipped[i] = ref-sign*cobaMinSeparated, true
		}
		if x < cobaMinLeak || x > cobaMaxLeak {
			return g, fmt.Errorf("e_coba_reversal (%s): the reference %g and the reversal %g at neuron %d leave no room for a second PSP measurement %g or more from the reference within %g to %g CADC reads", [2]string{"excitatory", "inhibitory"}[s], ref, rev.at(i), i, cobaMinSeparated, cobaMinLeak, cobaMaxLeak)
		}
		g.leakRev[i] = x
	}
	return g, nil
}

// coba calibrates the conductance-based inputs that ask for it.
func (n *neuronCalib) coba() error {
	if !n.t.anyCOBA() {
		return nil
	}
	for s := range sideNames {
		if err := n.cobaSide(s); err != nil {
			return err
		}
	}
	return nil
}

// cobaSide calibrates one input's COBA bias and, nested in every step of
// that search, its reference cell.
func (n *neuronCalib) cobaSide(s int) error {
	side := sideNames[s]
	rev := n.t.ECobaReversalExc
	if s == 1 {
		rev = n.t.ECobaReversalInh
	}
	g, err := n.t.cobaPoints(s)
	if err != nil {
		return err
	}
	active, ref, leakRef, leakRev, flipped := g.active, g.ref, g.leakRef, g.leakRev, g.flipped
	if !slices.Contains(active, true) {
		return nil
	}
	modeKey, revKey, biasKey := side+"_enable_coba_mode", side+"_v_rev_coba", side+"_i_bias_coba"
	base := merge(n.syninOver(), map[string][]float64{"excitatory_input_enable": filled(1), "inhibitory_input_enable": filled(1),
		"leak_i_bias": filled(cobaLeakBias)})
	cubaOver := merge(base, map[string][]float64{"excitatory_input_enable_coba_mode": filled(0), "inhibitory_input_enable_coba_mode": filled(0)})
	name := "COBA (" + [2]string{"excitatory", "inhibitory"}[s] + ")"

	// Prelude, without COBA: the leak at the reference, the CUBA amplitude
	// there, the leak near the reversal.
	if err := n.searchIn(name, "leak_v_leak", Range{0, CapMemMax}, false, leakRef, cubaOver, n.rest, active, false); err != nil {
		return err
	}
	leakRefCodes := slices.Clone(n.cfg["leak_v_leak"])
	if err := n.write(cubaOver); err != nil {
		return err
	}
	cuba, err := n.psp(s)
	if err != nil {
		return err
	}
	// The reference cell's search: the amplitude at the reference is the
	// CUBA one.
	reference := func(record bool) error {
		n.cfg["leak_v_leak"] = slices.Clone(leakRefCodes)
		return n.searchIn(name+" reference", revKey, Range{0, CapMemMax}, s == 1, cuba, base,
			func() ([]float64, error) { return n.psp(s) }, active, record)
	}
	// The bias search's measurement: the reference cell searched anew for
	// this bias, the leak searched near the reversal, the amplitude there
	// compared with the line from the CUBA amplitude at the reference to
	// zero at the reversal.
	measure := func() ([]float64, error) {
		n.cfg[biasKey] = slices.Clone(n.onChip[biasKey])
		if err := reference(false); err != nil {
			return nil, err
		}
		if err := n.searchIn(name, "leak_v_leak", Range{0, CapMemMax}, false, leakRev, base, n.rest, active, false); err != nil {
			return nil, err
		}
		if err := n.write(base); err != nil {
			return nil, err
		}
		reached, err := n.rest()
		if err != nil {
			return nil, err
		}
		amp, err := n.psp(s)
		if err != nil {
			return nil, err
		}
		out := make([]float64, NumNeurons)
		for i := range out {
			if !active[i] {
				continue
			}
			frac := (reached[i] - ref[i]) / (rev.at(i) - ref[i])
			out[i] = amp[i] - cuba[i]*(1-frac)
			if flipped[i] {
				out[i] = -out[i]
			}
			if math.Abs(reached[i]-leakRev[i]) > cobaAllowedDev {
				out[i] = math.Inf(-1)
			}
		}
		return out, nil
	}
	n.cfg[modeKey] = boolsToFloats(active, n.cfg[modeKey])
	if err := n.search(name+" bias", biasKey, Range{0, cobaBiasMax}, true, make([]float64, NumNeurons), base, measure, active); err != nil {
		return err
	}
	// Postlude: the reference cell for the final bias.
	return reference(true)
}

// boolsToFloats sets xs[i] to 1 where on[i] (a copy).
func boolsToFloats(on []bool, xs []float64) []float64 {
	out := slices.Clone(xs)
	for i, b := range on {
		if b {
			out[i] = 1
		}
	}
	return out
}

// EvaluateCOBA measures, for each input with COBA neurons in r, every COBA
// neuron's reversal potential (extrapolated linearly from the PSP
// amplitudes at its reference and near its reversal, as calix's
// calibration sees it) and its strength at the reference relative to the
// same input without COBA, with the calibration applied (after) and with
// the two COBA cells at the median of their calibrated values (before).
// Reversal potentials beyond the CADC's range are extrapolated too.
func EvaluateCOBA(c Chip, r *SpikingResult) ([]Residual, error) {
	n, err := resume(c, r.CADC, r.Neuron, 97)
	if err != nil {
		return nil, err
	}
	n.setTmpTau()
	t := n.t
	var out []Residual
	for s, side := range sideNames {
		if !t.hasCOBA(s) {
			continue
		}
		name := [2]string{"excitatory", "inhibitory"}[s]
		revKey, biasKey := side+"_v_rev_coba", side+"_i_bias_coba"
		sign, rev := 1.0, t.ECobaReversalExc
		if s == 1 {
			sign, rev = -1, t.ECobaReversalInh
		}
		var active []int
		for i := 0; i < NumNeurons; i++ {
			if t.coba(s, i) {
				active = append(active, i)
			}
		}
		measure := func() (erev, strength []float64, err error) {
			calibrated := map[string][]float64{revKey: n.cfg[revKey], biasKey: n.cfg[biasKey]}
			base := merge(n.syninOver(), map[string][]float64{"excitatory_input_enable": filled(1), "inhibitory_input_enable": filled(1),
				"leak_i_bias": filled(cobaLeakBias)})
			cubaOver := merge(base, map[string][]float64{"excitatory_input_enable_coba_mode": filled(0), "inhibitory_input_enable_coba_mode": filled(0)})
			at := func(target []float64) (reached, cuba, amp []float64, err error) {
				if err := n.searchIn("evaluation", "leak_v_leak", Range{0, CapMemMax}, false, target, cubaOver, n.rest, nil, false); err != nil {
					return nil, nil, nil, err
				}
				if err := n.write(cubaOver); err != nil {
					return nil, nil, nil, err
				}
				if cuba, err = n.psp(s); err != nil {
					return nil, nil, nil, err
				}
				if err := n.write(merge(base, calibrated)); err != nil {
					return nil, nil, nil, err
				}
				if reached, err = n.rest(); err != nil {
					return nil, nil, nil, err
				}
				amp, err = n.psp(s)
				return reached, cuba, amp, err
			}
			lo, hi := make([]float64, NumNeurons), make([]float64, NumNeurons)
			for i := range lo {
				ref := t.cobaReference(i)
				lo[i] = ref - sign*cobaAmplitude/2
				hi[i] = math.Min(math.Max(ref+cobaTowardsRev*(rev.at(i)-ref), cobaMinLeak), cobaMaxLeak)
				if !t.coba(s, i) || math.Abs(ref-hi[i]) < cobaMinSeparated {
					hi[i] = ref - sign*cobaMinSeparated
				}
			}
			r1, c1, a1, err := at(lo)
			if err != nil {
				return nil, nil, err
			}
			r2, _, a2, err := at(hi)
			if err != nil {
				return nil, nil, err
			}
			for _, i := range active {
				// as the calibration takes them: the amplitude from half an
				// excursion before the reference stands for the reference,
				// the one near the reversal for the potential reached
				v1, v2 := r1[i]+sign*cobaAmplitude/2, r2[i]
				erev = append(erev, v1+a1[i]*(v2-v1)/(a1[i]-a2[i]))
				strength = append(strength, a1[i]/c1[i])
			}
			return erev, strength, nil
		}
		keep := map[string][]float64{revKey: slices.Clone(n.cfg[revKey]), biasKey: slices.Clone(n.cfg[biasKey]), "leak_v_leak": slices.Clone(n.cfg["leak_v_leak"])}
		eAfter, sAfter, err := measure()
		if err != nil {
			return nil, err
		}
		for _, k := range []string{revKey, biasKey} {
			var codes []float64
			for _, i := range active {
				codes = append(codes, keep[k][i])
			}
			m := math.Round(median(codes))
			n.cfg[k] = slices.Clone(keep[k])
			for _, i := range active {
				n.cfg[k][i] = m
			}
		}
		eBefore, sBefore, err := measure()
		if err != nil {
			return nil, err
		}
		for k, v := range keep {
			n.cfg[k] = v
		}
		var tgt []float64
		for _, i := range active {
			tgt = append(tgt, rev.at(i))
		}
		e := Residual{Parameter: "e_coba_reversal (" + name + ")", Unit: "CADC", Target: median(tgt), MedianAfter: median(eAfter),
			StdBefore: trimmedStd(eBefore), StdAfter: trimmedStd(eAfter)}
		e.Ratio = e.StdAfter / e.StdBefore
		st := Residual{Parameter: "COBA strength at the reference (" + name + ")", Unit: "× CUBA", Target: 1, MedianAfter: median(sAfter),
			StdBefore: trimmedStd(sBefore), StdAfter: trimmedStd(sAfter)}
		st.Ratio = st.StdAfter / st.StdBefore
		out = append(out, e, st)
	}
	return out, n.write(nil)
}

// hasCOBA says whether any neuron's input on side s is conductance-based.
func (t *NeuronTarget) hasCOBA(s int) bool {
	for i := 0; i < NumNeurons; i++ {
		if t.coba(s, i) {
			return true
		}
	}
	return false
}
