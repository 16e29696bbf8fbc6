package spinnaker

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

// plainSTDP is a second, plain implementation of sPyNNaker's plastic
// synapse processing, written again from the C code's description without
// sharing anything with stdp.go: one synapse at a time, the postsynaptic
// histories as plain lists, the window found by a forward scan, the
// arithmetic in int64 with explicit floors.
type plainSTDP struct {
	timing     string
	mult       bool
	lutP, lutM []int64
	alpha      int64
	minW, maxW int64
	aP, aM     int64
	shift      uint
	// per synapse
	pre, post []int
	delay     []int64
	word      []int64
	// per presynaptic neuron: last spike tick and trace
	preT, preTr []int64
	// per postsynaptic neuron: the history, entry 0 the placeholder
	histT, histTr [][]int64
	// the triplet rule: its x and y tables (an entry every 4 ticks), its
	// third-order amplitudes, the second traces (r2 per presynaptic
	// neuron, o2 per history entry)
	lutX, lutY []int64
	a3P, a3M   int64
	preTr2     []int64
	histTr2    [][]int64
}

// lut4 looks a time up in a table with an entry every 4 ticks.
func (p *plainSTDP) lut4(l []int64, t int64) int64 { return p.lut(l, int64(uint32(t)/4)) }

// tripletTraces is the triplet rule's new pair of traces at a spike dt
// after the last (at time last): the first decayed plus one, the second
// the last one plus one, decayed, sampled before the spike; none at a
// last time of 0.
func (p *plainSTDP) tripletTraces(l1, l2 []int64, dt, last, tr1, tr2 int64) (int64, int64) {
	n1 := s16(p.m16(tr1, p.lut(l1, dt)) + 2048)
	n2 := int64(0)
	if last != 0 {
		n2 = s16(p.m16(tr2+2048, p.lut4(l2, dt)))
	}
	return n1, n2
}

// twoTerm applies the triplet's additive weight dependence: both terms,
// then the clamp; sign +1 potentiates, -1 depresses.
func (p *plainSTDP) twoTerm(w, x, y int64, sign int64) int64 {
	if sign > 0 {
		w = int64(int32(w + p.mk(p.aP, int64(int32(x<<4)))))
		w = int64(int32(w + p.mk(p.a3P, int64(int32(y<<4)))))
		return min(w, p.maxW)
	}
	w = int64(int32(w - p.mk(p.aM, int64(int32(x<<4)))))
	w = int64(int32(w - p.mk(p.a3M, int64(int32(y<<4)))))
	return max(w, p.minW)
}

func floorShift(x int64, n uint) int64 { return x >> n } // arithmetic: floor

func (p *plainSTDP) lut(l []int64, t int64) int64 {
	t = int64(uint32(t)) // the core's unsigned tick differences
	if t < int64(len(l)) {
		return l[t]
	}
	return 0
}

func s16(x int64) int64 { return int64(int16(x)) }

func (p *plainSTDP) m16(a, b int64) int64 { return floorShift(s16(a)*s16(b), 11) }

func (p *plainSTDP) mk(a, b int64) int64 {
	return int64(int32(floorShift(int64(int32(a))*int64(int32(b)), 15)))
}

func (p *plainSTDP) potentiate(w, x int64) int64 {
	if p.mult {
		scale := p.mk(p.maxW-w, p.aP)
		return int64(int32(w + p.mk(scale, int64(int32(x<<4)))))
	}
	w = int64(int32(w + p.mk(p.aP, int64(int32(x<<4)))))
	if w > p.maxW {
		w = p.maxW
	}
	return w
}

func (p *plainSTDP) depress(w, x int64) int64 {
	if p.mult {
		scale := p.mk(w-p.minW, p.aM)
		return int64(int32(w - p.mk(scale, int64(int32(x<<4)))))
	}
	w = int64(int32(w - p.mk(p.aM, int64(int32(x<<4)))))
	if w < p.minW {
		w = p.minW
	}
	return w
}

func (p *plainSTDP) trace(l []int64, dt, last int64) int64 {
	switch p.timing {
	case "nearest":
		return 0
	case "vogels":
		return s16(s16(int64(uint16(p.m16(last, p.lut(l, dt))))) + 2048)
	}
	return s16(p.m16(last, p.lut(l, dt)) + 2048)
}

// preSpike processes tick t's spike of presynaptic neuron i.
func (p *plainSTDP) preSpike(i int, t int64) {
	lastT, lastTr := p.preT[i], p.preTr[i]
	var newTr2 int64
	if p.timing == "triplet" {
		p.preTr[i], newTr2 = p.tripletTraces(p.lutP, p.lutX, t-lastT, lastT, lastTr, p.preTr2[i])
		p.preTr2[i] = newTr2
		p.preT[i] = t
	} else {
		p.preT[i], p.preTr[i] = t, p.trace(p.lutP, t-lastT, lastTr)
	}
	for s := range p.pre {
		if p.pre[s] != i {
			continue
		}
		d := p.delay[s]
		w := int64(int32(p.word[s] << p.shift))
		ht, htr := p.histT[p.post[s]], p.histTr[p.post[s]]
		begin, end := max(lastT-d, 0), max(t-d, 0)
		// the newest entry at or before begin is the one before the window
		prev := 0
		for e := 1; e < len(ht); e++ {
			if ht[e] <= begin {
				prev = e
			}
		}
		prevT, prevTr, valid := ht[prev], htr[prev], prev != 0
		for e := prev + 1; e < len(ht) && ht[e] <= end; e++ {
			tp := ht[e] + d
			sincePre := tp - lastT
			switch p.timing {
			case "triplet":
				if sincePre != 0 {
					r1 := p.m16(lastTr, p.lut(p.lutP, sincePre))
					w = p.twoTerm(w, r1, p.m16(r1, p.histTr2[p.post[s]][e]), 1)
				}
			case "pair":
				if sincePre != 0 {
					w = p.potentiate(w, p.m16(lastTr, p.lut(p.lutP, sincePre)))
				}
			case "nearest":
				if sincePre != 0 {
					x := p.lut(p.lutP, sincePre)
					if uint32(tp-prevT) < uint32(sincePre) {
						x = 0
					}
					w = p.potentiate(w, x)
				}
			case "vogels":
				w = p.potentiate(w, p.m16(lastTr, p.lut(p.lutP, sincePre)))
			}
			prevT, prevTr, valid = ht[e], htr[e], true
		}
		if valid {
			since := t - (prevT + d)
			switch p.timing {
			case "triplet":
				if since != 0 {
					o1 := p.m16(prevTr, p.lut(p.lutM, since))
					w = p.twoTerm(w, o1, p.m16(o1, newTr2), -1)
				}
			case "pair":
				if since != 0 {
					w = p.depress(w, p.m16(prevTr, p.lut(p.lutM, since)))
				}
			case "nearest":
				w = p.depress(w, p.lut(p.lutM, since))
			case "vogels":
				w = p.potentiate(w, p.m16(prevTr, p.lut(p.lutP, since))-p.alpha)
			}
		}
		p.word[s] = int64(uint16(floorShift(w, p.shift)))
	}
}

func (p *plainSTDP) postSpike(n int, t int64) {
	ht, htr := p.histT[n], p.histTr[n]
	l := p.lutM
	if p.timing == "vogels" {
		l = p.lutP
	}
	last := len(ht) - 1
	var tr, tr2 int64
	if p.timing == "triplet" {
		tr, tr2 = p.tripletTraces(p.lutM, p.lutY, t-ht[last], ht[last], htr[last], p.histTr2[n][last])
	} else {
		tr = p.trace(l, t-ht[last], htr[last])
	}
	ht, htr = append(ht, t), append(htr, tr)
	htr2 := append(p.histTr2[n], tr2)
	if len(ht) > histLen {
		// the oldest real spike goes; the placeholder stays
		ht = append(ht[:1], ht[2:]...)
		htr = append(htr[:1], htr[2:]...)
		htr2 = append(htr2[:1], htr2[2:]...)
	}
	p.histT[n], p.histTr[n], p.histTr2[n] = ht, htr, htr2
}

func plainLUT(dt, tau float64) []int64 { return plainLUTEvery(dt, tau, 1) }

// plainLUTEvery has an entry every `every` ticks, as many as cover
// ln(2048)·τ, in pairs.
func plainLUTEvery(dt, tau float64, every int) []int64 {
	n := int(math.Ceil(math.Log(2048)*tau/dt/float64(every)/2)) * 2
	out := make([]int64, n)
	for k := range out {
		out[k] = int64(math.Floor(2048 * math.Exp(-float64(k*every)*dt/tau)))
	}
	return out
}

// stdpCase is a random plastic projection and its spikes.
type stdpCase struct {
	timing, weight string
	dt             float64
	nPre, nPost    int
	pre, post      []int
	delay          []int
	w              []float64
	shift          uint32
	ws             float64 // the target's weight scale (32: conductance input); 0 means 1
	params         map[string]float64
}

func (c *stdpCase) scale() float64 {
	if c.ws == 0 {
		return 1
	}
	return c.ws
}

func (c *stdpCase) synapse() network.Synapse {
	td := &network.Component{Type: map[string]string{"pair": "SpikePairRule", "nearest": "SpikeNearestPairRule", "vogels": "Vogels2011Rule", "triplet": "PfisterSpikeTripletRule"}[c.timing], Parameters: map[string]network.Value{}}
	wd := &network.Component{Type: c.weight, Parameters: map[string]network.Value{}}
	for k, v := range c.params {
		switch k {
		case "w_min", "w_max", "A3_plus", "A3_minus":
			wd.Parameters[k] = network.Scalar(v)
		default:
			td.Parameters[k] = network.Scalar(v)
		}
	}
	return network.Synapse{Type: stdpSynapse, TimingDependence: td, WeightDependence: wd,
		Parameters: map[string]network.Value{"ring_buffer_shift": network.Scalar(float64(c.shift)), "weight_scale": network.Scalar(c.scale())}}
}

func randomSTDPCase(r *rand.Rand, timing, weight string) *stdpCase {
	c := &stdpCase{timing: timing, weight: weight, dt: []float64{1, 0.1, 0.5}[r.IntN(3)], nPre: 1 + r.IntN(20), nPost: 1 + r.IntN(20),
		shift: uint32(r.IntN(8)), params: map[string]float64{}, ws: []float64{1, 32}[r.IntN(2)]}
	lsb := math.Ldexp(1, int(c.shift)-15) / c.ws
	wmax := lsb * float64(1000+r.IntN(60000))
	c.params["w_min"] = []float64{0, wmax * r.Float64() * 0.3}[r.IntN(2)]
	c.params["w_max"] = wmax
	if timing == "vogels" {
		c.params["tau"] = 5 + 30*r.Float64()
		c.params["eta"] = wmax * (0.001 + 0.05*r.Float64())
		c.params["rho"] = 1 + 20*r.Float64()
	} else {
		if timing == "triplet" {
			c.params["tau_x"] = 5 + 150*r.Float64()
			c.params["tau_y"] = 5 + 150*r.Float64()
			c.params["A3_plus"] = 0.2 * r.Float64()
			c.params["A3_minus"] = 0.05 * r.Float64()
		}
		c.params["tau_plus"] = 5 + 30*r.Float64()
		c.params["tau_minus"] = 5 + 30*r.Float64()
		c.params["A_plus"] = 0.001 + 0.2*r.Float64()
		c.params["A_minus"] = 0.001 + 0.2*r.Float64()
	}
	for i := 0; i < c.nPre; i++ {
		for j := 0; j < c.nPost; j++ {
			if r.IntN(3) == 0 {
				continue
			}
			c.pre, c.post = append(c.pre, i), append(c.post, j)
			c.delay = append(c.delay, 1+r.IntN(16))
			c.w = append(c.w, wmax*r.Float64())
		}
	}
	return c
}

// build makes the rule from the case, split into parts by target as the
// engine splits by thread (bounds in post neurons), and the plain twin.
func (c *stdpCase) build(t *testing.T, bounds []int) (engine.PlasticRule, [][]int, *plainSTDP) {
	t.Helper()
	sy := c.synapse()
	parts := make([]engine.PlasticPart, len(bounds)-1)
	index := make([][]int, len(parts)) // part synapse -> case synapse
	for k := range parts {
		pp := engine.PlasticPart{Row: make([]int64, c.nPre+1), Lo: bounds[k], Hi: bounds[k+1]}
		for i := 0; i < c.nPre; i++ {
			for s := range c.pre {
				if c.pre[s] == i && c.post[s] >= bounds[k] && c.post[s] < bounds[k+1] {
					pp.Target = append(pp.Target, uint32(c.post[s]))
					pp.Weight = append(pp.Weight, c.w[s])
					pp.Delay = append(pp.Delay, c.delay[s])
					index[k] = append(index[k], s)
				}
			}
			pp.Row[i+1] = int64(len(pp.Target))
		}
		parts[k] = pp
	}
	rule, err := newSTDPRule(&network.Projection{Label: "test", Synapse: sy}, c.dt, parts)
	if err != nil {
		t.Fatal(err)
	}
	P := c.params
	p := &plainSTDP{timing: c.timing, mult: c.weight == "MultiplicativeWeightDependence", shift: uint(c.shift),
		pre: c.pre, post: c.post, preT: make([]int64, c.nPre), preTr: make([]int64, c.nPre),
		histT: make([][]int64, c.nPost), histTr: make([][]int64, c.nPost),
		preTr2: make([]int64, c.nPre), histTr2: make([][]int64, c.nPost)}
	ws := c.scale()
	k := func(x float64) int64 { return int64(math.Round(x * 32768)) }
	p.minW, p.maxW = k(P["w_min"]*ws), k(P["w_max"]*ws)
	if c.timing == "vogels" {
		p.lutP = plainLUT(c.dt, P["tau"])
		p.aP = k(P["eta"] * ws)
		p.alpha = int64(math.Round(2 * P["rho"] * P["tau"] / 1000 * 2048))
	} else {
		p.lutP, p.lutM = plainLUT(c.dt, P["tau_plus"]), plainLUT(c.dt, P["tau_minus"])
		if p.mult {
			p.aP, p.aM = k(P["A_plus"]), k(P["A_minus"])
		} else {
			p.aP, p.aM = k(P["A_plus"]*P["w_max"]*ws), k(P["A_minus"]*P["w_max"]*ws)
		}
		if c.timing == "triplet" {
			p.lutX, p.lutY = plainLUTEvery(c.dt, P["tau_x"], 4), plainLUTEvery(c.dt, P["tau_y"], 4)
			p.a3P, p.a3M = k(P["A3_plus"]*P["w_max"]*ws), k(P["A3_minus"]*P["w_max"]*ws)
		}
	}
	for n := range p.histT {
		p.histT[n], p.histTr[n], p.histTr2[n] = []int64{0}, []int64{0}, []int64{0}
	}
	lsb := math.Ldexp(1, int(c.shift)-15) / ws
	for s := range c.w {
		p.delay = append(p.delay, int64(c.delay[s]))
		p.word = append(p.word, int64(math.Min(math.RoundToEven(c.w[s]/lsb), 0xFFFF)))
	}
	return rule, index, p
}

// TestSTDPBitExact holds the plastic synapses against the plain
// implementation: every rule and weight dependence, random parameters,
// delays, weights and spike trains (bursts among them, so that histories
// overflow), the projection split into random thread parts; every weight
// word after every tick, and the weights transmitted.
func TestSTDPBitExact(t *testing.T) {
	seed := uint64(12)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for _, timing := range []string{"pair", "nearest", "vogels", "triplet"} {
		for _, wd := range []string{"AdditiveWeightDependence", "MultiplicativeWeightDependence", "WeightDependenceAdditiveTriplet"} {
			if (timing == "vogels" && wd != "AdditiveWeightDependence") || (timing == "triplet") != (wd == "WeightDependenceAdditiveTriplet") {
				continue
			}
			for rep := 0; rep < 4; rep++ {
				c := randomSTDPCase(r, timing, wd)
				bounds := []int{0}
				for b := 1 + r.IntN(c.nPost); b < c.nPost; b += 1 + r.IntN(c.nPost) {
					bounds = append(bounds, b)
				}
				bounds = append(bounds, c.nPost)
				rule, index, plain := c.build(t, bounds)
				name := fmt.Sprintf("%s/%s/%d (dt %g, shift %d, weight scale %g, %d synapses, %d parts)", timing, wd, rep, c.dt, c.shift, c.ws, len(c.w), len(bounds)-1)
				lsb := math.Ldexp(1, int(c.shift)-15) / c.scale()
				ratePre, ratePost := 0.005+0.2*r.Float64(), 0.005+0.2*r.Float64()
				changed := 0
				for tick := int64(0); tick < 3000; tick++ {
					s := tick + 1
					burst := tick%500 < 40
					for i := 0; i < c.nPre; i++ {
						if r.Float64() < ratePre || (burst && r.IntN(2) == 0) {
							plain.preSpike(i, tick)
							for k := range index {
								lo, hi := bounds[k], bounds[k+1]
								_ = lo
								_ = hi
								ws := rule.Pre(k, i, s)
								// the row's synapses of part k, in order
								row := 0
								for _, cs := range index[k] {
									if c.pre[cs] != i {
										continue
									}
									want := float64(plain.word[cs]) * lsb
									if ws[row] != want {
										t.Fatalf("%s: tick %d, synapse %d transmits %v, plain %v", name, tick, cs, ws[row], want)
									}
									row++
								}
							}
						}
					}
					for n := 0; n < c.nPost; n++ {
						if r.Float64() < ratePost || (burst && r.IntN(3) == 0) {
							plain.postSpike(n, tick)
							for k := range index {
								if n >= bounds[k] && n < bounds[k+1] {
									rule.Post(k, int32(n), s)
								}
							}
						}
					}
					for k := range index {
						ws := rule.Weights(k)
						for j, cs := range index[k] {
							want := float64(plain.word[cs]) * lsb
							if ws[j] != want {
								t.Fatalf("%s: tick %d, synapse %d holds %v, plain %v", name, tick, cs, ws[j], want)
							}
						}
					}
				}
				for s := range c.w {
					if float64(plain.word[s])*lsb != math.Min(math.RoundToEven(c.w[s]/lsb), 0xFFFF)*lsb {
						changed++
					}
				}
				if changed == 0 && len(c.w) > 0 {
					t.Errorf("%s: no weight changed: the test exercises nothing", name)
				}
				t.Logf("%s: %d of %d weights changed", name, changed, len(c.w))
			}
		}
	}
}

// TestSTDPAgainstFloat holds single pairings against the float rule they
// quantise: Δw = A_plus·w_max·e^(−Δ/τ+) for a postsynaptic spike Δ after
// the presynaptic one at the synapse (the postsynaptic spike reaches it
// its delay after it is emitted), −A_minus·w_max·e^(−Δ/τ−) for a
// presynaptic spike Δ after the postsynaptic one (multiplicative: times
// w_max − w and w − w_min); the fixed point is within
// the look-up table's floor (1/2048 of the amplitude) and the word's
// truncation (one LSB), and 0 where the table ends.
func TestSTDPAgainstFloat(t *testing.T) {
	const dt, tauP, tauM, aP, aM, wmax, d = 1.0, 16.7, 33.7, 0.05, 0.04, 1.0, 3
	shift := uint32(1)
	lsb := math.Ldexp(1, int(shift)-15)
	for _, mult := range []bool{false, true} {
		wd := "AdditiveWeightDependence"
		if mult {
			wd = "MultiplicativeWeightDependence"
		}
		worst := 0.0
		for delta := -150; delta <= 300; delta++ {
			if delta == 0 {
				continue
			}
			c := &stdpCase{timing: "pair", weight: wd, dt: dt, nPre: 1, nPost: 1, pre: []int{0}, post: []int{0}, delay: []int{d},
				w: []float64{0.5}, shift: shift, params: map[string]float64{"w_min": 0, "w_max": wmax, "tau_plus": tauP, "tau_minus": tauM, "A_plus": aP, "A_minus": aM}}
			rule, _, _ := c.build(t, []int{0, 1})
			w0 := rule.Weights(0)[0]
			const T = 1000
			var want float64
			if delta > 0 {
				// The delay is dendritic (sPyNNaker's, and PyNN's default
				// dendritic_delay_fraction 1): the synapse sees the
				// presynaptic spike at its tick T and the postsynaptic one
				// d after it is emitted, here delta after T.
				rule.Pre(0, 0, T+1)
				rule.Post(0, 0, T+int64(delta)-d+1)
				rule.Pre(0, 0, T+2000+1)
				if mult {
					want = aP * (wmax - w0) * math.Exp(-float64(delta)*dt/tauP)
				} else {
					want = aP * wmax * math.Exp(-float64(delta)*dt/tauP)
				}
			} else {
				// post at P, seen at P+d; the presynaptic spike -delta later
				const P = 1000
				rule.Post(0, 0, P+1)
				rule.Pre(0, 0, P+d-int64(delta)+1)
				if mult {
					want = -aM * w0 * math.Exp(float64(delta)*dt/tauM)
				} else {
					want = -aM * wmax * math.Exp(float64(delta)*dt/tauM)
				}
			}
			got := rule.Weights(0)[0] - w0
			tol := lsb + (aP+aM)*wmax/2048
			tauEnd := tauP
			if delta < 0 {
				tauEnd = tauM
			}
			if float64(abs(delta))*dt >= math.Log(2048)*tauEnd {
				if got != 0 {
					t.Errorf("%s Δ %d: %v beyond the table", wd, delta, got)
				}
				continue
			}
			if math.Abs(got-want) > tol {
				t.Errorf("%s Δ %d ms: Δw %v, float %v", wd, delta, got, want)
			}
			worst = math.Max(worst, math.Abs(got-want))
		}
		t.Logf("%s: largest difference from the float rule %.3g (weight LSB %.3g)", wd, worst, lsb)
	}
}
