package spinnaker

import (
	"fmt"
	"math"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

// STDP as sPyNNaker's cores compute it (synapse_dynamics_stdp_mad_impl.c,
// post_events.h, maths.h, stdp_typedefs.h, timing_pair_impl.h,
// timing_nearest_pair_impl.h, timing_vogels_2011_impl.h,
// weight_additive_one_term_impl.h, weight_multiplicative_impl.h):
//
//   - every synapse holds its weight as the 16-bit word of the synaptic
//     row; when a presynaptic spike is processed the word becomes an s16.15
//     weight (word << ring-buffer shift), is updated, and is cut back to 16
//     bits (>> shift) and written back to the row;
//   - traces are 16-bit fixed point with 11 fraction bits (STDP_FIXED_POINT),
//     decayed by look-up tables of floor(2048·exp(−k·dt/τ)) indexed by the
//     time since the last event in ticks (0 beyond the table), products of
//     16-bit numbers shifted right by 11 (maths_fixed_mul16);
//   - each row (presynaptic neuron) keeps the time and trace of its last
//     spike; each postsynaptic neuron a history of its last 15 spikes (16
//     entries, the first a placeholder at time 0) with their traces;
//   - a presynaptic spike processed at tick t over a synapse of delay D
//     (all of it dendritic: sPyNNaker's axonal delay is 0, and its default
//     backprop_delay puts the postsynaptic spikes D later) applies, in
//     order, the potentiation of every postsynaptic spike at tick p with
//     last_pre − D < p ≤ t − D, then the depression by the postsynaptic
//     trace of the newest of them (or the one before the window), if any.
//
// The weight dependences' parameters are s16.15 (accum): additive
// min_weight = w_min, max_weight = w_max, a2_plus = A_plus·w_max,
// a2_minus = A_minus·w_max (sPyNNaker pre-multiplies them by w_max, as PyNN
// defines the rule); multiplicative w_min, w_max, A_plus, A_minus.
// Vogels2011Rule's learning rate eta is a2_plus (sPyNNaker's A_plus·w_max
// with A_plus = eta/w_max) and its alpha = 2·rho·tau (the trace's value at
// the target rate) in the traces' fixed point.

// Fixed point of the traces (STDP_FIXED_POINT).
const (
	stdpFixed = 11
	stdpOne   = 1 << stdpFixed
	// histLen is MAX_POST_SYNAPTIC_EVENTS.
	histLen = 16
)

// expLUT is get_exp_lut_array with time shift 0.
func expLUT(dt, tau float64) []int16 { return expLUTShift(dt, tau, 0) }

// expLUTShift is get_exp_lut_array: floor(2048·exp(−(k<<shift)·dt/τ)) for
// k from 0 to a size of ln(2048)/(dt/τ)/2^shift rounded up to an even
// number. The triplet rule's x and y tables have shift 2: an entry every
// four ticks, looked up with the time since the event >> 2.
func expLUTShift(dt, tau float64, shift uint) []int16 {
	l := dt / tau
	size := math.Log(stdpOne) / l / float64(uint(1)<<shift)
	half, extra := math.Floor(size/2), math.Mod(size, 2)
	n := int(half) * 2
	if extra > 0 {
		n += 2
	}
	lut := make([]int16, n)
	for k := range lut {
		lut[k] = int16(math.Floor(math.Exp(float64(k<<shift)*-l) * stdpOne))
	}
	return lut
}

// lutDecay is maths_lut_exponential_decay (time shift 0).
func lutDecay(lut []int16, t uint32) int32 {
	if uint64(t) < uint64(len(lut)) {
		return int32(lut[t])
	}
	return 0
}

// lutDecay2 is maths_lut_exponential_decay of the triplet rule's x and y
// tables (time shift 2).
func lutDecay2(lut []int16, t uint32) int32 { return lutDecay(lut, t>>tripletShift) }

// tripletShift is TAU_X_TIME_SHIFT and TAU_Y_TIME_SHIFT.
const tripletShift = 2

// mul16 is maths_fixed_mul16 with STDP_FIXED_POINT: the ARM's SMULBB (the
// signed low halves multiplied) shifted right by 11.
func mul16(a, b int32) int32 { return (int32(int16(a)) * int32(int16(b))) >> stdpFixed }

// mulAccumFixed is mul_accum_fixed: an accum times a trace in the STDP
// fixed point shifted to s16.15 (<< 4), as an accum product.
func mulAccumFixed(a, f int32) int32 { return mulK(a, f<<(15-stdpFixed)) }

type timingKind int

const (
	timingPair timingKind = iota
	timingNearest
	timingVogels
	timingTriplet
)

// stdpParams is a projection's rule as the core holds it.
type stdpParams struct {
	timing               timingKind
	lutPlus, lutMinus    []int16 // Vogels: lutPlus is its one table
	lutX, lutY           []int16 // triplet: time shift 2
	alpha                int32   // Vogels, STDP fixed point
	mult                 bool
	minW, maxW, a2p, a2m int32 // s16.15
	a3p, a3m             int32 // triplet (WeightDependenceAdditiveTriplet), s16.15
	shift                uint32
}

// The rule's arithmetic, on one synapse's s16.15 weight.

func (q *stdpParams) potentiate(w, p int32) int32 {
	if q.mult {
		return w + mulAccumFixed(mulK(q.maxW-w, q.a2p), p)
	}
	return min(w+mulAccumFixed(q.a2p, p), q.maxW)
}

func (q *stdpParams) depress(w, d int32) int32 {
	if q.mult {
		return w - mulAccumFixed(mulK(w-q.minW, q.a2m), d)
	}
	return max(w-mulAccumFixed(q.a2m, d), q.minW)
}

// potentiate2 and depress2 are weight_additive_two_term_impl's: both
// terms added (or subtracted) before the one clamp.
func (q *stdpParams) potentiate2(w, x, y int32) int32 {
	w += mulAccumFixed(q.a2p, x)
	w += mulAccumFixed(q.a3p, y)
	return min(w, q.maxW)
}

func (q *stdpParams) depress2(w, x, y int32) int32 {
	w -= mulAccumFixed(q.a2m, x)
	w -= mulAccumFixed(q.a3m, y)
	return max(w, q.minW)
}

// addTriplet is the triplet rule's timing_add_pre_spike (r1 with tau_plus,
// r2 with tau_x) and timing_add_post_spike (o1 with tau_minus, o2 with
// tau_y): the second trace is sampled before the spike, 0 when the last
// event is at time 0 (the first spike, or sPyNNaker's quirk of a spike at
// tick 0).
func addTriplet(lut1, lut2 []int16, t, last uint32, tr1, tr2 int16) (int16, int16) {
	dt := t - last
	n1 := mul16(int32(tr1), lutDecay(lut1, dt)) + stdpOne
	n2 := int32(0)
	if last != 0 {
		n2 = mul16(int32(tr2)+stdpOne, lutDecay2(lut2, dt))
	}
	return int16(n1), int16(n2)
}

// addTrace is timing_add_pre_spike / timing_add_post_spike: the last trace
// decayed over the time since it, plus one, as an int16.
func (q *stdpParams) addTrace(lut []int16, t, last uint32, tr int16) int16 {
	if q.timing == timingNearest {
		return 0
	}
	dec := mul16(int32(tr), lutDecay(lut, t-last))
	if q.timing == timingVogels {
		dec = int32(int16(uint16(dec)))
	}
	return int16(dec + stdpOne)
}

// applyPost is timing_apply_post_spike at the delayed time t of a
// postsynaptic spike; lastPost is the window's previous event (undelayed).
func (q *stdpParams) applyPost(w int32, t, lastPre uint32, lastPreTr int16, lastPost uint32) int32 {
	sincePre := t - lastPre
	switch q.timing {
	case timingNearest:
		if sincePre == 0 {
			return w
		}
		r1 := lutDecay(q.lutPlus, sincePre)
		if t-lastPost < sincePre {
			r1 = 0
		}
		return q.potentiate(w, r1)
	case timingVogels:
		return q.potentiate(w, mul16(int32(lastPreTr), lutDecay(q.lutPlus, sincePre)))
	}
	if sincePre == 0 {
		return w
	}
	return q.potentiate(w, mul16(int32(lastPreTr), lutDecay(q.lutPlus, sincePre)))
}

// applyPre is timing_apply_pre_spike at tick t; lastPost is delayed.
func (q *stdpParams) applyPre(w int32, t, lastPost uint32, lastPostTr int16) int32 {
	since := t - lastPost
	switch q.timing {
	case timingNearest:
		return q.depress(w, lutDecay(q.lutMinus, since))
	case timingVogels:
		return q.potentiate(w, mul16(int32(lastPostTr), lutDecay(q.lutPlus, since))-q.alpha)
	}
	if since == 0 {
		return w
	}
	return q.depress(w, mul16(int32(lastPostTr), lutDecay(q.lutMinus, since)))
}

// initial and final are weight_get_initial and weight_get_final.
func (q *stdpParams) initial(word uint16) int32 { return int32(word) << q.shift }
func (q *stdpParams) final(w int32) uint16      { return uint16(w >> q.shift) }

// postHistory is post_event_history_t.
type postHistory struct {
	last    int // count_minus_one
	times   [histLen]uint32
	traces  [histLen]int16
	traces2 [histLen]int16 // the triplet rule's o2
}

// add is post_events_add, with the trace timing_add_post_spike gives.
func (h *postHistory) add(q *stdpParams, t uint32) {
	lut := q.lutMinus
	if q.timing == timingVogels {
		lut = q.lutPlus
	}
	var tr, tr2 int16
	if q.timing == timingTriplet {
		tr, tr2 = addTriplet(q.lutMinus, q.lutY, t, h.times[h.last], h.traces[h.last], h.traces2[h.last])
	} else {
		tr = q.addTrace(lut, t, h.times[h.last], h.traces[h.last])
	}
	if h.last < histLen-1 {
		h.last++
		h.times[h.last], h.traces[h.last], h.traces2[h.last] = t, tr, tr2
		return
	}
	copy(h.times[1:], h.times[2:])
	copy(h.traces[1:], h.traces[2:])
	copy(h.traces2[1:], h.traces2[2:])
	h.times[histLen-1], h.traces[histLen-1], h.traces2[histLen-1] = t, tr, tr2
}

// window is post_events_get_window_delayed: the index of the event before
// the window (0: the placeholder) and the end of the window's events.
func (h *postHistory) window(begin, end uint32) (prev, stop int) {
	count := h.last + 1
	stop, i := count, count
	for {
		if i < count && h.times[i] > end {
			stop = i
		}
		i--
		if !(h.times[i] > begin && i != 0) {
			return i, stop
		}
	}
}

// updateTriplet is plasticity_update_synapse for one synapse: a
// presynaptic spike at tick t over delay d, the row's previous spike at
// lastPre with trace lastPreTr, and (the triplet rule's) the second trace
// r2 of the new spike, newTr2, which the other rules ignore.
func (q *stdpParams) updateTriplet(w int32, h *postHistory, t, lastPre uint32, lastPreTr, newTr2 int16, d uint32) int32 {
	begin, end := uint32(0), uint32(0)
	if lastPre >= d {
		begin = lastPre - d
	}
	if t >= d {
		end = t - d
	}
	prev, stop := h.window(begin, end)
	prevTime, prevTr, valid := h.times[prev], h.traces[prev], prev != 0
	if q.timing == timingTriplet {
		for i := prev + 1; i < stop; i++ {
			// timing_apply_post_spike: potentiation by r1 decayed to the
			// postsynaptic spike, and its triplet term with the spike's o2.
			if since := h.times[i] + d - lastPre; since > 0 {
				r1 := mul16(int32(lastPreTr), lutDecay(q.lutPlus, since))
				w = q.potentiate2(w, r1, mul16(r1, int32(h.traces2[i])))
			}
			prevTime, prevTr, valid = h.times[i], h.traces[i], true
		}
		// timing_apply_pre_spike: depression by o1 decayed to the
		// presynaptic spike, and its triplet term with the new spike's r2.
		if since := t - (prevTime + d); valid && since > 0 {
			o1 := mul16(int32(prevTr), lutDecay(q.lutMinus, since))
			w = q.depress2(w, o1, mul16(o1, int32(newTr2)))
		}
		return w
	}
	for i := prev + 1; i < stop; i++ {
		w = q.applyPost(w, h.times[i]+d, lastPre, lastPreTr, prevTime)
		prevTime, prevTr, valid = h.times[i], h.traces[i], true
	}
	if valid {
		w = q.applyPre(w, t, prevTime+d, prevTr)
	}
	return w
}

// stdpRule is one projection's plasticity, per engine thread part.
type stdpRule struct {
	q     stdpParams
	lsb   float64
	parts []stdpPart
}

type stdpPart struct {
	row    []int64
	target []uint32
	delay  []uint32
	lo     int
	word   []uint16
	neg    []bool
	// per row: the tick and trace of the last presynaptic spike
	preT   []uint32
	preTr  []int16
	preTr2 []int16       // the triplet rule's r2
	hist   []postHistory // per neuron of the part's range
	out    []float64
	value  []float64
}

func (r *stdpRule) Pre(k, row int, s int64) []float64 {
	p := &r.parts[k]
	t := uint32(s - 1)
	lastT, lastTr, lastTr2 := p.preT[row], p.preTr[row], p.preTr2[row]
	if r.q.timing == timingTriplet {
		p.preTr[row], p.preTr2[row] = addTriplet(r.q.lutPlus, r.q.lutX, t, lastT, lastTr, lastTr2)
	} else {
		p.preTr[row] = r.q.addTrace(r.q.lutPlus, t, lastT, lastTr)
	}
	p.preT[row] = t
	newTr2 := p.preTr2[row]
	a, b := p.row[row], p.row[row+1]
	out := p.out[:b-a]
	for j := a; j < b; j++ {
		w := r.q.updateTriplet(r.q.initial(p.word[j]), &p.hist[int(p.target[j])-p.lo], t, lastT, lastTr, newTr2, p.delay[j])
		p.word[j] = r.q.final(w)
		out[j-a] = r.value(p.word[j], p.neg[j])
	}
	return out
}

func (r *stdpRule) value(word uint16, neg bool) float64 {
	if neg {
		return -float64(word) * r.lsb
	}
	return float64(word) * r.lsb
}

func (r *stdpRule) Post(k int, g int32, s int64) {
	p := &r.parts[k]
	p.hist[int(g)-p.lo].add(&r.q, uint32(s-1))
}

func (r *stdpRule) Reset() {
	for k := range r.parts {
		p := &r.parts[k]
		clear(p.preT)
		clear(p.preTr)
		clear(p.preTr2)
		clear(p.hist)
	}
}

func (r *stdpRule) Weights(k int) []float64 {
	p := &r.parts[k]
	for j, w := range p.word {
		p.value[j] = r.value(w, p.neg[j])
	}
	return p.value
}

// stdpSynapse is the engine-level synapse type of plastic projections:
// STDPMechanism with the ring-buffer shift of its target.
const stdpSynapse = enginePrefix + "STDPMechanism"

func init() {
	engine.RegisterPlasticity(stdpSynapse, newSTDPRule)
}

// stdpParamsOf derives the core's rule from a projection's description;
// ws is the target's input type's weight scale (32 for conductances: the
// weight dependences' weights and amplitudes are written times it, as the
// weights are).
func stdpParamsOf(sy *network.Synapse, dt float64, shift uint32, ws float64) (stdpParams, error) {
	q := stdpParams{shift: shift}
	get := func(c *network.Component, ct *network.ComponentType, prm network.Param) (float64, error) {
		name, x := prm.Name, prm.Default
		if v, ok := c.Parameters[name]; ok && v.IsSet() {
			if v.Kind != network.KindScalar {
				return 0, fmt.Errorf("synapse.%s.%s: sPyNNaker takes one value for the whole projection", ct.Name, name)
			}
			x = v.Scalar
		}
		return x, nil
	}
	td, wd := sy.TimingDependence, sy.WeightDependence
	if td == nil || wd == nil {
		return q, fmt.Errorf("synapse: STDPMechanism needs a timing and a weight dependence")
	}
	tt, wt := userCatalog.TimingRules[td.Type], userCatalog.WeightRules[wd.Type]
	if tt == nil || wt == nil {
		return q, fmt.Errorf("synapse: %s with %s is not built on nmp's SpiNNaker", td.Type, wd.Type)
	}
	P := map[string]float64{}
	for _, c := range []struct {
		c  *network.Component
		ct *network.ComponentType
	}{{td, tt}, {wd, wt}} {
		for _, prm := range c.ct.Params {
			x, err := get(c.c, c.ct, prm)
			if err != nil {
				return q, err
			}
			P[prm.Name] = x
		}
	}
	triplet, triplet3 := td.Type == "PfisterSpikeTripletRule", wd.Type == "WeightDependenceAdditiveTriplet"
	if triplet != triplet3 {
		// sPyNNaker: the timing rule's and the weight dependence's numbers
		// of terms must agree.
		return q, fmt.Errorf("synapse: %s and %s do not go together on SpiNNaker (PfisterSpikeTripletRule takes WeightDependenceAdditiveTriplet, and only it)", td.Type, wd.Type)
	}
	wmin, wmax := P["w_min"], P["w_max"]
	if !(wmin <= wmax) || wmin < 0 {
		return q, fmt.Errorf("synapse.weight_dependence: sPyNNaker needs 0 <= w_min <= w_max, got w_min %g, w_max %g", wmin, wmax)
	}
	q.minW, q.maxW = toK(wmin*ws), toK(wmax*ws)
	q.mult = wd.Type == "MultiplicativeWeightDependence"
	switch td.Type {
	case "SpikePairRule", "SpikeNearestPairRule":
		q.timing = timingPair
		if td.Type == "SpikeNearestPairRule" {
			q.timing = timingNearest
		}
		q.lutPlus, q.lutMinus = expLUT(dt, P["tau_plus"]), expLUT(dt, P["tau_minus"])
		if q.mult {
			q.a2p, q.a2m = toK(P["A_plus"]), toK(P["A_minus"])
		} else {
			q.a2p, q.a2m = toK(P["A_plus"]*wmax*ws), toK(P["A_minus"]*wmax*ws)
		}
	case "PfisterSpikeTripletRule":
		q.timing = timingTriplet
		q.lutPlus, q.lutMinus = expLUT(dt, P["tau_plus"]), expLUT(dt, P["tau_minus"])
		q.lutX, q.lutY = expLUTShift(dt, P["tau_x"], tripletShift), expLUTShift(dt, P["tau_y"], tripletShift)
		q.a2p, q.a2m = toK(P["A_plus"]*wmax*ws), toK(P["A_minus"]*wmax*ws)
		q.a3p, q.a3m = toK(P["A3_plus"]*wmax*ws), toK(P["A3_minus"]*wmax*ws)
	case "Vogels2011Rule":
		if q.mult {
			return q, fmt.Errorf("synapse.weight_dependence: Vogels2011Rule works with AdditiveWeightDependence, as in sPyNNaker and PyNN")
		}
		q.timing = timingVogels
		q.lutPlus = expLUT(dt, P["tau"])
		q.a2p = toK(P["eta"] * ws)
		q.alpha = int32(math.Round(2 * P["rho"] * P["tau"] / 1000 * stdpOne))
	default:
		return q, fmt.Errorf("synapse.timing_dependence: %s is not built on nmp's SpiNNaker", td.Type)
	}
	return q, nil
}

func newSTDPRule(pr *network.Projection, dt float64, parts []engine.PlasticPart) (engine.PlasticRule, error) {
	sh, ok := pr.Synapse.Parameters["ring_buffer_shift"]
	if !ok || sh.Kind != network.KindScalar {
		return nil, fmt.Errorf("%s: no ring-buffer shift for the plastic projection", pr.Label)
	}
	ws := 1.0
	if v, ok := pr.Synapse.Parameters["weight_scale"]; ok && v.Kind == network.KindScalar {
		ws = v.Scalar
	}
	q, err := stdpParamsOf(&pr.Synapse, dt, uint32(sh.Scalar), ws)
	if err != nil {
		return nil, err
	}
	r := &stdpRule{q: q, lsb: math.Ldexp(1, int(q.shift)-15) / ws}
	r.parts = make([]stdpPart, len(parts))
	for k, pp := range parts {
		p := &r.parts[k]
		n := len(pp.Target)
		p.row, p.target, p.lo = pp.Row, pp.Target, pp.Lo
		p.delay = make([]uint32, n)
		p.word = make([]uint16, n)
		p.neg = make([]bool, n)
		p.value = make([]float64, n)
		maxRow := int64(0)
		for i := 0; i+1 < len(pp.Row); i++ {
			maxRow = max(maxRow, pp.Row[i+1]-pp.Row[i])
		}
		p.out = make([]float64, maxRow)
		for j := 0; j < n; j++ {
			p.delay[j] = uint32(pp.Delay[j])
			p.word[j], _ = quantise(pp.Weight[j]*ws, q.shift)
			p.neg[j] = pp.Weight[j] < 0
		}
		rows := max(len(pp.Row)-1, 0)
		p.preT = make([]uint32, rows)
		p.preTr = make([]int16, rows)
		p.preTr2 = make([]int16, rows)
		p.hist = make([]postHistory, pp.Hi-pp.Lo)
	}
	return r, nil
}
