package engine

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/npy"
)

// Helpers shared by the tests of synapse dynamics.

// dynNet is a network of spike sources (population 0, one spike train per
// neuron) projecting with syn onto IF_curr_exp neurons (population 1) that
// never fire, all to all.
func dynNet(seed uint64, trains [][]float64, nPost int, syn network.Synapse) *network.Description {
	return &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		Populations: []network.Population{
			{Label: "pre", Size: len(trains), CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Ragged(trains)}},
			{Label: "post", Size: nPost, CellType: "IF_curr_exp", Parameters: map[string]network.Value{"v_thresh": network.Scalar(1e6)}},
		},
		Projections: []network.Projection{{Label: "p", Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 1}},
			Synapse: syn, Connector: &network.Connector{Type: "AllToAllConnector"}}},
	}
}

func dynSyn(typ string, params map[string]float64) network.Synapse {
	ps := map[string]network.Value{}
	for k, v := range params {
		ps[k] = network.Scalar(v)
	}
	return network.Synapse{Type: typ, Parameters: ps}
}

func dynNew(t testing.TB, d *network.Description, threads int) *Simulator {
	t.Helper()
	s, err := New(d, Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dynArrivals runs s one step at a time for steps steps and returns what
// arrived at neuron g on projection 0's channel, by arrival stamp: read
// from the ring just before the neuron consumes it.
func dynArrivals(t testing.TB, s *Simulator, g int, steps int) []float64 {
	t.Helper()
	ch := s.projs[0].channel
	out := make([]float64, int(s.step)+steps+1)
	for m := 0; m < steps; m++ {
		a := s.step + 1
		out[a] = s.ring[ch][int(a%s.slots)*s.n+g]
		if err := s.Run(context.Background(), s.dt, nil); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func closeTo(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) || a == b
}

// TestTsodyksMarkramRegularTrain holds the amplitudes of a regular spike
// train against the closed-form solution of the Tsodyks-Markram recursion:
// without facilitation u = U and x_n = x* + (1 - x*) r^(n-1) with
// r = (1-U) e^(-T/tau_rec), x* = (1 - e^(-T/tau_rec)) / (1 - r); with
// facilitation u_n = u* + (U - u*) q^(n-1), q = (1-U) e^(-T/tau_facil),
// u* = U/(1-q), and x follows x_(n+1) = 1 - (1 - x_n (1-u_n)) e^(-T/tau_rec).
func TestTsodyksMarkramRegularTrain(t *testing.T) {
	const w, T, first, delay = 0.7, 20.0, 5.0, 1.5
	var train []float64
	for k := 0; k < 12; k++ {
		train = append(train, first+T*float64(k))
	}
	for _, tc := range []struct{ U, tauRec, tauFac, u0 float64 }{
		{0.3, 100, 0, 0},
		{0.1, 150, 500, 0},
		{0.2, 80, 300, 0.4}, // a non-zero initial u decays from t = 0
	} {
		syn := dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": w, "delay": delay, "U": tc.U, "tau_rec": tc.tauRec, "tau_facil": tc.tauFac, "u": tc.u0})
		for threads := 1; threads <= 2; threads++ {
			s := dynNew(t, dynNet(1, [][]float64{train}, 2, syn), threads)
			arr := dynArrivals(t, s, 2, int((first+T*12+5)/0.1))
			er := math.Exp(-T / tc.tauRec)
			ef := 0.0
			if tc.tauFac > 0 {
				ef = math.Exp(-T / tc.tauFac)
			}
			u1 := tc.U + tc.u0*math.Exp(-first/math.Max(tc.tauFac, 1e-300))*(1-tc.U)
			if tc.tauFac == 0 {
				u1 = tc.U
			}
			q := (1 - tc.U) * ef
			uStar := tc.U / (1 - q)
			x := 1.0
			for k := range train {
				u := uStar + (u1-uStar)*math.Pow(q, float64(k))
				if tc.tauFac == 0 {
					r := (1 - tc.U) * er
					xStar := (1 - er) / (1 - r)
					x = xStar + (1-xStar)*math.Pow(r, float64(k))
				}
				stamp := int(math.Round((train[k] + delay) / 0.1))
				want := w * u * x
				// The weight is stored in single precision.
				if got := arr[stamp]; !closeTo(got, want, 1e-6) {
					t.Errorf("%+v threads %d spike %d: amplitude %.9g, want %.9g", tc, threads, k, got, want)
				}
				if tc.tauFac > 0 {
					x = 1 - (1-x*(1-u))*er
				}
			}
			// Nothing else arrives.
			n := 0
			for _, a := range arr {
				if a != 0 {
					n++
				}
			}
			if n != len(train) {
				t.Errorf("%+v: %d arrivals for %d spikes", tc, n, len(train))
			}
			// u reads as its value just after the last spike.
			u, err := s.SynapseValues(0, "u")
			if err != nil {
				t.Fatal(err)
			}
			last := uStar + (u1-uStar)*math.Pow(q, float64(len(train)-1))
			if len(u) != 2 || !closeTo(u[0], last, 1e-12) || u[1] != u[0] {
				t.Errorf("%+v: u after the train %v, want %g", tc, u, last)
			}
		}
	}
}

// TestTsodyksMarkramSetAndReset: parameters and u set between runs take
// effect and read back; a reset restores x = 1 and the initial u, so the
// train starts over; weights are kept.
func TestTsodyksMarkramSetAndReset(t *testing.T) {
	syn := dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1, "U": 0.5, "tau_rec": 100})
	s := dynNew(t, dynNet(1, [][]float64{{2, 4}, {3}}, 1, syn), 1)
	a := dynArrivals(t, s, 2, 80)
	if !closeTo(a[30], 0.5, 1e-12) || !closeTo(a[50], 0.5*(1-0.5*math.Exp(-2.0/100)), 1e-9) {
		t.Fatalf("first run: %g %g", a[30], a[50])
	}
	if err := s.SetSynapseValues(0, "U", &network.Value{Kind: network.KindArray, Array: npy.Float64Array([]float64{0.25, 0.75})}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSynapseValues(0, "weight", ptrValue(network.Scalar(2))); err != nil {
		t.Fatal(err)
	}
	got, _ := s.SynapseValues(0, "U")
	if got[0] != 0.25 || got[1] != 0.75 {
		t.Fatalf("U reads %v", got)
	}
	if err := s.SetSynapseValues(0, "U", ptrValue(network.Scalar(1.5))); err == nil {
		t.Fatal("U = 1.5 accepted")
	}
	s.Reset()
	a = dynArrivals(t, s, 2, 80)
	// Neuron 0's synapse has U = 0.25, neuron 1's U = 0.75; both start over.
	if !closeTo(a[30], 2*0.25, 1e-12) || !closeTo(a[40], 2*0.75, 1e-12) {
		t.Fatalf("after reset: %g %g", a[30], a[40])
	}
	for name, v := range map[string]float64{"u": 0.5, "tau_facil": 100} {
		if err := s.SetSynapseValues(0, name, ptrValue(network.Scalar(v))); err != nil {
			t.Fatal(err)
		}
	}
	s.Reset()
	a = dynArrivals(t, s, 2, 40)
	// u = 0.5 at t = 0 decays with tau_facil until the first spike at 2 ms.
	if want := 2 * (0.25 + 0.5*math.Exp(-2.0/100)*0.75); !closeTo(a[30], want, 1e-12) {
		t.Fatalf("after setting u: %g, want %g", a[30], want)
	}
}

func ptrValue(v network.Value) *network.Value { return &v }

// TestSynapseDynamicsThreadCount runs a spiking network that uses every
// synapse dynamics (plasticity shaping the activity that drives it) on 1,
// 2 and 3 threads: spikes, weights and u must agree bit for bit.
func TestSynapseDynamicsThreadCount(t *testing.T) {
	seed := *seedFlag
	t.Logf("seed %d", seed)
	uni := func(lo, hi float64) network.Value {
		return network.Random("uniform", map[string]float64{"low": lo, "high": hi})
	}
	fp := func(p float64) *network.Connector { return &network.Connector{Type: "FixedProbabilityConnector", P: p} }
	stdpSyn := func(timing string, tp map[string]float64, weight string, wp map[string]float64, ddf float64, w, d network.Value) network.Synapse {
		vals := func(m map[string]float64) map[string]network.Value {
			out := map[string]network.Value{}
			for k, v := range m {
				out[k] = network.Scalar(v)
			}
			return out
		}
		return network.Synapse{Type: "STDPMechanism",
			Parameters:       map[string]network.Value{"weight": w, "delay": d, "dendritic_delay_fraction": network.Scalar(ddf)},
			TimingDependence: &network.Component{Type: timing, Parameters: vals(tp)},
			WeightDependence: &network.Component{Type: weight, Parameters: vals(wp)}}
	}
	withW := func(syn network.Synapse, w, d network.Value) network.Synapse {
		syn.Parameters["weight"], syn.Parameters["delay"] = w, d
		return syn
	}
	sel := func(p int) network.Selection { return network.Selection{{Population: p}} }
	d := &network.Description{Format: network.FormatName, Version: 1,
		Simulation: network.Simulation{Timestep: 0.1, Seed: seed},
		Populations: []network.Population{
			{Label: "in", Size: 80, CellType: "SpikeSourcePoisson", Parameters: map[string]network.Value{"rate": network.Scalar(40)}},
			{Label: "exc", Size: 60, CellType: "IF_cond_exp"},
			{Label: "inh", Size: 15, CellType: "IF_cond_exp"},
		},
		Projections: []network.Projection{
			{Label: "tm", Pre: sel(0), Post: sel(1), Connector: fp(0.2),
				Synapse: withW(dynSyn("TsodyksMarkramSynapse", map[string]float64{"tau_facil": 50}), uni(0.005, 0.02), network.Scalar(1))},
			{Label: "bern", Pre: sel(0), Post: sel(1), Connector: fp(0.2),
				Synapse: withW(dynSyn("SimpleStochasticSynapse", map[string]float64{"p": 0.6}), network.Scalar(0.01), uni(0.5, 3))},
			{Label: "stm", Pre: sel(0), Post: sel(2), Connector: fp(0.3),
				Synapse: withW(dynSyn("StochasticTsodyksMarkramSynapse", map[string]float64{"tau_rec": 50}), network.Scalar(0.02), network.Scalar(1))},
			{Label: "quantal", Pre: sel(1), Post: sel(2), Connector: fp(0.3),
				Synapse: withW(dynSyn("MultiQuantalSynapse", map[string]float64{"n": 4, "tau_rec": 100}), network.Scalar(0.005), uni(0.5, 2))},
			{Label: "stdp", Pre: sel(0), Post: sel(1), Connector: fp(0.3),
				Synapse: stdpSyn("SpikePairRule", map[string]float64{"A_plus": 0.02, "A_minus": 0.021}, "AdditiveWeightDependence", map[string]float64{"w_max": 0.03}, 1, uni(0.005, 0.02), uni(0.3, 4))},
			{Label: "gutig", Pre: sel(1), Post: sel(1), Connector: fp(0.2),
				Synapse: stdpSyn("SpikePairRule", nil, "GutigWeightDependence", map[string]float64{"w_max": 0.01}, 0.3, network.Scalar(0.004), uni(0.5, 3))},
			{Label: "vogels", Pre: sel(2), Post: sel(1), Connector: fp(0.4), ReceptorType: "inhibitory",
				Synapse: stdpSyn("Vogels2011Rule", map[string]float64{"eta": 0.001}, "AdditiveWeightDependence", map[string]float64{"w_max": 0.1}, 0, network.Scalar(0.02), network.Scalar(1))},
		},
		Recordings: []network.Recording{{Selection: sel(1), Variables: []string{"spikes"}}, {Selection: sel(2), Variables: []string{"spikes"}}},
	}
	type result struct {
		spikes [][]float64
		values [][]float64
	}
	run := func(threads int) result {
		s := dynNew(t, d, threads)
		var res result
		for trial := 0; trial < 2; trial++ {
			if err := s.Run(t.Context(), 250, nil); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"u", "weight"} {
				for i := range d.Projections {
					if v, err := s.SynapseValues(i, name); err == nil {
						res.values = append(res.values, v)
					}
				}
			}
			s.Reset()
		}
		for _, seg := range s.Segments() {
			for _, ps := range seg.Spikes {
				res.spikes = append(res.spikes, ps.Times, float64s(ps.IDs))
			}
		}
		return res
	}
	one := run(1)
	n := 0
	for _, xs := range one.spikes {
		n += len(xs)
	}
	if n < 2*2*500 {
		t.Fatalf("only %d spikes: the network is too quiet to test anything", n/2)
	}
	t.Logf("%d spikes", n/2)
	for threads := 2; threads <= 3; threads++ {
		other := run(threads)
		if !equalRows(one.spikes, other.spikes) || !equalRows(one.values, other.values) {
			t.Errorf("%d threads differ from 1", threads)
		}
	}
}

func float64s(xs []int32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// TestTsodyksMarkramInitialX: the initial resources x (NEST's name; PyNN's
// Projection.initialize) scale the first amplitude: x = 0.5 halves it
// against x = 1 (amplitude = weight*u*x), recovering towards 1 with tau_rec
// from t = 0; per connection values apply per connection; x reads back
// before the first spike, after it (x after release) and after a reset.
func TestTsodyksMarkramInitialX(t *testing.T) {
	const w, U, tauRec, ts, delay = 0.8, 0.4, 200.0, 3.0, 1.0
	stamp := int(math.Round((ts + delay) / 0.1))
	first := func(x network.Value) (float64, *Simulator) {
		syn := dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": w, "delay": delay, "U": U, "tau_rec": tauRec})
		syn.Parameters["x"] = x
		s := dynNew(t, dynNet(1, [][]float64{{ts}}, 2, syn), 2)
		return dynArrivals(t, s, 2, stamp+2)[stamp], s
	}
	full, _ := first(network.Scalar(1))
	half, s := first(network.Scalar(0.5))
	rec := math.Exp(-ts / tauRec)
	if want := w * U * 1; !closeTo(full, want, 1e-6) {
		t.Fatalf("x = 1: first amplitude %.9g, want %.9g", full, want)
	}
	if want := w * U * (1 - 0.5*rec); !closeTo(half, want, 1e-6) {
		t.Fatalf("x = 0.5: first amplitude %.9g, want %.9g", half, want)
	}
	// Had the spike come at t = 0, the ratio would be exactly one half; the
	// recovery until ts is the only difference.
	if r := half / full; !closeTo(r, 1-0.5*rec, 1e-6) || r > 0.5+0.5*(1-rec)+1e-9 {
		t.Fatalf("x = 0.5 against x = 1: ratio %g", r)
	}
	// After the spike x reads as after the release: x1 (1 - U).
	x, err := s.SynapseValues(0, "x")
	if err != nil {
		t.Fatal(err)
	}
	if want := (1 - 0.5*rec) * (1 - U); len(x) != 2 || !closeTo(x[0], want, 1e-12) {
		t.Fatalf("x after the spike %v, want %g", x, want)
	}
	s.Reset()
	if x, _ := s.SynapseValues(0, "x"); x[0] != 0.5 || x[1] != 0.5 {
		t.Fatalf("x after a reset %v, want the initial 0.5", x)
	}

	// One value per connection: the two targets see their own x.
	syn := dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": w, "delay": delay, "U": U, "tau_rec": 1e9})
	explicit := func() *network.Description {
		d := dynNet(1, [][]float64{{ts}}, 2, syn)
		d.Projections[0].Connector = nil
		d.Projections[0].Connections = &network.Connections{Pre: network.Value{Kind: network.KindArray, Array: npy.Int64Array([]int64{0, 0})},
			Post:       network.Value{Kind: network.KindArray, Array: npy.Int64Array([]int64{0, 1})},
			Parameters: map[string]network.Value{"x": {Kind: network.KindArray, Array: npy.Float64Array([]float64{0.25, 1})}}}
		return d
	}
	s = dynNew(t, explicit(), 1)
	if x, _ := s.SynapseValues(0, "x"); x[0] != 0.25 || x[1] != 1 {
		t.Fatalf("per-connection x reads %v before the run", x)
	}
	a2 := dynArrivals(t, s, 1, stamp+1)
	a3 := dynArrivals(t, dynNew(t, explicit(), 1), 2, stamp+1)
	if !closeTo(a2[stamp], w*U*0.25, 1e-6) || !closeTo(a3[stamp], w*U, 1e-6) {
		t.Fatalf("per-connection x: amplitudes %g and %g, want %g and %g", a2[stamp], a3[stamp], w*U*0.25, w*U)
	}

	// Set between runs: the present state and the initial one.
	if err := s.SetSynapseValues(0, "x", ptrValue(network.Scalar(0.5))); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSynapseValues(0, "x", ptrValue(network.Scalar(1.5))); err == nil {
		t.Fatal("x = 1.5 accepted")
	}
	if x, _ := s.SynapseValues(0, "x"); x[0] != 0.5 || x[1] != 0.5 {
		t.Fatalf("x set to 0.5 reads %v", x)
	}
}

// TestTsodyksMarkramInitialXValidated: an x out of [0, 1] is refused with the
// projection and the field named; a distribution is drawn per connection.
func TestTsodyksMarkramInitialXValidated(t *testing.T) {
	syn := dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1, "x": 1.5})
	_, err := New(dynNet(1, [][]float64{{1}}, 2, syn), Options{Threads: 1})
	if err == nil || !strings.Contains(err.Error(), `"p"`) || !strings.Contains(err.Error(), "x") {
		t.Fatalf("x = 1.5: error %v, want one naming the projection and x", err)
	}
	syn = dynSyn("TsodyksMarkramSynapse", map[string]float64{"weight": 1, "delay": 1})
	syn.Parameters["x"] = network.Random("uniform", map[string]float64{"low": 0.2, "high": 0.6})
	s := dynNew(t, dynNet(7, [][]float64{{1}}, 50, syn), 2)
	x, err := s.SynapseValues(0, "x")
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[float64]bool{}
	for _, v := range x {
		if v < 0.2 || v >= 0.6 {
			t.Fatalf("drawn x %g outside [0.2, 0.6)", v)
		}
		distinct[v] = true
	}
	if len(distinct) < 40 {
		t.Fatalf("%d distinct values of x among 50 draws", len(distinct))
	}
}
