package brainscales1

import (
	"context"
	"math"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// syncNet: a stimulus makes a group of identical neurons on one DNC merger
// fire in the same step; the group drives a target neuron.
func syncNet(t testing.TB, group int, stim []float64, backend string) *network.Description {
	h := enumOf(18, 7)
	o := map[string]any{"backend": backend, "defects": map[string]any{"backend": "none"}, "skip_hicanns_without_neuron_blacklisting": false,
		"calib": map[string]any{"backend": "default"}, "neuron_size": 2, "duration_ms": 300, "driver_chain_length": 5,
		"manual": []any{map[string]any{"population": 0, "hicanns": []int{h}}, map[string]any{"population": 1, "hicanns": []int{enumOf(19, 7)}, "size": 16}}}
	par := map[string]network.Value{"v_rest": network.Scalar(-65), "v_reset": network.Scalar(-65), "v_thresh": network.Scalar(-60),
		"tau_refrac": network.Scalar(2), "cm": network.Scalar(0.2), "tau_syn_E": network.Scalar(5)}
	all := &network.Connector{Type: "AllToAllConnector"}
	return &network.Description{Format: network.FormatName, Version: network.FormatVersion,
		Simulation: network.Simulation{Timestep: 0.1, Seed: 3},
		System:     &network.Target{Name: "brainscales1", Options: opts(t, o)},
		Populations: []network.Population{
			{Label: "group", Size: group, CellType: "IF_cond_exp", Parameters: par},
			{Label: "target", Size: 1, CellType: "IF_cond_exp", Parameters: map[string]network.Value{"v_thresh": network.Scalar(0), "tau_syn_E": network.Scalar(5)}},
			{Label: "stimulus", Size: 1, CellType: "SpikeSourceArray", Parameters: map[string]network.Value{"spike_times": network.Ragged([][]float64{stim})}},
		},
		Projections: []network.Projection{
			{Label: "kick", Pre: network.Selection{{Population: 2}}, Post: network.Selection{{Population: 0}}, ReceptorType: "excitatory", Connector: all,
				Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.01)}}},
			{Label: "fan-in", Pre: network.Selection{{Population: 0}}, Post: network.Selection{{Population: 1}}, ReceptorType: "excitatory", Connector: all,
				Synapse: network.Synapse{Type: "StaticSynapse", Parameters: map[string]network.Value{"weight": network.Scalar(0.001)}}},
		},
		Recordings: []network.Recording{{Selection: network.Selection{{Population: 0}}, Variables: []string{"spikes"}}},
	}
}

// runPlan runs a plan on the engine (gsyn_exc of the target recorded) and
// returns its read-out segment.
func runPlan(t *testing.T, plan *system.Plan, threads int, ms float64) *engine.Segment {
	t.Helper()
	ed := *plan.Description
	ed.Recordings = append(append([]network.Recording(nil), ed.Recordings...),
		network.Recording{Selection: network.Selection{{Population: 1}}, Variables: []string{"gsyn_exc", "v"}})
	sim, err := engine.New(&ed, engine.Options{Threads: threads, Models: plan.Models})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background(), ms, nil); err != nil {
		t.Fatal(err)
	}
	segs := sim.TakeSegments()
	if plan.Readout != nil {
		if segs, err = plan.Readout(segs); err != nil {
			t.Fatal(err)
		}
	}
	return segs[len(segs)-1]
}

func signal(seg *engine.Segment, pop int, name string) *engine.Signal {
	for _, s := range seg.Signals {
		if s.Population == pop && s.Variable == name {
			return s
		}
	}
	return nil
}

// TestL1LossReachesNoTarget: 20 neurons on one merger fire in one step; the
// merger passes 2 (one per PLL clock, 2 buffered) and the target receives
// exactly those 2, not the 18 lost ones; the record holds the 2 too.
func TestL1LossReachesNoTarget(t *testing.T) {
	m, err := mapDescription(syncNet(t, 20, []float64{50}, "ess"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := m.plan()
	if err != nil {
		t.Fatal(err)
	}
	mg := map[int32]bool{}
	for i := 0; i < 20; i++ {
		k := m.pl.of[0][i]
		mg[int32(m.pl.hicann[k])*8+int32(m.pl.merger[k])] = true
	}
	if len(mg) != 1 {
		t.Fatalf("the group lies on %d mergers; the test needs one", len(mg))
	}
	var w float64
	for k, s := range m.projs[1].status {
		if s != realized {
			t.Fatalf("fan-in synapse %d lost", k)
		}
		if k > 0 && m.projs[1].eff[k] != w {
			t.Fatalf("fan-in weights differ: %g and %g", w, m.projs[1].eff[k])
		}
		w = m.projs[1].eff[k]
	}
	for _, threads := range []int{1, 2} {
		seg := runPlan(t, plan, threads, 100)
		ps := plan.Info["pulse_statistics"].(pulseStats)
		spikes := seg.Spikes[0]
		t.Logf("threads %d: group spikes recorded %v at %v; pulse statistics %+v", threads, spikes.IDs, spikes.Times, ps)
		if len(spikes.IDs) != 2 || ps.L1NeuronLost != 18 || ps.L1NeuronSent != 20 {
			t.Fatalf("threads %d: %d spikes recorded, L1 %d/%d lost; want 2 recorded, 18/20 lost", threads, len(spikes.IDs), ps.L1NeuronLost, ps.L1NeuronSent)
		}
		g := signal(seg, 1, "gsyn_exc")
		peak := 0.0
		for _, x := range g.Data {
			peak = math.Max(peak, x)
		}
		if n := peak / w; n < 1.8 || n > 2.05 {
			t.Fatalf("threads %d: the target's conductance peaks at %g uS = %.2f synapses of %g uS; want the 2 that passed", threads, peak, n, w)
		}
	}
}

// TestL1ModelMatchesUnwrapped: without losses, the wrapped neurons (their
// spikes a step late, delays and records a step shorter) give exactly the
// spikes and membranes of the plain models.
func TestL1ModelMatchesUnwrapped(t *testing.T) {
	// one group neuron: no two spikes ever share a merger's step
	d := syncNet(t, 1, []float64{20, 60, 61, 100, 140, 141, 142, 200}, "hardware")
	plan, err := System{}.Prepare(d)
	if err != nil {
		t.Fatal(err)
	}
	plain := *plan
	plain.Models = nil
	ed := *plan.Description
	ed.Projections = append([]network.Projection(nil), ed.Projections...)
	pr := ed.Projections[1]
	c := *pr.Connections
	c.Parameters = map[string]network.Value{"weight": c.Parameters["weight"]}
	ds := append([]float64(nil), pr.Connections.Parameters["delay"].Array.Float64s()...)
	for k := range ds {
		ds[k] += 0.1
	}
	c.Parameters["delay"] = network.Floats(ds)
	pr.Connections = &c
	ed.Projections[1] = pr
	plain.Description = &ed
	plain.Readout = func(segs []*engine.Segment) ([]*engine.Segment, error) { return segs, nil }
	a, b := runPlan(t, plan, 1, 300), runPlan(t, &plain, 1, 300)
	if ps := plan.Info["pulse_statistics"].(pulseStats); ps.L1NeuronLost != 0 || ps.UpLost != 0 {
		t.Fatalf("losses %+v; the test needs none", ps)
	}
	sa, sb := a.Spikes[0], b.Spikes[0]
	if len(sa.Times) < 3 || len(sa.Times) != len(sb.Times) {
		t.Fatalf("spikes %v (wrapped) and %v (plain)", sa.Times, sb.Times)
	}
	for k := range sa.Times {
		if math.Abs(sa.Times[k]-sb.Times[k]) > 1e-9 {
			t.Fatalf("spike %d at %g (wrapped), %g (plain)", k, sa.Times[k], sb.Times[k])
		}
	}
	va, vb := signal(a, 1, "v"), signal(b, 1, "v")
	for k := range va.Data {
		if va.Data[k] != vb.Data[k] {
			t.Fatalf("target membrane sample %d: %g (wrapped), %g (plain)", k, va.Data[k], vb.Data[k])
		}
	}
}
