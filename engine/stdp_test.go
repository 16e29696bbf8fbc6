package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/npy"
)

// The STDP tests hold the engine against a plain reference written from the
// rules' equations: every pair of spikes summed explicitly (no traces), the
// events of each synapse sorted by synaptic time (no lazy updates, no
// histories, no queues).

// refRule is an STDP rule as PyNN's parameters define it.
type refRule struct {
	timing, weight string
	p              map[string]float64 // timing and weight dependence parameters
}

func (q *refRule) clip(w float64) float64 { return math.Max(q.p["w_min"], math.Min(q.p["w_max"], w)) }

func (q *refRule) mu() (plus, minus float64) {
	switch q.weight {
	case "MultiplicativeWeightDependence":
		return 1, 1
	case "AdditivePotentiationMultiplicativeDepression":
		return 0, 1
	case "GutigWeightDependence":
		return q.p["mu_plus"], q.p["mu_minus"]
	}
	return 0, 0
}

func (q *refRule) taus() (plus, minus float64) {
	if q.timing == "Vogels2011Rule" {
		return q.p["tau"], q.p["tau"]
	}
	return q.p["tau_plus"], q.p["tau_minus"]
}

// potentiate is the change at a postsynaptic spike, with x the sum over
// earlier presynaptic spikes of exp(-dt/tau_plus).
func (q *refRule) potentiate(w, x float64) float64 {
	if q.timing == "Vogels2011Rule" {
		return q.clip(w + q.p["eta"]*x)
	}
	mp, _ := q.mu()
	wmax := q.p["w_max"]
	return q.clip(w + q.p["A_plus"]*math.Pow(wmax, 1-mp)*math.Pow(math.Max(wmax-w, 0), mp)*x)
}

// depress is the change at a presynaptic spike, with y the sum over earlier
// postsynaptic spikes of exp(-dt/tau_minus).
func (q *refRule) depress(w, y float64) float64 {
	if q.timing == "Vogels2011Rule" {
		alpha := 2 * q.p["rho"] / 1000 * q.p["tau"]
		return q.clip(q.clip(w+q.p["eta"]*y) - q.p["eta"]*alpha)
	}
	_, mm := q.mu()
	return q.clip(w - q.p["A_minus"]*math.Pow(q.p["w_max"], 1-mm)*math.Pow(math.Max(w-q.p["w_min"], 0), mm)*y)
}

// refSynapse runs one synapse: presynaptic spikes at stamps pre, delay D
// steps of which Dd dendritic, postsynaptic spikes at stamps post, events
// up to synaptic time upTo. It returns the final weight and the weight
// transmitted by each presynaptic spike processed.
func refSynapse(q *refRule, w float64, pre, post []int64, D, Dd int64, dt float64, upTo int64) (float64, []float64) {
	type ev struct {
		t   int64
		pre bool
	}
	var evs []ev
	for _, s := range pre {
		evs = append(evs, ev{s + D - Dd, true})
	}
	for _, e := range post {
		evs = append(evs, ev{e + Dd, false})
	}
	// Ties: the postsynaptic event first where Dd >= 1, else the presynaptic one.
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].t != evs[j].t {
			return evs[i].t < evs[j].t
		}
		return evs[i].pre == (Dd == 0) && evs[j].pre != (Dd == 0)
	})
	tp, tm := q.taus()
	var sent []float64
	for _, e := range evs {
		if e.t > upTo {
			break
		}
		sum := 0.0
		if e.pre {
			for _, b := range post {
				if b+Dd < e.t {
					sum += math.Exp(-float64(e.t-b-Dd) * dt / tm)
				}
			}
			w = q.depress(w, sum)
			sent = append(sent, w)
		} else {
			for _, s := range pre {
				if a := s + D - Dd; a < e.t {
					sum += math.Exp(-float64(e.t-a) * dt / tp)
				}
			}
			w = q.potentiate(w, sum)
		}
	}
	return w, sent
}

// stdpCase is a network for the STDP tests: nPre spike sources project with
// STDP onto nPost IF_curr_delta neurons, which fire when a driver source
// (one per neuron, 100 mV, delay dt) fires. The plastic weights are small
// enough not to make the neurons fire on their own in these tests.
type stdpCase struct {
	rule   refRule
	ddf    float64
	pre    [][]float64 // spike times per presynaptic neuron
	drive  [][]float64 // driver spike times per postsynaptic neuron
	conns  [][2]int64  // explicit connections (pre, post)
	w0, d0 []float64   // per connection
}

func (c *stdpCase) desc(seed uint64) *network.Description {
	tp := map[string]network.Value{}
	wp := map[string]network.Value{}
	timing := map[string]bool{"tau_plus": true, "tau_minus": true, "A_plus": true, "A_minus": true, "tau": true, "eta": true, "rho": true}
	for k, v := range c.rule.p {
		if timing[k] {
			tp[k] = network.Scalar(v)
		} else {
			wp[k] = network.Scalar(v)
		}
	}
	var pi, pj []int64
	for _, cn := range c.conns {
		pi, pj = append(pi, cn[0]), append(pj, cn[1])
	}
	nPost := len(c.drive)
	delay := network.Floats(c.d0)
	if slices.Min(c.d0) == slices.Max(c.d0) {
		delay = network.Scalar(c.d0[0]) // one delay for all: the engine stores it once
	}
	return &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		Populations: []network.Population{
			{Label: "pre", Size: len(c.pre), CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Ragged(c.pre)}},
			{Label: "post", Size: nPost, CellType: "IF_curr_delta", Parameters: map[string]network.Value{"tau_refrac": network.Scalar(0.1)}},
			{Label: "driver", Size: nPost, CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Ragged(c.drive)}},
		},
		Projections: []network.Projection{
			{Label: "plastic", Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 1}},
				Synapse: network.Synapse{Type: "STDPMechanism", Parameters: map[string]network.Value{"dendritic_delay_fraction": network.Scalar(c.ddf)},
					TimingDependence: &network.Component{Type: c.rule.timing, Parameters: tp},
					WeightDependence: &network.Component{Type: c.rule.weight, Parameters: wp}},
				Connections: &network.Connections{Pre: network.Ints(pi), Post: network.Ints(pj),
					Parameters: map[string]network.Value{"weight": network.Floats(c.w0), "delay": delay}}},
			{Label: "drive", Pre: network.Selection{{Population: 2}}, Post: network.Selection{{Population: 1}},
				Synapse: dynSyn("StaticSynapse", map[string]float64{"weight": 100, "delay": 0.1}), Connector: &network.Connector{Type: "OneToOneConnector"}},
		},
		Recordings: []network.Recording{{Selection: network.Selection{{Population: 1}}, Variables: []string{"spikes"}}},
	}
}

// stamps returns times in ms as stamps of dt = 0.1 ms.
func stamps(ts []float64) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = int64(math.Round(t / 0.1))
	}
	return out
}

// postStamps returns the recorded spikes of each postsynaptic neuron.
func postStamps(s *Simulator, nPost int) [][]int64 {
	out := make([][]int64, nPost)
	for _, seg := range s.Segments() {
		ps := seg.Spikes[1]
		for i, id := range ps.IDs {
			out[id] = append(out[id], int64(math.Round(ps.Times[i]/0.1)))
		}
	}
	return out
}

// expect runs the reference for every connection of c, up to upTo.
func (c *stdpCase) expect(post [][]int64, upTo int64) (w []float64, sent [][]float64) {
	for k, cn := range c.conns {
		D := int64(delaySteps(c.d0[k], 0.1))
		Dd := int64(math.Round(c.ddf * float64(D)))
		wk, sk := refSynapse(&c.rule, c.w0[k], stamps(c.pre[cn[0]]), post[cn[1]], D, Dd, 0.1, upTo)
		w = append(w, wk)
		sent = append(sent, sk)
	}
	return w, sent
}

func pairRule(weight string, extra map[string]float64) refRule {
	p := map[string]float64{"tau_plus": 20, "tau_minus": 30, "A_plus": 0.01, "A_minus": 0.012, "w_min": 0, "w_max": 1}
	for k, v := range extra {
		p[k] = v
	}
	return refRule{timing: "SpikePairRule", weight: weight, p: p}
}

// TestSTDPSinglePairs checks single pre/post pairs against the expected
// change written out by hand: for f = 1 the synapse sees the postsynaptic
// spike one delay late, for f = 0 the presynaptic one.
func TestSTDPSinglePairs(t *testing.T) {
	const A, Am, tp, tm = 0.01, 0.012, 20.0, 30.0
	for _, tc := range []struct {
		name      string
		ddf       float64
		pre, post float64 // spike times; post is driven to fire at this time
		want      float64 // weight change
	}{
		{"f=1 pre then post", 1, 10, 15, A * math.Exp(-(15+1-10)/tp)},
		{"f=1 post then pre", 1, 15, 10, -Am * math.Exp(-(15-(10+1))/tm)},
		{"f=1 post one delay before pre: no pairing", 1, 15, 14, 0},
		{"f=0 pre then post", 0, 10, 15, A * math.Exp(-(15-(10+1))/tp)},
		{"f=0 post then pre", 0, 15, 10, -Am * math.Exp(-(15+1-10)/tm)},
		{"f=0 post at the arrival: no pairing", 0, 10, 11, 0},
		{"f=0.5 pre then post", 0.5, 10, 15, A * math.Exp(-(15+0.5-(10+0.5))/tp)},
	} {
		c := &stdpCase{rule: pairRule("AdditiveWeightDependence", nil), ddf: tc.ddf,
			pre: [][]float64{{tc.pre}}, drive: [][]float64{{tc.post - 0.1}}, conns: [][2]int64{{0, 0}}, w0: []float64{0.5}, d0: []float64{1}}
		s := dynNew(t, c.desc(1), 1)
		if err := s.Run(t.Context(), 30, nil); err != nil {
			t.Fatal(err)
		}
		if got := postStamps(s, 1)[0]; len(got) != 1 || got[0] != int64(math.Round(tc.post/0.1)) {
			t.Fatalf("%s: the postsynaptic neuron fired at stamps %v", tc.name, got)
		}
		w, err := s.SynapseValues(0, "weight")
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(w[0]-0.5, tc.want, 1e-12) && math.Abs(w[0]-0.5-tc.want) > 1e-15 {
			t.Errorf("%s: weight change %.15g, want %.15g", tc.name, w[0]-0.5, tc.want)
		}
	}
}

// TestSTDPReadoutTime: with f = 1 a postsynaptic spike reaches the synapse
// one delay after it happens; the weight read before then does not show its
// potentiation, the weight read after does, before any further
// presynaptic spike.
func TestSTDPReadoutTime(t *testing.T) {
	c := &stdpCase{rule: pairRule("AdditiveWeightDependence", nil), ddf: 1,
		pre: [][]float64{{10}}, drive: [][]float64{{14.9}}, conns: [][2]int64{{0, 0}}, w0: []float64{0.5}, d0: []float64{2}}
	s := dynNew(t, c.desc(1), 2)
	for _, step := range []struct{ until, want float64 }{{16.9, 0.5}, {17, 0.5 + 0.01*math.Exp(-7.0/20)}} {
		if err := s.Run(t.Context(), step.until-s.Now(), nil); err != nil {
			t.Fatal(err)
		}
		w, _ := s.SynapseValues(0, "weight")
		if !closeTo(w[0], step.want, 1e-14) {
			t.Errorf("at %g ms: weight %.15g, want %.15g", step.until, w[0], step.want)
		}
	}
}

// randomCase draws a network with random trains, weights and delays.
func randomCase(r *rand.Rand, rule refRule, ddf float64, nPre, nPost int, ms float64, rate float64) *stdpCase {
	c := &stdpCase{rule: rule, ddf: ddf}
	train := func(rate float64) []float64 {
		var ts []float64
		for t := 1 + r.ExpFloat64()*1000/rate; t < ms; t += r.ExpFloat64() * 1000 / rate {
			x := math.Round(t*10) / 10
			if len(ts) == 0 || x > ts[len(ts)-1]+0.15 {
				ts = append(ts, x)
			}
		}
		return ts
	}
	for i := 0; i < nPre; i++ {
		c.pre = append(c.pre, train(rate))
	}
	for j := 0; j < nPost; j++ {
		c.drive = append(c.drive, train(rate))
	}
	for i := 0; i < nPre; i++ {
		for j := 0; j < nPost; j++ {
			if r.Float64() < 0.7 {
				c.conns = append(c.conns, [2]int64{int64(i), int64(j)})
				c.w0 = append(c.w0, 0.2+0.6*r.Float64())
				c.d0 = append(c.d0, math.Round((0.1+4*r.Float64())*10)/10)
			}
		}
	}
	return c
}

func allRules() map[string]refRule {
	return map[string]refRule{
		"additive":       pairRule("AdditiveWeightDependence", map[string]float64{"w_min": 0.1, "w_max": 0.9, "A_plus": 0.05, "A_minus": 0.06}),
		"multiplicative": pairRule("MultiplicativeWeightDependence", map[string]float64{"w_min": 0.1, "A_plus": 0.1, "A_minus": 0.12}),
		"apmd":           pairRule("AdditivePotentiationMultiplicativeDepression", map[string]float64{"A_plus": 0.04, "A_minus": 0.1}),
		"gutig":          pairRule("GutigWeightDependence", map[string]float64{"w_max": 1.5, "mu_plus": 0.4, "mu_minus": 0.7, "A_plus": 0.05, "A_minus": 0.08}),
		"vogels": {timing: "Vogels2011Rule", weight: "AdditiveWeightDependence",
			p: map[string]float64{"tau": 15, "eta": 0.02, "rho": 10, "w_min": 0, "w_max": 1}},
	}
}

// TestSTDPAgainstReference runs random networks with every rule, several
// dendritic delay fractions and random delays on 1, 2 and 3 threads: the
// weights read after the run and every transmitted weight must match the
// reference, and the threads must agree bit for bit.
func TestSTDPAgainstReference(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	const ms = 300.0
	rules := allRules()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range rules {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		for _, ddf := range []float64{1, 0, 0.5, 0.3} {
			c := randomCase(r, rules[name], ddf, 6, 5, ms-10, 40)
			if ddf == 0.3 {
				for k := range c.d0 {
					c.d0[k] = 2.3
				}
			}
			var w1 []float64
			for threads := 1; threads <= 3; threads++ {
				s := dynNew(t, c.desc(seed), threads)
				ring := dynRing(t, s, int(ms/0.1))
				post := postStamps(s, len(c.drive))
				w, err := s.SynapseValues(0, "weight")
				if err != nil {
					t.Fatal(err)
				}
				if threads == 1 {
					w1 = w
					want, sent := c.expect(post, s.step)
					for k := range w {
						if !closeTo(w[k], want[k], 1e-11) {
							t.Errorf("%s f=%g: connection %d: weight %.15g, want %.15g", name, ddf, k, w[k], want[k])
						}
					}
					c.checkSent(t, s, ring, post, sent, name)
					continue
				}
				if !slices.Equal(w, w1) {
					t.Errorf("%s f=%g: weights on %d threads differ from 1 thread", name, ddf, threads)
				}
			}
		}
	}
}

// checkSent holds what arrived at each postsynaptic neuron against the
// reference's transmitted weights plus the driver's input.
func (c *stdpCase) checkSent(t *testing.T, s *Simulator, ring [][]float64, post [][]int64, sent [][]float64, name string) {
	t.Helper()
	want := make([][]float64, len(ring))
	for a := range want {
		want[a] = make([]float64, len(c.drive))
	}
	for k, cn := range c.conns {
		D := int64(delaySteps(c.d0[k], 0.1))
		for i, st := range stamps(c.pre[cn[0]])[:len(sent[k])] {
			if a := st + D; a < int64(len(want)) {
				want[a][cn[1]] += sent[k][i]
			}
		}
	}
	for j, ts := range c.drive {
		for _, st := range stamps(ts) {
			if a := st + 1; a < int64(len(want)) {
				want[a][j] += 100
			}
		}
	}
	off := s.pops[1].Offset
	bad := 0
	for a := 1; a < len(ring); a++ {
		for j := range c.drive {
			if got := ring[a][off+j]; math.Abs(got-want[a][j]) > 1e-9 {
				if bad++; bad <= 5 {
					t.Errorf("%s f=%g: arrival at stamp %d, neuron %d: %.12g, want %.12g", name, c.ddf, a, j, got, want[a][j])
				}
			}
		}
	}
}

// TestSTDPSetWeights: weights set between runs replace the current ones
// and learning continues from them, with the traces of the spikes before.
func TestSTDPSetWeights(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))
	c := randomCase(r, allRules()["multiplicative"], 1, 4, 3, 200, 50)
	s := dynNew(t, c.desc(seed), 2)
	if err := s.Run(t.Context(), 100, nil); err != nil {
		t.Fatal(err)
	}
	at := s.step
	set := make([]float64, len(c.conns))
	for k := range set {
		set[k] = 0.3 + 0.01*float64(k)
	}
	if err := s.SetSynapseValues(0, "weight", &network.Value{Kind: network.KindArray, Array: npy.Float64Array(set)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SynapseValues(0, "weight"); !slices.Equal(got, set) {
		t.Fatalf("weights read back %v, set %v", got, set)
	}
	if err := s.Run(t.Context(), 110, nil); err != nil {
		t.Fatal(err)
	}
	post := postStamps(s, len(c.drive))
	got, _ := s.SynapseValues(0, "weight")
	for k, cn := range c.conns {
		D := int64(delaySteps(c.d0[k], 0.1))
		want := refAfterSet(&c.rule, set[k], stamps(c.pre[cn[0]]), post[cn[1]], D, at, s.step)
		if !closeTo(got[k], want, 1e-11) {
			t.Errorf("connection %d after set: weight %.15g, want %.15g", k, got[k], want)
		}
	}
}

// refAfterSet is the reference for f = 1 with the weight replaced by w at
// stamp at: the events of synaptic time after at change w, and the pair
// sums include the spikes before.
func refAfterSet(q *refRule, w float64, pre, post []int64, D, at, upTo int64) float64 {
	var later []int64
	for _, s := range pre {
		if s > at {
			later = append(later, s)
		}
	}
	var laterPost []int64
	for _, e := range post {
		if e+D > at {
			laterPost = append(laterPost, e)
		}
	}
	// Each later event's pair sum runs over all earlier spikes, so replay
	// the reference on all spikes but start counting from the first later
	// event with weight w.
	tp, tm := q.taus()
	type ev struct {
		t   int64
		pre bool
	}
	var evs []ev
	for _, s := range later {
		evs = append(evs, ev{s, true})
	}
	for _, e := range laterPost {
		evs = append(evs, ev{e + D, false})
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].t != evs[j].t {
			return evs[i].t < evs[j].t
		}
		return !evs[i].pre && evs[j].pre
	})
	for _, e := range evs {
		if e.t > upTo {
			break
		}
		sum := 0.0
		if e.pre {
			for _, b := range post {
				if b+D < e.t {
					sum += math.Exp(-float64(e.t-b-D) * 0.1 / tm)
				}
			}
			w = q.depress(w, sum)
		} else {
			for _, s := range pre {
				if s < e.t {
					sum += math.Exp(-float64(e.t-s) * 0.1 / tp)
				}
			}
			w = q.potentiate(w, sum)
		}
	}
	return w
}

// TestSTDPReset: a reset keeps the weights, as PyNN does, and forgets the
// traces: the next trial learns from the kept weights as if from scratch.
func TestSTDPReset(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 13))
	for _, ddf := range []float64{1, 0.3} {
		c := randomCase(r, allRules()["apmd"], ddf, 4, 3, 100, 50)
		s := dynNew(t, c.desc(seed), 3)
		if err := s.Run(t.Context(), 110, nil); err != nil {
			t.Fatal(err)
		}
		before, _ := s.SynapseValues(0, "weight")
		want, _ := c.expect(postStamps(s, len(c.drive)), s.step)
		for k := range want {
			if !closeTo(before[k], want[k], 1e-11) {
				t.Fatalf("f=%g connection %d in the first trial: %.15g, want %.15g", ddf, k, before[k], want[k])
			}
		}
		s.Reset()
		if after, _ := s.SynapseValues(0, "weight"); !slices.Equal(before, after) {
			t.Fatalf("f=%g: reset changed the weights", ddf)
		}
		if err := s.Run(t.Context(), 110, nil); err != nil {
			t.Fatal(err)
		}
		segs := s.Segments()
		post := make([][]int64, len(c.drive))
		ps := segs[len(segs)-1].Spikes[1]
		for i, id := range ps.IDs {
			post[id] = append(post[id], int64(math.Round(ps.Times[i]/0.1)))
		}
		got, _ := s.SynapseValues(0, "weight")
		for k, cn := range c.conns {
			D := int64(delaySteps(c.d0[k], 0.1))
			Dd := int64(math.Round(ddf * float64(D)))
			w, _ := refSynapse(&c.rule, before[k], stamps(c.pre[cn[0]]), post[cn[1]], D, Dd, 0.1, s.step)
			if !closeTo(got[k], w, 1e-11) {
				t.Errorf("f=%g connection %d after reset: weight %.15g, want %.15g", ddf, k, got[k], w)
			}
		}
	}
}

// TestSTDPSilentPresynapticNeuron: a synapse whose presynaptic neuron falls
// silent while its target keeps firing must still get all the potentiation
// at its next spike, while the history of postsynaptic spikes stays short.
func TestSTDPSilentPresynapticNeuron(t *testing.T) {
	drive := regular(900, 3, 2)
	c := &stdpCase{rule: pairRule("MultiplicativeWeightDependence", map[string]float64{"tau_plus": 400, "A_plus": 0.001}), ddf: 1,
		pre:   [][]float64{{1, 1500, 1700}, regular(300, 2, 6)},
		drive: [][]float64{drive}, conns: [][2]int64{{0, 0}, {1, 0}}, w0: []float64{0.1, 0.1}, d0: []float64{1, 1.3}}
	s := dynNew(t, c.desc(1), 1)
	maxLive := 0
	for s.Now() < 1800 {
		if err := s.Run(t.Context(), 10, nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range s.projs[0].dyn.(*stdp).parts {
			maxLive = max(maxLive, p.live)
		}
	}
	w, _ := s.SynapseValues(0, "weight")
	want, _ := c.expect(postStamps(s, 1), s.step)
	for k := range w {
		if !closeTo(w[k], want[k], 1e-11) {
			t.Errorf("connection %d: weight %.15g, want %.15g", k, w[k], want[k])
		}
	}
	if n := len(postStamps(s, 1)[0]); n < 800 || maxLive > minSweep(1)+1 {
		t.Errorf("%d postsynaptic spikes; the history held up to %d of them (bound %d)", n, maxLive, minSweep(1)+1)
	}
}

// TestSTDPParameters: the rule's parameters read back, can be set for the
// whole projection between runs (also from a schedule action), and bad ones
// are refused with errors naming them.
func TestSTDPParameters(t *testing.T) {
	c := &stdpCase{rule: pairRule("GutigWeightDependence", nil), ddf: 1,
		pre: [][]float64{{10, 30}}, drive: [][]float64{{20}}, conns: [][2]int64{{0, 0}}, w0: []float64{0.5}, d0: []float64{1}}
	s := dynNew(t, c.desc(1), 1)
	for name, want := range map[string]float64{"A_plus": 0.01, "tau_minus": 30, "w_max": 1, "mu_plus": 0.5, "dendritic_delay_fraction": 1} {
		got, err := s.SynapseValues(0, name)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("%s reads %v (%v), want %g", name, got, err, want)
		}
	}
	if err := s.SetSynapseValues(0, "A_plus", ptrValue(network.Scalar(0.02))); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSynapseValues(0, "A_minus", ptrValue(network.Scalar(0))); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context(), 40, nil); err != nil {
		t.Fatal(err)
	}
	w, _ := s.SynapseValues(0, "weight")
	// Gutig, mu_plus 0.5, w_max 1: dw = A_plus sqrt(1 - w) K+, K+ = e^(-(20.1 + 1 - 10)/20).
	if want := 0.5 + 0.02*math.Sqrt(0.5)*math.Exp(-11.1/20); !closeTo(w[0], want, 1e-12) {
		t.Errorf("after setting A_plus: weight %.15g, want %.15g", w[0], want)
	}
	for _, bad := range []struct {
		name string
		v    float64
	}{{"tau_plus", -1}, {"w_min", 2}, {"dendritic_delay_fraction", 1.5}} {
		if err := s.SetSynapseValues(0, bad.name, ptrValue(network.Scalar(bad.v))); err == nil {
			t.Errorf("%s = %g accepted", bad.name, bad.v)
		}
	}
	// A schedule may set the rule's parameters.
	d := c.desc(1)
	d.Schedule = []network.Action{{SetSynapses: &network.SetSynapsesAction{Projection: 0, Parameters: map[string]network.Value{"A_plus": network.Scalar(0.03)}}}}
	if err := network.Validate(d, network.Standard, network.Limits{}); err != nil {
		t.Errorf("set_synapses of A_plus: %v", err)
	}
	d.Schedule[0].SetSynapses.Parameters = map[string]network.Value{"tau": network.Scalar(3)}
	if err := network.Validate(d, network.Standard, network.Limits{}); err == nil {
		t.Errorf("set_synapses of Vogels' tau on a SpikePairRule projection accepted")
	}
	// Build errors.
	for _, tc := range []struct {
		mod  func(*network.Description)
		want string
	}{
		{func(d *network.Description) {
			d.Projections[0].Synapse.TimingDependence = &network.Component{Type: "Vogels2011Rule"}
		}, "AdditiveWeightDependence"},
		{func(d *network.Description) {
			d.Projections[0].Synapse.WeightDependence.Parameters["w_min"] = network.Scalar(3)
		}, "w_min"},
		{func(d *network.Description) {
			d.Projections[0].Synapse.TimingDependence.Parameters["tau_plus"] = network.Random("uniform", map[string]float64{"low": 10, "high": 20})
		}, "tau_plus"},
		{func(d *network.Description) {
			d.Projections[0].Synapse.WeightDependence.Parameters["w_max"] = network.Scalar(-1)
		}, "w_max"},
	} {
		d := c.desc(1)
		tc.mod(d)
		if _, err := New(d, Options{Threads: 1}); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "plastic") {
			t.Errorf("want an error naming the projection and %s, got %v", tc.want, err)
		}
	}
}

// TestSTDPInitialKplus: the presynaptic trace's initial value (NEST's Kplus,
// set by PyNN's Projection.initialize) decays from t = 0 and pairs with a
// postsynaptic spike that comes before any presynaptic one: the weight
// gains A_plus·Kplus·e^(-t/tau_plus) more than with the default 0. It reads
// back, and a reset restores it.
func TestSTDPInitialKplus(t *testing.T) {
	const A, tp = 0.01, 20.0
	run := func(k0 float64) (float64, *Simulator) {
		c := &stdpCase{rule: pairRule("AdditiveWeightDependence", nil), ddf: 1,
			pre: [][]float64{{20}}, drive: [][]float64{{9.9}}, conns: [][2]int64{{0, 0}}, w0: []float64{0.5}, d0: []float64{1}}
		d := c.desc(1)
		d.Projections[0].Synapse.Parameters["Kplus"] = network.Scalar(k0)
		s := dynNew(t, d, 1)
		if k, err := s.SynapseValues(0, "Kplus"); err != nil || k[0] != k0 {
			t.Fatalf("Kplus reads %v (%v) before the run, want %g", k, err, k0)
		}
		if err := s.Run(t.Context(), 30, nil); err != nil {
			t.Fatal(err)
		}
		w, err := s.SynapseValues(0, "weight")
		if err != nil {
			t.Fatal(err)
		}
		return w[0], s
	}
	w0, _ := run(0)
	w1, s := run(2)
	// The postsynaptic spike at 10 ms reaches the synapse one delay later (f = 1).
	if want := 2 * A * math.Exp(-(10+1)/tp); !closeTo(w1-w0, want, 1e-9) {
		t.Fatalf("Kplus = 2: weight %.12g, against %.12g with 0: difference %.3g, want %.3g", w1, w0, w1-w0, want)
	}
	// After the presynaptic spike at 20 ms (its synaptic time with f = 1): 2 e^(-20/20) + 1.
	if k, _ := s.SynapseValues(0, "Kplus"); !closeTo(k[0], 2*math.Exp(-20/tp)+1, 1e-12) {
		t.Fatalf("Kplus after the spike %v", k)
	}
	s.Reset()
	if k, _ := s.SynapseValues(0, "Kplus"); k[0] != 2 {
		t.Fatalf("Kplus after a reset %v, want 2", k)
	}
	if err := s.SetSynapseValues(0, "Kplus", ptrValue(network.Scalar(-1))); err == nil {
		t.Fatal("Kplus = -1 accepted")
	}
	if err := s.SetSynapseValues(0, "Kplus", ptrValue(network.Scalar(0.5))); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.SynapseValues(0, "Kplus"); k[0] != 0.5 {
		t.Fatalf("Kplus set to 0.5 reads %v", k)
	}
}
