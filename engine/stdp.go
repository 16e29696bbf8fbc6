package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/nmp-platform/nmp/network"
)

// STDPMechanism: spike-timing-dependent plasticity with all-to-all pairing
// through exponential traces, as NEST's stdp_synapse and
// vogels_sprekeler_synapse.
//
// # Where the synapse sees spikes
//
// PyNN splits a synapse's delay D into a dendritic part f*D
// (dendritic_delay_fraction f) and an axonal part (1-f)*D. The synapse sees
// a presynaptic spike emitted at stamp s at a = s + Da and a postsynaptic
// spike emitted at e at b = e + Dd, with Dd = round(f*D) and Da = D - Dd
// whole steps; all pairings use these synaptic times. The transmitted
// weight is the weight just after the synapse has processed the
// presynaptic spike, and arrives at the soma at s + D. f = 1 is NEST's
// convention, f = 0 Brian2's.
//
// # Order and ties
//
// Events of one synapse take effect in order of synaptic time. A pre and a
// post event at the same synaptic time do not pair (as in NEST); the post
// event is applied first where causality allows it (Dd >= 1), otherwise
// (Dd = 0: the postsynaptic spike happens at the very step the PSP arrives,
// and cannot have been caused by it) the pre event is.
//
// # Lazy updates
//
// Like NEST, a synapse applies the potentiation due to postsynaptic spikes
// when its next presynaptic spike is processed, from a short history of the
// postsynaptic neuron's spikes and trace. Reading or setting weights, a
// reset, and a periodic sweep (so that histories stay short when some
// presynaptic neurons are silent) first bring every synapse up to the
// current time, which is exact: they apply only postsynaptic spikes that
// every later presynaptic spike would follow.
//
// A presynaptic spike is processed when it is emitted if all postsynaptic
// spikes it pairs with before have happened (Dd > Da); otherwise it waits
// in a queue until the end of the step of stamp s + Da - Dd (one step less
// when Dd = 0), which is always before the weight is needed at the soma.

func init() {
	synapseDynamics["STDPMechanism"] = newSTDP
}

// stdpRule holds the rule's parameters, the same for all connections of a
// projection.
type stdpRule struct {
	vogels bool
	// Trace time constants (ms): presynaptic and postsynaptic.
	tauPlus, tauMinus float64
	// SpikePairRule with a weight dependence:
	//   potentiation dw = +A_plus  * w_max^(1-mu_plus)  * (w_max - w)^mu_plus  * K+
	//   depression   dw = -A_minus * w_max^(1-mu_minus) * (w - w_min)^mu_minus * K-
	// with mu = 0 (additive), 1 (multiplicative) or, for Gutig, any value.
	plusScale, minusScale float64
	muPlus, muMinus       float64
	wMin, wMax            float64
	// Vogels2011Rule: dw = eta*K at each pairing, -eta*alpha at each
	// presynaptic spike, alpha = 2*rho*tau.
	eta, etaAlpha float64
}

func (q *stdpRule) clip(w float64) float64 {
	return math.Min(math.Max(w, q.wMin), q.wMax)
}

// facilitate applies a potentiation with trace value k.
func (q *stdpRule) facilitate(w, k float64) float64 {
	switch q.muPlus {
	case 0:
		return q.clip(w + q.plusScale*k)
	case 1:
		return q.clip(w + q.plusScale*(q.wMax-w)*k)
	}
	return q.clip(w + q.plusScale*math.Pow(math.Max(q.wMax-w, 0), q.muPlus)*k)
}

// depress applies, at a presynaptic spike, the change due to the
// postsynaptic trace value k.
func (q *stdpRule) depress(w, k float64) float64 {
	if q.vogels {
		return q.clip(q.clip(w+q.eta*k) - q.etaAlpha)
	}
	switch q.muMinus {
	case 0:
		return q.clip(w - q.minusScale*k)
	case 1:
		return q.clip(w - q.minusScale*(w-q.wMin)*k)
	}
	return q.clip(w - q.minusScale*math.Pow(math.Max(w-q.wMin, 0), q.muMinus)*k)
}

type stdp struct {
	s   *Simulator
	pj  *projRT
	dt  float64
	q   stdpRule
	ddf float64
	// params holds the rule's parameters by PyNN name, for reading back.
	params map[string]float64
	timing *network.ComponentType
	weight *network.ComponentType
	// dd maps a delay in steps to its dendritic part; dmax is the largest
	// delay, which bounds how long presynaptic spikes wait.
	dd    []int64
	dmax  int
	parts []stdpPart
}

type stdpPart struct {
	w     []float64 // the weights (the csr's weight64 column)
	kplus []float64 // presynaptic trace just after the last presynaptic event
	k0    paramCol  // its initial value (NEST's Kplus), at t = 0
	aLast []int64   // synaptic time of the last presynaptic event, 0 before any
	pSeen []int64   // emission stamp of the last postsynaptic spike applied
	// Postsynaptic histories of the targets in the thread's range.
	lo      int32
	hidx    []int32 // per neuron of the thread: its history, -1 if no target
	hist    []postHist
	live    int // entries in all histories
	sweepAt int
	// Presynaptic spikes waiting for their postsynaptic partners, by the
	// stamp at whose end they are processed (modulo the length): whole rows
	// where all delays are equal, single synapses otherwise.
	qRows, qSyns [][]pendingPre
}

type pendingPre struct {
	i int64 // row or synapse
	s int64 // stamp of the spike
}

// postHist is one neuron's recent spikes: emission stamps, the trace just
// after each, and how many of its incoming synapses have applied each.
type postHist struct {
	e     []int64
	k     []float64
	cnt   []int32
	head  int
	indeg int32
	// The newest spike, and the newest spike dropped from the history.
	lastE, popE int64
	lastK, popK float64
}

func newSTDP(s *Simulator, pj *projRT) (dynamics, error) {
	pr := pj.desc
	d := &stdp{s: s, pj: pj, dt: s.dt, params: map[string]float64{}}
	d.timing = s.cat.TimingRules[pr.Synapse.TimingDependence.Type]
	d.weight = s.cat.WeightRules[pr.Synapse.WeightDependence.Type]
	for _, c := range []struct {
		what string
		ct   *network.ComponentType
		comp *network.Component
	}{{"timing_dependence", d.timing, pr.Synapse.TimingDependence}, {"weight_dependence", d.weight, pr.Synapse.WeightDependence}} {
		for _, prm := range c.ct.Params {
			v, ok := c.comp.Parameters[prm.Name]
			x := prm.Default
			if ok && v.IsSet() {
				vs := newValueSource(&v, prm.Default)
				if !vs.homogeneous() {
					return nil, fmt.Errorf("synapse.%s.%s: nmp takes the parameters of an STDP rule to be the same for all connections; give one number", c.what, prm.Name)
				}
				x = vs.c
			}
			d.params[prm.Name] = x
		}
	}
	if _, ok := pj.parts[0].extra["dendritic_delay_fraction"]; ok {
		return nil, fmt.Errorf("dendritic_delay_fraction must be one number for the whole projection, as in PyNN")
	}
	d.ddf = synParam(pr, pj.typ, "dendritic_delay_fraction")
	if err := d.setRule(); err != nil {
		return nil, err
	}
	d.dmax = 1
	for _, c := range pj.parts {
		d.dmax = max(d.dmax, c.maxDelay())
	}
	d.parts = make([]stdpPart, len(pj.parts))
	for k, c := range pj.parts {
		p := &d.parts[k]
		p.w = c.extra[weight64]
		p.kplus = make([]float64, c.len())
		p.k0 = partParam(pj, k, "Kplus")
		d.initKplus(k)
		p.aLast = make([]int64, c.len())
		p.pSeen = make([]int64, c.len())
		lo, hi := s.bounds[k], s.bounds[k+1]
		p.lo = int32(lo)
		p.hidx = make([]int32, hi-lo)
		for i := range p.hidx {
			p.hidx[i] = -1
		}
		for _, t := range c.target {
			i := &p.hidx[int(t)-lo]
			if *i < 0 {
				*i = int32(len(p.hist))
				p.hist = append(p.hist, postHist{})
			}
			p.hist[*i].indeg++
		}
		p.sweepAt = minSweep(len(p.hist))
	}
	d.setDelays()
	return d, nil
}

func minSweep(targets int) int { return 16*targets + 256 }

// initKplus sets the presynaptic traces of part k to their initial values.
func (d *stdp) initKplus(k int) {
	p := &d.parts[k]
	for j := range p.kplus {
		p.kplus[j] = p.k0.at(int64(j))
	}
}

// setRule derives the rule from the parameters, checking them together.
func (d *stdp) setRule() error {
	P := d.params
	q := stdpRule{wMin: P["w_min"], wMax: P["w_max"]}
	if !(q.wMin <= q.wMax) {
		return fmt.Errorf("synapse.weight_dependence: w_min (%g) is above w_max (%g)", q.wMin, q.wMax)
	}
	switch d.timing.Name {
	case "SpikePairRule":
		q.tauPlus, q.tauMinus = P["tau_plus"], P["tau_minus"]
		switch d.weight.Name {
		case "AdditiveWeightDependence":
			q.muPlus, q.muMinus = 0, 0
		case "MultiplicativeWeightDependence":
			q.muPlus, q.muMinus = 1, 1
		case "AdditivePotentiationMultiplicativeDepression":
			q.muPlus, q.muMinus = 0, 1
		case "GutigWeightDependence":
			q.muPlus, q.muMinus = P["mu_plus"], P["mu_minus"]
		default:
			return fmt.Errorf("synapse.weight_dependence: %s has no implementation in this system", d.weight.Name)
		}
		q.plusScale = P["A_plus"] * math.Pow(q.wMax, 1-q.muPlus)
		q.minusScale = P["A_minus"] * math.Pow(q.wMax, 1-q.muMinus)
		if math.IsNaN(q.plusScale) || math.IsInf(q.plusScale, 0) || math.IsNaN(q.minusScale) || math.IsInf(q.minusScale, 0) {
			return fmt.Errorf("synapse.weight_dependence: w_max^(1-mu) is not a number for w_max = %g; Gutig's rule needs w_max > 0", q.wMax)
		}
	case "Vogels2011Rule":
		if d.weight.Name != "AdditiveWeightDependence" {
			return fmt.Errorf("synapse.weight_dependence: Vogels2011Rule works with AdditiveWeightDependence only (its bounds), as in PyNN; got %s", d.weight.Name)
		}
		q.vogels = true
		q.tauPlus, q.tauMinus = P["tau"], P["tau"]
		q.eta = P["eta"]
		q.plusScale = q.eta
		// rho is a rate in Hz and tau in ms.
		q.etaAlpha = q.eta * 2 * P["rho"] * P["tau"] / 1000
	default:
		return fmt.Errorf("synapse.timing_dependence: %s has no implementation in this system", d.timing.Name)
	}
	d.q = q
	return nil
}

// setDelays tabulates the dendritic part of each delay up to dmax and sizes
// the queues of waiting presynaptic spikes.
func (d *stdp) setDelays() {
	d.dd = make([]int64, d.dmax+1)
	for D := range d.dd {
		d.dd[D] = int64(math.Round(d.ddf * float64(D)))
	}
	for k := range d.parts {
		p := &d.parts[k]
		p.qRows = make([][]pendingPre, d.dmax+1)
		p.qSyns = make([][]pendingPre, d.dmax+1)
	}
}

// wait returns how many steps after its emission a presynaptic spike over
// delay D with dendritic part Dd is processed, at the end of the step; -1
// means at once.
func wait(D, Dd int64) int64 {
	w := D - 2*Dd
	if Dd == 0 {
		w--
	}
	return max(w, -1)
}

func (d *stdp) deliver(k int, c *csr, r int, n int64, dl *delivery) {
	p := &d.parts[k]
	a, b := c.rowPtr[r], c.rowPtr[r+1]
	if a == b {
		return
	}
	s := n + 1
	if c.delay == nil {
		D := int64(c.delay0)
		Dd := d.dd[D]
		if wt := wait(D, Dd); wt >= 0 {
			q := &p.qRows[(s+wt)%int64(len(p.qRows))]
			*q = append(*q, pendingPre{int64(r), s})
			return
		}
		for j := a; j < b; j++ {
			dl.add(c, j, s, d.pre(p, c, j, s, D, Dd))
		}
		return
	}
	for j := a; j < b; j++ {
		D := int64(c.delay[j])
		Dd := d.dd[D]
		if wt := wait(D, Dd); wt >= 0 {
			q := &p.qSyns[(s+wt)%int64(len(p.qSyns))]
			*q = append(*q, pendingPre{j, s})
			continue
		}
		dl.add(c, j, s, d.pre(p, c, j, s, D, Dd))
	}
}

func (d *stdp) endStep(k int, c *csr, n int64, dl *delivery) {
	p := &d.parts[k]
	m := n + 1
	if q := &p.qRows[m%int64(len(p.qRows))]; len(*q) > 0 {
		D := int64(c.delay0)
		Dd := d.dd[D]
		for _, e := range *q {
			for j := c.rowPtr[e.i]; j < c.rowPtr[e.i+1]; j++ {
				dl.add(c, j, e.s, d.pre(p, c, j, e.s, D, Dd))
			}
		}
		*q = (*q)[:0]
	}
	if q := &p.qSyns[m%int64(len(p.qSyns))]; len(*q) > 0 {
		for _, e := range *q {
			D := int64(c.delayAt(e.i))
			dl.add(c, e.i, e.s, d.pre(p, c, e.i, e.s, D, d.dd[D]))
		}
		*q = (*q)[:0]
	}
	if p.live > p.sweepAt {
		d.catchUp(k, m)
		p.sweepAt = max(minSweep(len(p.hist)), 2*p.live)
	}
}

// pre processes the presynaptic spike of stamp s at synapse j (delay D,
// dendritic part Dd) and returns the weight it transmits.
func (d *stdp) pre(p *stdpPart, c *csr, j int64, s, D, Dd int64) float64 {
	a := s + D - Dd
	h := &p.hist[p.hidx[int32(c.target[j])-p.lo]]
	limit := a
	if Dd == 0 {
		limit--
	}
	d.consume(p, j, h, Dd, limit)
	w := d.q.depress(p.w[j], h.traceBefore(a-Dd, d.dt, d.q.tauMinus))
	p.w[j] = w
	p.kplus[j] = p.kplus[j]*math.Exp(-float64(a-p.aLast[j])*d.dt/d.q.tauPlus) + 1
	p.aLast[j] = a
	return w
}

// consume applies to synapse j the potentiation by the postsynaptic spikes
// it has not applied yet whose synaptic time is at most limit.
func (d *stdp) consume(p *stdpPart, j int64, h *postHist, Dd, limit int64) {
	i := h.after(p.pSeen[j])
	if i == len(h.e) || h.e[i]+Dd > limit {
		return
	}
	w, kp, last := p.w[j], p.kplus[j], p.aLast[j]
	for ; i < len(h.e) && h.e[i]+Dd <= limit; i++ {
		b := h.e[i] + Dd
		k := kp
		if b == last {
			// The presynaptic spike of the same instant does not pair.
			k -= 1
		} else {
			k *= math.Exp(-float64(b-last) * d.dt / d.q.tauPlus)
		}
		w = d.q.facilitate(w, k)
		h.cnt[i]++
		p.pSeen[j] = h.e[i]
	}
	p.w[j] = w
}

// after returns the index of the first entry emitted after stamp e.
func (h *postHist) after(e int64) int {
	lo, hi := h.head, len(h.e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.e[m] <= e {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// traceBefore returns the postsynaptic trace just before stamp t: from the
// newest spike emitted before t.
func (h *postHist) traceBefore(t int64, dt, tau float64) float64 {
	for i := len(h.e) - 1; i >= h.head; i-- {
		if h.e[i] < t {
			return h.k[i] * math.Exp(-float64(t-h.e[i])*dt/tau)
		}
	}
	if h.popE > 0 && h.popE < t {
		return h.popK * math.Exp(-float64(t-h.popE)*dt/tau)
	}
	return 0
}

// prune drops the entries that all incoming synapses have applied.
func (p *stdpPart) prune(h *postHist) {
	for h.head < len(h.e) && h.cnt[h.head] >= h.indeg {
		h.popE, h.popK = h.e[h.head], h.k[h.head]
		h.head++
		p.live--
	}
	if h.head == len(h.e) {
		h.e, h.k, h.cnt, h.head = h.e[:0], h.k[:0], h.cnt[:0], 0
	}
}

func (d *stdp) post(k int, c *csr, g int32, n int64) {
	p := &d.parts[k]
	hi := p.hidx[g-p.lo]
	if hi < 0 {
		return
	}
	h := &p.hist[hi]
	p.prune(h)
	e := n + 1
	K := 1.0
	if h.lastE > 0 {
		K += h.lastK * math.Exp(-float64(e-h.lastE)*d.dt/d.q.tauMinus)
	}
	h.lastE, h.lastK = e, K
	if h.head > 0 && len(h.e) == cap(h.e) {
		// Reuse the room of dropped entries before growing.
		m := copy(h.e, h.e[h.head:])
		copy(h.k, h.k[h.head:])
		copy(h.cnt, h.cnt[h.head:])
		h.e, h.k, h.cnt, h.head = h.e[:m], h.k[:m], h.cnt[:m], 0
	}
	h.e = append(h.e, e)
	h.k = append(h.k, K)
	h.cnt = append(h.cnt, 0)
	p.live++
}

// catchUp brings every synapse of part k to synaptic time now: it applies
// the postsynaptic spikes seen at or before now. Every presynaptic spike
// not yet processed has a later synaptic time, so this changes nothing
// that follows.
func (d *stdp) catchUp(k int, now int64) {
	p := &d.parts[k]
	c := d.pj.parts[k]
	for j := int64(0); j < int64(c.len()); j++ {
		h := &p.hist[p.hidx[int32(c.target[j])-p.lo]]
		d.consume(p, j, h, d.dd[c.delayAt(j)], now)
	}
	for i := range p.hist {
		p.prune(&p.hist[i])
	}
}

func (d *stdp) catchUpAll() {
	for k := range d.parts {
		d.catchUp(k, d.s.step)
	}
}

func (d *stdp) pending() bool {
	for k := range d.parts {
		p := &d.parts[k]
		for i := range p.qRows {
			if len(p.qRows[i]) > 0 || len(p.qSyns[i]) > 0 {
				return true
			}
		}
	}
	return false
}

// reset keeps the weights (with all pairings up to now) and forgets the
// traces, the histories and the presynaptic spikes in flight.
func (d *stdp) reset() {
	d.catchUpAll()
	for k := range d.parts {
		p := &d.parts[k]
		d.initKplus(k)
		clear(p.aLast)
		clear(p.pSeen)
		for i := range p.hist {
			h := &p.hist[i]
			*h = postHist{e: h.e[:0], k: h.k[:0], cnt: h.cnt[:0], indeg: h.indeg}
		}
		p.live = 0
		for i := range p.qRows {
			p.qRows[i] = p.qRows[i][:0]
			p.qSyns[i] = p.qSyns[i][:0]
		}
	}
}

// values reports the weights as of now, and the rule's parameters.
func (d *stdp) values(pj *projRT, name string) ([]float64, bool) {
	var x float64
	switch name {
	case "weight":
		d.catchUpAll()
		return gather(pj, func(k int) []float64 { return d.parts[k].w }), true
	case "dendritic_delay_fraction":
		x = d.ddf
	case "Kplus":
		return gather(pj, func(k int) []float64 { return d.parts[k].kplus }), true
	default:
		v, ok := d.params[name]
		if !ok {
			return nil, false
		}
		x = v
	}
	out := make([]float64, pj.n)
	for i := range out {
		out[i] = x
	}
	return out, true
}

func (d *stdp) setValues(pj *projRT, name string, vals []float64) (bool, error) {
	switch name {
	case "Kplus":
		// The trace just after each synapse's last presynaptic spike (at
		// t = 0 before the first), as NEST sets Kplus; also the initial value.
		if err := setParamColumn(pj, name, vals); err != nil {
			return true, err
		}
		d.catchUpAll()
		for k := range d.parts {
			d.parts[k].k0 = partParam(pj, k, "Kplus")
		}
		scatter(pj, vals, func(k int) []float64 { return d.parts[k].kplus })
		return true, nil
	case "weight":
		d.catchUpAll()
		scatter(pj, vals, func(k int) []float64 { return d.parts[k].w })
		for k, c := range pj.parts {
			for j, w := range d.parts[k].w {
				c.weight[j] = float32(w)
			}
		}
		return true, nil
	case "delay":
		if d.pending() {
			return true, fmt.Errorf("delays of an STDPMechanism projection with axonal delays (dendritic_delay_fraction %g) cannot change while presynaptic spikes are on their way to the synapse; change them after a reset", d.ddf)
		}
		dmax := 1
		for _, x := range vals {
			if x >= d.dt*(1-1e-9) && delaySteps(x, d.dt) <= maxDelaySteps {
				dmax = max(dmax, delaySteps(x, d.dt))
			}
		}
		d.catchUpAll()
		d.dmax = max(dmax, d.dmax)
		d.setDelays()
		// The engine checks and stores the delays.
		return false, nil
	}
	x, err := oneValue(name, vals)
	if err != nil {
		return true, err
	}
	if name == "dendritic_delay_fraction" {
		if !(x >= 0 && x <= 1) {
			return true, fmt.Errorf("dendritic_delay_fraction must be between 0 and 1, got %g", x)
		}
		if d.pending() {
			return true, fmt.Errorf("dendritic_delay_fraction cannot change while presynaptic spikes are on their way to the synapse; change it after a reset")
		}
		d.catchUpAll()
		d.ddf = x
		d.setDelays()
		return true, nil
	}
	var pd *network.Param
	for _, ct := range []*network.ComponentType{d.timing, d.weight} {
		for i := range ct.Params {
			if ct.Params[i].Name == name {
				pd = &ct.Params[i]
			}
		}
	}
	if pd == nil {
		return false, nil
	}
	if r := pd.Check(x); r != "" {
		return true, fmt.Errorf("%s %s, got %g", name, r, x)
	}
	d.catchUpAll()
	old := d.params[name]
	d.params[name] = x
	if err := d.setRule(); err != nil {
		d.params[name] = old
		return true, err
	}
	// A new time constant applies to the traces' decay from now on.
	return true, nil
}

// oneValue returns the value of vals, which must all be equal.
func oneValue(name string, vals []float64) (float64, error) {
	if len(vals) == 0 {
		return 0, fmt.Errorf("no connections to set %s for", name)
	}
	if slices.Min(vals) != slices.Max(vals) {
		return 0, fmt.Errorf("%s must be the same for all connections of an STDPMechanism projection in nmp", name)
	}
	return vals[0], nil
}
