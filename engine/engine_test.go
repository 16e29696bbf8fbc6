package engine

import (
	"context"
	"flag"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/network"
)

var seedFlag = flag.Uint64("seed", uint64(time.Now().UnixNano()%1e6), "seed for randomized engine tests")

func sel(pop int, idx ...int64) network.Selection {
	if len(idx) == 0 {
		return network.Selection{{Population: pop}}
	}
	v := network.Ints(idx)
	return network.Selection{{Population: pop, Indices: &v}}
}

func desc(seed uint64, pops ...network.Population) *network.Description {
	return &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed}, Populations: pops}
}

func static(w, d float64) network.Synapse {
	return network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(w), "delay": network.Scalar(d)}}
}

func mustRun(t testing.TB, d *network.Description, threads int, ms float64) *Simulator {
	t.Helper()
	s, err := New(d, Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), ms, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// mixed is a network that uses every mechanism of the core: several
// populations and cell types, views and assemblies, every connector,
// explicit lists, heterogeneous and random delays and weights, Poisson and
// array sources, current sources of every kind, gap junctions, recording.
func mixed(seed uint64) *network.Description {
	d := desc(seed,
		network.Population{Label: "poisson", Size: 50, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{"rate": network.Scalar(40)}},
		network.Population{Label: "array", Size: 3, CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Ragged([][]float64{{1, 5, 9.95}, {}, {2.04, 2.06}})}},
		network.Population{Label: "curr", Size: 37, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"tau_refrac": network.Scalar(2)},
			InitialValues: map[string]network.Value{"v": network.Random("uniform", map[string]float64{"low": -65, "high": -52})}},
		network.Population{Label: "cond", Size: 41, CellType: "IF_cond_exp", Parameters: map[string]network.Value{"tau_m": network.Random("normal_clipped", map[string]float64{"mu": 20, "sigma": 4, "low": 5, "high": 40})}},
		network.Population{Label: "alpha", Size: 13, CellType: "IF_cond_alpha"},
		network.Population{Label: "delta", Size: 7, CellType: "IF_curr_delta"},
	)
	rw := network.Random("uniform", map[string]float64{"low": 0.001, "high": 0.02})
	rd := network.Random("uniform", map[string]float64{"low": 0.1, "high": 3})
	d.Projections = []network.Projection{
		{Pre: sel(0), Post: sel(2), Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.5), "delay": rd}},
			Connector: &network.Connector{Type: "FixedProbabilityConnector", P: 0.2}},
		{Pre: sel(0), Post: sel(3), Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": rw, "delay": network.Scalar(1)}},
			Connector: &network.Connector{Type: "FixedNumberPreConnector", N: 10}},
		{Pre: sel(2), Post: append(sel(3), sel(4)...), Synapse: static(0.005, 0.5), Connector: &network.Connector{Type: "FixedNumberPostConnector", N: 5}},
		{Pre: sel(3), Post: sel(2), ReceptorType: "inhibitory", Synapse: static(-0.3, 1.5), Connector: &network.Connector{Type: "FixedTotalNumberConnector", N: 200, WithReplacement: true}},
		{Pre: sel(3, 0, 1, 2), Post: sel(4), Synapse: static(0.01, 0.2), Connector: &network.Connector{Type: "AllToAllConnector"}},
		{Pre: sel(1), Post: sel(5, 4, 2, 0), Synapse: static(5, 1), Connector: &network.Connector{Type: "OneToOneConnector"}},
		{Pre: sel(2), Post: sel(2), Synapse: network.Synapse{Type: "StaticSynapse"},
			Connections: &network.Connections{Pre: network.Ints([]int64{5, 1, 5, 36}), Post: network.Ints([]int64{0, 3, 0, 2}),
				Parameters: map[string]network.Value{"weight": network.Floats([]float64{0.2, 0.3, 0.1, 0.4}), "delay": network.Floats([]float64{1, 2, 3, 0.1})}}},
		{Pre: sel(2, 0, 1, 2, 3), Post: sel(2, 10, 11, 12, 13), Synapse: network.Synapse{Type: "ElectricalSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.002)}},
			Connector: &network.Connector{Type: "OneToOneConnector"}},
	}
	d.CurrentSources = []network.CurrentSource{
		{Type: "DCSource", Parameters: map[string]network.Value{"amplitude": network.Scalar(0.3), "start": network.Scalar(5), "stop": network.Scalar(40)}, Targets: sel(2, 3, 4, 5)},
		{Type: "ACSource", Parameters: map[string]network.Value{"amplitude": network.Scalar(0.2), "frequency": network.Scalar(50), "phase": network.Scalar(30)}, Targets: sel(3)},
		{Type: "StepCurrentSource", Parameters: map[string]network.Value{"times": network.Floats([]float64{10, 20, 30}), "amplitudes": network.Floats([]float64{0.4, -0.1, 0.2})}, Targets: sel(4)},
		{Type: "NoisyCurrentSource", Parameters: map[string]network.Value{"mean": network.Scalar(0.1), "stdev": network.Scalar(0.3), "dt": network.Scalar(0.5)}, Targets: sel(2)},
	}
	var all network.Selection
	for i := range d.Populations {
		all = append(all, sel(i)...)
	}
	d.Recordings = []network.Recording{
		{Selection: all, Variables: []string{"spikes"}},
		{Selection: sel(2, 0, 10, 36), Variables: []string{"v", "isyn_exc"}},
		{Selection: sel(3), Variables: []string{"v", "gsyn_exc", "gsyn_inh"}, SamplingInterval: 0.5},
	}
	return d
}

// TestThreadCountDoesNotChangeResults runs the mixed network with 1, 2, 3
// and 5 threads and requires bit-identical spikes, signals and weights.
func TestThreadCountDoesNotChangeResults(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	t.Logf("seed %d (rerun with -seed %d)", seed, seed)
	var ref *Simulator
	for _, threads := range []int{1, 2, 3, 5} {
		s := mustRun(t, mixed(seed), threads, 60)
		if threads == 1 {
			ref = s
			n := 0
			for _, ps := range s.Segments()[0].Spikes {
				n += len(ps.IDs)
			}
			if n < 100 {
				t.Fatalf("the test network is too quiet to test anything: %d spikes", n)
			}
			continue
		}
		a, b := ref.Segments()[0], s.Segments()[0]
		for p := range a.Spikes {
			if !reflect.DeepEqual(a.Spikes[p], b.Spikes[p]) {
				t.Errorf("threads=%d: spikes of population %d differ (%d vs %d spikes)", threads, p, len(a.Spikes[p].IDs), len(b.Spikes[p].IDs))
			}
		}
		if len(a.Signals) != len(b.Signals) {
			t.Fatalf("threads=%d: %d signals vs %d", threads, len(b.Signals), len(a.Signals))
		}
		for k := range a.Signals {
			if !reflect.DeepEqual(a.Signals[k].Data, b.Signals[k].Data) {
				t.Errorf("threads=%d: signal %s of population %d differs", threads, a.Signals[k].Variable, a.Signals[k].Population)
			}
		}
		for pi := range ref.desc.Projections {
			pa, qa, _ := ref.Connections(pi)
			pb, qb, _ := s.Connections(pi)
			wa, _ := ref.SynapseValues(pi, "weight")
			wb, _ := s.SynapseValues(pi, "weight")
			if !reflect.DeepEqual(pa, pb) || !reflect.DeepEqual(qa, qb) || !reflect.DeepEqual(wa, wb) {
				t.Errorf("threads=%d: connections of projection %d differ", threads, pi)
			}
		}
	}
}

func TestSameSeedSameResultsOtherSeedOther(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	t.Logf("seed %d", seed)
	a := mustRun(t, mixed(seed), 2, 30).Segments()[0]
	b := mustRun(t, mixed(seed), 2, 30).Segments()[0]
	c := mustRun(t, mixed(seed+1), 2, 30).Segments()[0]
	if !reflect.DeepEqual(a.Spikes, b.Spikes) {
		t.Errorf("the same seed gave different spikes")
	}
	if reflect.DeepEqual(a.Spikes, c.Spikes) {
		t.Errorf("another seed gave the same spikes")
	}
}

func TestConnectors(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	t.Logf("seed %d", seed)
	const nPre, nPost = 300, 200
	build := func(c *network.Connector, samePop bool) ([]int32, []int32) {
		d := desc(seed, network.Population{Size: nPre, CellType: "IF_curr_exp"}, network.Population{Size: nPost, CellType: "IF_curr_exp"})
		post := 1
		if samePop {
			post = 0
		}
		d.Projections = []network.Projection{{Pre: sel(0), Post: sel(post), Synapse: static(0.1, 1), Connector: c}}
		s, err := New(d, Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		pre, postIdx, err := s.Connections(0)
		if err != nil {
			t.Fatal(err)
		}
		return pre, postIdx
	}
	f := false
	// FixedProbability: the count is binomial; within 5 standard deviations.
	pre, _ := build(&network.Connector{Type: "FixedProbabilityConnector", P: 0.1}, false)
	mean, sd := 0.1*nPre*nPost, math.Sqrt(0.1*0.9*nPre*nPost)
	if math.Abs(float64(len(pre))-mean) > 5*sd {
		t.Errorf("FixedProbability: %d connections, expected %g +- %g", len(pre), mean, sd)
	}
	pre, post := build(&network.Connector{Type: "FixedProbabilityConnector", P: 1, AllowSelfConnections: &f}, true)
	if len(pre) != nPre*(nPre-1) {
		t.Errorf("p=1 without self connections: %d, want %d", len(pre), nPre*(nPre-1))
	}
	for k := range pre {
		if pre[k] == post[k] {
			t.Fatalf("self connection %d->%d", pre[k], post[k])
		}
	}
	// FixedNumberPre: exactly n distinct presynaptic partners per target.
	pre, post = build(&network.Connector{Type: "FixedNumberPreConnector", N: 17}, false)
	perPost := map[int32]map[int32]bool{}
	for k := range pre {
		if perPost[post[k]] == nil {
			perPost[post[k]] = map[int32]bool{}
		}
		if perPost[post[k]][pre[k]] {
			t.Fatalf("FixedNumberPre drew %d->%d twice without replacement", pre[k], post[k])
		}
		perPost[post[k]][pre[k]] = true
	}
	for j := int32(0); j < nPost; j++ {
		if len(perPost[j]) != 17 {
			t.Fatalf("FixedNumberPre: post %d has %d partners", j, len(perPost[j]))
		}
	}
	// FixedNumberPost: exactly n per source.
	pre, _ = build(&network.Connector{Type: "FixedNumberPostConnector", N: 9}, false)
	count := map[int32]int{}
	for _, i := range pre {
		count[i]++
	}
	for i := int32(0); i < nPre; i++ {
		if count[i] != 9 {
			t.Fatalf("FixedNumberPost: pre %d has %d targets", i, count[i])
		}
	}
	// FixedTotalNumber, with and without replacement.
	for _, repl := range []bool{true, false} {
		pre, post = build(&network.Connector{Type: "FixedTotalNumberConnector", N: 1234, WithReplacement: repl}, false)
		if len(pre) != 1234 {
			t.Errorf("FixedTotalNumber(replacement=%v): %d connections", repl, len(pre))
		}
		if !repl {
			seen := map[[2]int32]bool{}
			for k := range pre {
				key := [2]int32{pre[k], post[k]}
				if seen[key] {
					t.Fatalf("FixedTotalNumber without replacement repeated %v", key)
				}
				seen[key] = true
			}
		}
	}
	// AllToAll and OneToOne.
	pre, _ = build(&network.Connector{Type: "AllToAllConnector"}, false)
	if len(pre) != nPre*nPost {
		t.Errorf("AllToAll: %d", len(pre))
	}
	pre, post = build(&network.Connector{Type: "OneToOneConnector"}, true)
	for k := range pre {
		if pre[k] != post[k] || int(pre[k]) != k {
			t.Fatalf("OneToOne: connection %d is %d->%d", k, pre[k], post[k])
		}
	}
	// Connection order: by pre, then post.
	pre, post = build(&network.Connector{Type: "FixedProbabilityConnector", P: 0.3}, false)
	for k := 1; k < len(pre); k++ {
		if pre[k] < pre[k-1] || (pre[k] == pre[k-1] && post[k] < post[k-1]) {
			t.Fatalf("connection %d (%d->%d) is out of order after %d->%d", k, pre[k], post[k], pre[k-1], post[k-1])
		}
	}
}

// TestDelayAndPSP checks the arrival time of a spike and the exact PSP of
// IF_curr_exp: a spike at 1.0 ms with delay 1.5 ms moves the membrane from
// 2.5 ms on, by the analytic difference of exponentials.
func TestDelayAndPSP(t *testing.T) {
	t.Parallel()
	d := desc(1,
		network.Population{Size: 1, CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Floats([]float64{1.0})}},
		network.Population{Size: 1, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"tau_m": network.Scalar(10), "tau_syn_E": network.Scalar(2), "cm": network.Scalar(0.5)}},
	)
	d.Projections = []network.Projection{{Pre: sel(0), Post: sel(1), Synapse: static(0.7, 1.5), Connector: &network.Connector{Type: "AllToAllConnector"}}}
	d.Recordings = []network.Recording{{Selection: sel(1), Variables: []string{"v", "isyn_exc"}}, {Selection: sel(0), Variables: []string{"spikes"}}}
	s := mustRun(t, d, 1, 20)
	seg := s.Segments()[0]
	if got := seg.Spikes[0].Times; len(got) != 1 || got[0] != 1.0 {
		t.Fatalf("source spikes %v", got)
	}
	v := signal(t, seg, 1, "v").Data
	for k, x := range v {
		tt := float64(k) * 0.1
		want := -65.0
		if tt > 2.5+1e-9 {
			s := tt - 2.5
			want += 0.7 / 0.5 * (10.0 * 2 / (10 - 2)) * (math.Exp(-s/10) - math.Exp(-s/2))
		}
		// Exact up to the single-precision storage of the weight (relative 6e-8).
		if math.Abs(x-want) > 1e-7 {
			t.Errorf("t=%.1f: v=%.12f, want %.12f", tt, x, want)
		}
	}
	isyn := signal(t, seg, 1, "isyn_exc").Data
	if isyn[24] != 0 || math.Abs(isyn[25]-0.7) > 1e-7 {
		t.Errorf("isyn around the arrival: %g %g", isyn[24], isyn[25])
	}
}

// TestRecordingSemantics: samples at multiples of the interval from t = 0,
// including the end of each run, once each; runs continue the segment; a
// reset starts a new one; changing the recorded set starts a new signal.
func TestRecordingSemantics(t *testing.T) {
	t.Parallel()
	d := desc(1, network.Population{Size: 4, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"i_offset": network.Scalar(0.2)}})
	d.Recordings = []network.Recording{{Selection: sel(0, 1, 3), Variables: []string{"v"}, SamplingInterval: 0.3}}
	s, err := New(d, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Run(ctx, 1.0, nil)
	s.Run(ctx, 1.0, nil)
	sig := s.Segments()[0].Signals[0]
	// Boundaries 0..20 steps, multiples of 3: 0,3,...,18 -> 7 samples.
	if sig.Samples() != 7 || sig.TStart != 0 || math.Abs(sig.Interval-0.3) > 1e-12 {
		t.Errorf("samples %d, t_start %g, interval %g", sig.Samples(), sig.TStart, sig.Interval)
	}
	if !reflect.DeepEqual(sig.Indices, []int32{1, 3}) {
		t.Errorf("indices %v", sig.Indices)
	}
	// The values are the exact solution at the sample times.
	for k := 0; k < sig.Samples(); k++ {
		tt := 0.3 * float64(k)
		want := -65 + 0.2*20*(1-math.Exp(-tt/20))
		if math.Abs(sig.Data[2*k]-want) > 1e-9 || sig.Data[2*k] != sig.Data[2*k+1] {
			t.Errorf("sample %d: %v, want %g", k, sig.Data[2*k:2*k+2], want)
		}
	}
	s.Reset()
	s.Run(ctx, 0.3, nil)
	segs := s.Segments()
	if len(segs) != 2 || len(segs[1].Signals) != 1 || segs[1].Signals[0].Samples() != 2 || segs[1].Signals[0].Data[0] != -65 {
		t.Fatalf("after reset: %d segments, %+v", len(segs), segs[len(segs)-1].Signals)
	}
	if err := s.Apply(ctx, &network.Action{Record: &network.Recording{Selection: sel(0, 0), Variables: []string{"v"}, SamplingInterval: 0.3}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Run(ctx, 0.3, nil)
	got := s.Segments()[1].Signals
	if len(got) != 2 || !reflect.DeepEqual(got[0].Indices, []int32{1, 3}) || !reflect.DeepEqual(got[1].Indices, []int32{0, 1, 3}) {
		t.Errorf("after changing the recording: %d signals", len(got))
	}
	// TakeSegments returns what was recorded and continues without repeats.
	taken := s.TakeSegments()
	s.Run(ctx, 0.3, nil)
	rest := s.Segments()
	if len(taken) != 2 || len(rest) != 1 || rest[0].Index != 1 || rest[0].Signals[0].TStart != 0.9 || rest[0].Signals[0].Samples() != 1 {
		t.Errorf("take: %d taken, rest %d segments, t_start %g samples %d", len(taken), len(rest), rest[0].Signals[0].TStart, rest[0].Signals[0].Samples())
	}
}

func TestPoissonSourceStatistics(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	t.Logf("seed %d", seed)
	d := desc(seed, network.Population{Size: 200, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{
		"rate": network.Scalar(25), "start": network.Scalar(100), "duration": network.Scalar(800)}})
	d.Recordings = []network.Recording{{Selection: sel(0), Variables: []string{"spikes"}}}
	seg := mustRun(t, d, 2, 1000).Segments()[0]
	n := len(seg.Spikes[0].Times)
	mean := 200 * 25 * 0.8
	if math.Abs(float64(n)-mean) > 5*math.Sqrt(mean) {
		t.Errorf("%d spikes, expected %g +- %g", n, mean, math.Sqrt(mean))
	}
	for _, tt := range seg.Spikes[0].Times {
		if tt < 100 || tt > 900+0.1 {
			t.Fatalf("spike at %g outside [start, start+duration]", tt)
		}
	}
}

func TestCurrentSourceTiming(t *testing.T) {
	t.Parallel()
	d := desc(1, network.Population{Size: 2, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"v_thresh": network.Scalar(100)}})
	d.CurrentSources = []network.CurrentSource{
		{Type: "DCSource", Parameters: map[string]network.Value{"amplitude": network.Scalar(1), "start": network.Scalar(1), "stop": network.Scalar(2)}, Targets: sel(0, 0)},
		{Type: "StepCurrentSource", Parameters: map[string]network.Value{"times": network.Floats([]float64{1, 1.5}), "amplitudes": network.Floats([]float64{1, 0})}, Targets: sel(0, 1)},
	}
	d.Recordings = []network.Recording{{Selection: sel(0), Variables: []string{"v"}}}
	sig := mustRun(t, d, 1, 3).Segments()[0].Signals[0]
	// The current acts from step 10 (t = 1 ms) and stops at t = 2 ms (DC) and 1.5 ms (step).
	v0 := func(k int) float64 { return sig.Data[2*k] }
	v1 := func(k int) float64 { return sig.Data[2*k+1] }
	if v0(10) != -65 || v0(11) == -65 || v1(10) != -65 || v1(11) == -65 {
		t.Errorf("onset: %g %g %g %g", v0(10), v0(11), v1(10), v1(11))
	}
	charge := func(tt float64) float64 { return 20 * (1 - math.Exp(-tt/20)) } // mV per nA after tt ms
	if want := -65 + charge(1)*math.Exp(-0/20.0); math.Abs(v0(20)-want) > 1e-9 {
		t.Errorf("DC end: %g want %g", v0(20), want)
	}
	if want := -65 + charge(0.5); math.Abs(v1(15)-want) > 1e-9 {
		t.Errorf("step end: %g want %g", v1(15), want)
	}
}

func TestSetBetweenRuns(t *testing.T) {
	t.Parallel()
	d := desc(1, network.Population{Size: 3, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"v_thresh": network.Scalar(100)}})
	d.Recordings = []network.Recording{{Selection: sel(0), Variables: []string{"v"}}}
	s, err := New(d, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Run(ctx, 1, nil)
	a := &network.Action{Set: &network.SetAction{Selection: sel(0, 2, 0), Parameters: map[string]network.Value{"i_offset": network.Floats([]float64{0.5, 0.1})}}}
	if err := s.Apply(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	s.Run(ctx, 1, nil)
	v, _ := s.StateOf(0, "v")
	want := func(i float64) float64 { return -65 + i*20*(1-math.Exp(-1.0/20)) }
	if math.Abs(v[0]-want(0.1)) > 1e-9 || v[1] != -65 || math.Abs(v[2]-want(0.5)) > 1e-9 {
		t.Errorf("v after set: %v", v)
	}
	// Weights and delays set between runs, read back in connection order.
	d2 := desc(1, network.Population{Size: 3, CellType: "IF_curr_exp"})
	d2.Projections = []network.Projection{{Pre: sel(0), Post: sel(0), Synapse: static(0.1, 1), Connector: &network.Connector{Type: "AllToAllConnector"}}}
	s2, err := New(d2, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ws := network.Floats([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err := s2.SetSynapseValues(0, "weight", &ws); err != nil {
		t.Fatal(err)
	}
	ds := network.Floats([]float64{1, 2, 3, 4, 5, 6, 7, 8, 25})
	if err := s2.SetSynapseValues(0, "delay", &ds); err != nil {
		t.Fatal(err)
	}
	gotW, _ := s2.SynapseValues(0, "weight")
	gotD, _ := s2.SynapseValues(0, "delay")
	if !reflect.DeepEqual(gotW, ws.Array.Float64s()) || math.Abs(gotD[8]-25) > 1e-9 {
		t.Errorf("weights %v delays %v", gotW, gotD)
	}
	if err := s2.Run(ctx, 30, nil); err != nil {
		t.Fatal(err)
	}
	bad := network.Floats([]float64{1, 2})
	if err := s2.SetSynapseValues(0, "weight", &bad); err == nil {
		t.Errorf("setting 2 weights on 9 connections was accepted")
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	s, err := New(coba(3), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, 1000, nil); err != context.Canceled {
		t.Errorf("cancelled run returned %v", err)
	}
	if s.Now() != 0 {
		t.Errorf("a cancelled run advanced to %g ms", s.Now())
	}
}

func TestBuildErrorsNamePlace(t *testing.T) {
	t.Parallel()
	d := desc(1, network.Population{Label: "a", Size: 3, CellType: "IF_curr_exp"})
	w := network.Random("normal", map[string]float64{"mu": 0, "sigma": 1})
	d.Projections = []network.Projection{{Label: "rand", Pre: sel(0), Post: sel(0),
		Synapse:   network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": w, "delay": network.Scalar(1)}},
		Connector: &network.Connector{Type: "AllToAllConnector"}}}
	_, err := New(d, Options{})
	if err == nil || !contains(err.Error(), `projections[0] "rand"`) || !contains(err.Error(), "sign") {
		t.Errorf("drawn negative excitatory weights: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func signal(t *testing.T, seg *Segment, pop int, variable string) *Signal {
	t.Helper()
	for _, sig := range seg.Signals {
		if sig.Population == pop && sig.Variable == variable {
			return sig
		}
	}
	t.Fatalf("no signal %s of population %d", variable, pop)
	return nil
}

// TestBarrierOversubscribed runs more threads than cores: the barrier must
// let every step complete, and results must not change.
func TestBarrierOversubscribed(t *testing.T) {
	t.Parallel()
	a := mustRun(t, coba(5), 1, 50).Segments()[0]
	b := mustRun(t, coba(5), 7, 50).Segments()[0]
	if !reflect.DeepEqual(a.Spikes, b.Spikes) {
		t.Errorf("7 threads gave other spikes than 1")
	}
}
