package brainscales2

import (
	"math"
	"sync"

	"github.com/nmp-platform/nmp/internal/rng"
)

// The analog model of a neuron circuit: how CapMem codes and switches become
// voltages, conductances, capacitances and time constants, and how each
// circuit deviates from the nominal transfer (fixed-pattern noise). Units
// inside the emulation: V, µs, pF, µS and µA (µS x V = µA, pF x V/µs = µA).
//
// The nominal transfer functions below are this emulation's model, chosen to
// reproduce the documented ranges (calix's time-constant ranges, the
// tutorial's "leak 300-1000, threshold 0-600" working ranges, the ~0.5 µs
// fastest reset); docs/brainscales2.md lists each with its status.

// Voltage cells (CapMem voltage outputs).
const (
	vLeak = iota
	vReset
	vThreshold
	vExp
	vRevE
	vRevI
	vAdRef
	vAdLeak
	numVCells
)

// Current cells (CapMem bias currents and what they bias).
const (
	iLeak = iota
	iReset
	iTauE
	iTauI
	iGmE
	iGmI
	iCobaE
	iCobaI
	iExp
	iAdTau
	iAdA
	iAdB
	iOffset
	numICells
)

// Nominal transfer constants.
const (
	sourceFollowerV = 0.35  // drop of the leak/reset input source followers
	gOTAMax         = 0.6   // µS: leak or reset OTA transconductance at code 1022
	gFloor          = 1e-4  // µS: what remains with a zero bias (subthreshold leakage)
	capFull         = 2.2   // pF at capacitor code 63
	capParasitic    = 0.08  // pF with capacitor code 0
	tauSynMin       = 0.3   // µs: synaptic input time constant at code 1022, small capacitance
	synBigCap       = 3     // factor on tau (and 1/factor on the voltage jump) without small capacitance
	synHighRes      = 4     // factor on tau in high-resistance mode
	gmMax           = 1.2   // µS: synaptic input OTA at code 1022
	lineJumpV       = 0.1   // V: synaptic line deflection of a full synapse (63) at DAC bias 1022, small capacitance
	shiftScaleV     = 0.15  // V: OTA reference shift over the full i_shift_reference range
	shiftNeutral    = 300   // CapMem LSB: nominal i_shift_reference with no offset current
	cobaScaleV      = 0.015 // V: distance from the COBA reference to the reversal at code 1022 (0.06 V at 255, calix's largest COBA bias)
	expCurrentMax   = 0.05  // µA at code 1022
	expSlopeV       = 0.03  // V: the exponential term's slope factor
	adTauMin        = 20.0  // µs at code 1022
	adAMax          = 0.1   // µS at code 1022
	adBMax          = 0.02  // µA per spike at code 1022 and pulse clock scale 0
	adReadoutG      = 0.5   // µS: adaptation current to readout voltage
	offsetMax       = 0.1   // µA at code 1022
	lineRestV       = 0.6   // V: synaptic input lines at rest
	railV           = capMemFullV
)

// chipMismatch is the fixed-pattern noise of one virtual chip: per circuit
// and cell, and per readout channel. It is a pure function of the chip's
// identity and the mismatch sizes.
type chipMismatch struct {
	vGain, vOff [numVCells][numCircuits]float64
	iGain       [numICells][numCircuits]float64
	sfLeak      [numCircuits]float64 // V
	sfReset     [numCircuits]float64
	comparator  [numCircuits]float64
	capRel      [numCircuits]float64
	shift0      [2][numCircuits]float64 // neutral i_shift_reference code, exc/inh
	lineRest    [2][numCircuits]float64
	readoutOff  [numCircuits]float64
	cadcOff     [numCircuits]float64 // LSB, the channel under each neuron column
	dacGain     [numQuadrants]float64
	madcOff     [madcChannels]float64 // V
	madcGain    [madcChannels]float64
	seed        uint64
	synSigma    float64
}

// Stream domains.
const (
	domVCell uint64 = iota + 101
	domICell
	domMisc
	domSynapse
	domRun
	domMADC
	domCADC
	domSource
	domPhase
)

type mismatchKey struct {
	chip string
	m    Mismatch
}

var mismatchCache sync.Map // mismatchKey -> *chipMismatch

// mismatchOf returns the chip's fixed-pattern noise.
func mismatchOf(chip string, m Mismatch) *chipMismatch {
	key := mismatchKey{chip, m}
	if v, ok := mismatchCache.Load(key); ok {
		return v.(*chipMismatch)
	}
	seed := chipSeed(chip)
	cm := &chipMismatch{seed: seed, synSigma: m.Synapse}
	normal := func(keys ...uint64) float64 {
		r := rng.New(rng.Derive(seed, keys...))
		return r.Normal()
	}
	logn := func(sigma float64, keys ...uint64) float64 {
		return math.Exp(sigma*normal(keys...) - sigma*sigma/2)
	}
	for c := 0; c < numCircuits; c++ {
		uc := uint64(c)
		for k := 0; k < numVCells; k++ {
			cm.vGain[k][c] = 1 + m.CapMemGain*normal(domVCell, uint64(k), uc, 0)
			cm.vOff[k][c] = m.CapMemOffsetMV * 1e-3 * normal(domVCell, uint64(k), uc, 1)
		}
		for k := 0; k < numICells; k++ {
			cm.iGain[k][c] = logn(m.CurrentGain, domICell, uint64(k), uc)
		}
		cm.sfLeak[c] = sourceFollowerV + m.SourceFollowerMV*1e-3*normal(domMisc, 0, uc)
		cm.sfReset[c] = sourceFollowerV + m.SourceFollowerMV*1e-3*normal(domMisc, 1, uc)
		cm.comparator[c] = m.ComparatorMV * 1e-3 * normal(domMisc, 2, uc)
		cm.capRel[c] = 1 + m.Capacitance*normal(domMisc, 3, uc)
		cm.shift0[0][c] = shiftNeutral + m.ShiftReferenceLSB*normal(domMisc, 4, uc)
		cm.shift0[1][c] = shiftNeutral + m.ShiftReferenceLSB*normal(domMisc, 5, uc)
		cm.lineRest[0][c] = lineRestV + 0.02*normal(domMisc, 6, uc)
		cm.lineRest[1][c] = lineRestV + 0.02*normal(domMisc, 7, uc)
		cm.readoutOff[c] = m.ReadoutMV * 1e-3 * normal(domMisc, 8, uc)
		cm.cadcOff[c] = m.CADCOffsetLSB * normal(domMisc, 9, uc)
	}
	for q := 0; q < numQuadrants; q++ {
		cm.dacGain[q] = logn(m.CurrentGain, domMisc, 10, uint64(q))
	}
	for ch := 0; ch < madcChannels; ch++ {
		cm.madcOff[ch] = m.MADCOffsetMV * 1e-3 * normal(domMisc, 11, uint64(ch))
		cm.madcGain[ch] = 1 + m.MADCGain*normal(domMisc, 12, uint64(ch))
	}
	v, _ := mismatchCache.LoadOrStore(key, cm)
	return v.(*chipMismatch)
}

// synapseGain returns the relative strength of the synapse in hemisphere h,
// row r, column col: its DAC's deviation from nominal.
func (cm *chipMismatch) synapseGain(h, r, col int) float64 {
	if cm.synSigma == 0 {
		return 1
	}
	s := rng.New(rng.Derive(cm.seed, domSynapse, uint64(h), uint64(r), uint64(col)))
	return math.Max(0, 1+cm.synSigma*s.Normal())
}

// capV is a CapMem voltage cell's nominal output.
func capV(code float64) float64 { return capMemFullV * code / capMemMax }

// phys is one neuron circuit's physical parameters for a run.
type phys struct {
	C              float64 // pF
	gL, eL         float64 // µS, V
	gR, vR         float64
	vTh            float64 // +Inf with the threshold off
	tauE, tauI     float64 // µs
	gmE, gmI       float64 // µS (0 with the input off)
	jumpE, jumpI   float64 // V of line deflection per unit of synaptic charge
	iDC            float64 // µA: constant current and the synaptic OTAs' offsets
	cobaE, cobaI   bool
	eRevE, eRevI   float64 // V: the COBA OTA's reference (v_rev_coba), where it leaves the CUBA strength as it is
	kE, kI         float64 // 1/V
	expOn          bool
	iExp0, vExp    float64
	adOn, adPulse  bool
	tauW, a, b, eW float64
	vWRef          float64
	lineE0, lineI0 float64
	refrUs, rstUs  float64 // refractory period and the reset within it
	pause          bool
	bypassE        bool
	bypassI        bool
}

// The parameter names derive reads for every circuit at every reset,
// built once (not concatenated per circuit).
type otaNames struct{ division, multiplication, degeneration string }

func otaNamesOf(prefix string) otaNames {
	return otaNames{prefix + "_enable_division", prefix + "_enable_multiplication", prefix + "_enable_degeneration"}
}

type syninNames struct{ tau, smallCap, highRes, enable, gm, shift, coba, rev, biasCoba string }

func syninNamesOf(prefix string) syninNames {
	return syninNames{prefix + "_i_bias_tau", prefix + "_enable_small_capacitance", prefix + "_enable_high_resistance",
		prefix + "_enable", prefix + "_i_bias_gm", prefix + "_i_shift_reference", prefix + "_enable_coba_mode",
		prefix + "_v_rev_coba", prefix + "_i_bias_coba"}
}

var (
	leakOTA, resetOTA = otaNamesOf("leak"), otaNamesOf("reset")
	syninOf           = [2]syninNames{syninNamesOf("excitatory_input"), syninNamesOf("inhibitory_input")}
)

// codes reads one neuron's parameters.
type codes func(name string) float64

// jitter is a run's temporal noise of one neuron: CapMem voltage offsets and
// relative current deviations.
type jitter struct {
	v [numVCells]float64
	i [numICells]float64
}

// derive computes circuit c's physical parameters from its configuration.
func derive(p codes, c int, quadrant int, o *Options, cm *chipMismatch, jt *jitter) phys {
	on := func(name string) bool { return p(name) != 0 }
	volt := func(k int, name string) float64 {
		return capV(p(name))*cm.vGain[k][c] + cm.vOff[k][c] + jt.v[k]
	}
	cur := func(k int, name string) float64 {
		return p(name) / capMemMax * cm.iGain[k][c] * (1 + jt.i[k])
	}
	otaScale := func(o *otaNames) float64 {
		f := 1.0
		if on(o.division) {
			f /= 8
		}
		if on(o.multiplication) {
			f *= 8
		}
		if on(o.degeneration) {
			f /= 2
		}
		return f
	}
	var n phys
	n.C = capFull*p("membrane_capacitance_capacitance")/63*cm.capRel[c] + capParasitic
	n.gL = math.Max(gOTAMax*cur(iLeak, "leak_i_bias")*otaScale(&leakOTA), gFloor)
	n.eL = volt(vLeak, "leak_v_leak") - cm.sfLeak[c]
	n.gR = math.Max(gOTAMax*cur(iReset, "reset_i_bias")*otaScale(&resetOTA), gFloor)
	n.vR = volt(vReset, "reset_v_reset") - cm.sfReset[c]
	n.vTh = math.Inf(1)
	if on("threshold_enable") && !o.EnableNeuronBypass {
		n.vTh = volt(vThreshold, "threshold_v_threshold") + cm.comparator[c]
	}
	dac := o.dacBias(quadrant) / capMemMax * cm.dacGain[quadrant]
	synin := func(nm *syninNames, kTau, kGm, kCoba, kRev, side int) (tau, gm, jump, idc float64, coba bool, eRev, k float64) {
		tau = tauSynMin / math.Max(cur(kTau, nm.tau), 1.0/capMemMax)
		jump = lineJumpV * dac
		if !on(nm.smallCap) {
			tau *= synBigCap
			jump /= synBigCap
		}
		if on(nm.highRes) {
			tau *= synHighRes
		}
		if !on(nm.enable) {
			return tau, 0, jump, 0, false, 0, 0
		}
		gm = gmMax * cur(kGm, nm.gm)
		idc = gm * shiftScaleV * (p(nm.shift) - cm.shift0[side][c]) / capMemMax
		if on(nm.coba) {
			coba = true
			eRev = volt(kRev, nm.rev)
			k = cur(kCoba, nm.biasCoba) / cobaScaleV
		}
		return
	}
	var idcE, idcI float64
	n.tauE, n.gmE, n.jumpE, idcE, n.cobaE, n.eRevE, n.kE = synin(&syninOf[0], iTauE, iGmE, iCobaE, vRevE, 0)
	n.tauI, n.gmI, n.jumpI, idcI, n.cobaI, n.eRevI, n.kI = synin(&syninOf[1], iTauI, iGmI, iCobaI, vRevI, 1)
	n.iDC = idcE - idcI
	if on("constant_current_enable") {
		i := offsetMax * cur(iOffset, "constant_current_i_offset")
		if p("constant_current_type") != 0 {
			i = -i
		}
		n.iDC += i
	}
	if on("exponential_enable") {
		n.expOn = true
		n.iExp0 = expCurrentMax * cur(iExp, "exponential_i_bias")
		n.vExp = volt(vExp, "exponential_v_exp")
	}
	if on("adaptation_enable") {
		n.adOn = true
		n.tauW = adTauMin / math.Max(cur(iAdTau, "adaptation_i_bias_tau"), 1.0/capMemMax)
		n.a = adAMax * cur(iAdA, "adaptation_i_bias_a")
		if on("adaptation_invert_a") {
			n.a = -n.a
		}
		n.adPulse = on("adaptation_enable_pulse")
		n.b = adBMax * cur(iAdB, "adaptation_i_bias_b") * math.Pow(2, float64(o.ClockScaleAdaptPulse))
		if on("adaptation_invert_b") {
			n.b = -n.b
		}
		n.eW = volt(vAdLeak, "adaptation_v_leak")
	}
	n.vWRef = volt(vAdRef, "adaptation_v_ref")
	n.lineE0, n.lineI0 = cm.lineRest[0][c], cm.lineRest[1][c]
	// The refractory counter counts refractory_time cycles of the selected
	// clock; the reset is released (0x1F - 2*holdoff) cycles before the end
	// (haldls' ResetHoldoff). Below that many cycles the release mask is
	// never met: the reset then lasts the whole refractory period.
	clk := o.refractoryClockUs(p("refractory_period_input_clock") != 0, c/numColumns)
	rt := p("refractory_period_refractory_time")
	early := 31 - 2*p("refractory_period_reset_holdoff")
	n.refrUs = rt * clk
	n.rstUs = n.refrUs
	if rt >= early {
		n.rstUs = (rt - early) * clk
	}
	n.pause = on("refractory_period_enable_pause")
	n.bypassE = on("event_routing_enable_bypass_excitatory") || o.EnableNeuronBypass
	n.bypassI = on("event_routing_enable_bypass_inhibitory") || o.EnableNeuronBypass
	return n
}

// restingV returns the membrane voltage a circuit settles at without input
// (ignoring the exponential term and adaptation), within the rails.
func (n *phys) restingV() float64 {
	return clampRail(n.eL + n.iDC/n.gL)
}

func clampRail(v float64) float64 {
	if v < 0 {
		return 0
	}
	if v > railV {
		return railV
	}
	return v
}
