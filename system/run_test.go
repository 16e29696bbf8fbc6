package system_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/results"
	"github.com/nmp-platform/nmp/system"
	_ "github.com/nmp-platform/nmp/system/brainscales2"
	_ "github.com/nmp-platform/nmp/system/reference"
)

func decode(t *testing.T, js string) *network.Description {
	t.Helper()
	d, err := network.DecodeJSON([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func action(t *testing.T, js string) *network.Action {
	t.Helper()
	a, err := network.DecodeAction([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newRun(t *testing.T, d *network.Description) *system.Run {
	t.Helper()
	sys, err := system.For(d, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := system.NewRun(context.Background(), sys, d, system.RunOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reference is a network for the reference system: two array sources
// driving three cells, with a schedule of two runs and a change between.
const reference = `{"format":"nmp-network","version":1,"simulation":{"timestep":0.1,"seed":5},
 "populations":[{"label":"src","size":2,"cell_type":"SpikeSourceArray","parameters":{"spike_times":[[1,2,30],[3,40]]}},
                {"label":"cells","size":3,"cell_type":"IF_curr_exp","parameters":{"i_offset":[0,0.5,1]}}],
 "projections":[{"pre":[{"population":0}],"post":[{"population":1}],"synapse":{"type":"StaticSynapse","parameters":{"weight":2,"delay":1}},
                 "connector":{"type":"AllToAllConnector"}}],
 "recordings":[{"selection":[{"population":1}],"variables":["spikes","v"]}],
 "schedule":[{"run":25},{"set":{"selection":[{"population":1}],"parameters":{"i_offset":1.5}}},{"run":25}]}`

// On the reference system a Run is the engine running the description as
// it is: the same spikes and traces, and provenance that says so.
func TestRunReference(t *testing.T) {
	t.Parallel()
	r := newRun(t, decode(t, reference))
	if err := r.RunSchedule(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, err := r.Data(false)
	if err != nil {
		t.Fatal(err)
	}

	d := decode(t, reference)
	sim, err := engine.New(d, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Schedule {
		if err := sim.Apply(context.Background(), &d.Schedule[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	want := sim.Segments()
	if len(segs) != 1 || len(segs[0].Spikes[1].IDs) == 0 {
		t.Fatalf("no spikes recorded: %d segments", len(segs))
	}
	if !reflect.DeepEqual(segs[0].Spikes, want[0].Spikes) || !reflect.DeepEqual(segs[0].Signals[0].Data, want[0].Signals[0].Data) {
		t.Error("the Run's data differ from the engine's")
	}

	p := r.Provenance()
	if p.System != "reference" || p.Engine != results.EngineName || p.Seed != 5 || p.Timestep != 0.1 || p.Simulated != 50 ||
		p.Neurons != 5 || p.Synapses != 6 || p.Threads != 1 || p.Started == "" {
		t.Errorf("provenance: %+v", p)
	}
	if _, ok := p.Timings["build"]; !ok {
		t.Errorf("provenance lacks the build time: %v", p.Timings)
	}
}

// Actions from outside the description are checked against it; the
// schedule's own actions were checked with it. Errors name the action.
func TestRunActions(t *testing.T) {
	t.Parallel()
	r := newRun(t, decode(t, reference))
	ctx := context.Background()
	err := r.Apply(ctx, action(t, `{"set":{"selection":[{"population":1}],"parameters":{"tau_q":1}}}`))
	if err == nil || !strings.Contains(err.Error(), "tau_q") {
		t.Errorf("an unknown parameter: %v", err)
	}
	if err := r.Apply(ctx, action(t, `{"run":10}`)); err != nil {
		t.Fatal(err)
	}
	if now := r.Simulator().Now(); now != 10 {
		t.Errorf("after a run of 10 ms the time is %g", now)
	}
	if err := r.Do(ctx, 3); err == nil || !strings.Contains(err.Error(), "schedule[3]") {
		t.Errorf("a schedule action that does not exist: %v", err)
	}
	if err := r.Do(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := r.Provenance().Simulated; got != 35 {
		t.Errorf("simulated %g ms, want 35", got)
	}
}

// A Run is reused for repeated measurements: reset, run, take the data.
// Each measurement is the same as the first, and nothing accumulates.
func TestRunReuse(t *testing.T) {
	t.Parallel()
	r := newRun(t, decode(t, reference))
	ctx := context.Background()
	var first []*engine.Segment
	for i := range 3 {
		if err := r.Apply(ctx, action(t, `{"reset":true}`)); err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(ctx, action(t, `{"run":20}`)); err != nil {
			t.Fatal(err)
		}
		segs, err := r.Data(true)
		if err != nil {
			t.Fatal(err)
		}
		last := segs[len(segs)-1]
		if len(last.Spikes[1].IDs) == 0 {
			t.Fatal("no spikes")
		}
		if i == 0 {
			first = segs
			continue
		}
		if !reflect.DeepEqual(last.Spikes, first[len(first)-1].Spikes) {
			t.Errorf("measurement %d: spikes %v, want %v", i, last.Spikes[1].Times, first[len(first)-1].Spikes[1].Times)
		}
		// The reset closed the segment that the last take left open, empty.
		for _, seg := range segs[:len(segs)-1] {
			if n := len(seg.Spikes[1].IDs); n != 0 {
				t.Errorf("measurement %d: segment %d holds %d spikes of an earlier measurement", i, seg.Index, n)
			}
		}
	}
}

// A cancelled context stops the schedule; what was recorded stays readable.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	r := newRun(t, decode(t, reference))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.RunSchedule(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "schedule[0]") {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := r.Data(false); err != nil {
		t.Error(err)
	}
	if _, err := system.NewRun(ctx, r.System(), decode(t, reference), system.RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("building with a cancelled context: %v", err)
	}
}

// An invalid description is refused by the system's Prepare, with the
// validator's error.
func TestRunInvalid(t *testing.T) {
	t.Parallel()
	d := decode(t, strings.Replace(reference, `"i_offset":[0,0.5,1]`, `"tau_m":-1`, 1))
	sys, _ := system.Lookup("reference")
	_, err := system.NewRun(context.Background(), sys, d, system.RunOptions{})
	if !errors.Is(err, network.ErrInvalid) || !strings.Contains(err.Error(), "tau_m") {
		t.Errorf("invalid description: %v", err)
	}
}

// chip is a network for the emulated BrainScaleS-2 chip: the tutorial's
// leak-over-threshold neurons, their membrane on the MADC.
const chip = `{"format":"nmp-network","version":1,"simulation":{"timestep":3.4e-5,"seed":7},
 "system":{"name":"brainscales2","options":{}},
 "populations":[{"label":"n","size":4,"cell_type":"HXNeuron","parameters":{"leak_v_leak":1000,"leak_i_bias":200,
   "threshold_v_threshold":300,"reset_v_reset":400,"membrane_capacitance_capacitance":63,"refractory_period_refractory_time":120,
   "threshold_enable":true,"reset_i_bias":1022,"reset_enable_multiplication":true}}],
 "recordings":[{"selection":[{"population":0,"indices":[0]}],"variables":["spikes","v"]}],
 "schedule":[{"run":0.02}]}`

// On the chip the Run goes through the system's plan: the readout gives
// the ADC's samples, actions the chip cannot do are refused, and the
// provenance carries the mapping.
func TestRunBrainScaleS2(t *testing.T) {
	t.Parallel()
	r := newRun(t, decode(t, chip))
	ctx := context.Background()
	if err := r.RunSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	// The membrane ADC has one channel for even circuits: a second even
	// neuron is refused by the plan, an odd one is not.
	err := r.Apply(ctx, action(t, `{"record":{"selection":[{"population":0,"indices":[2]}],"variables":["v"]}}`))
	if err == nil || !strings.Contains(err.Error(), "ADC") {
		t.Errorf("a second even circuit on the MADC: %v", err)
	}
	if err := r.Apply(ctx, action(t, `{"record":{"selection":[{"population":0,"indices":[1]}],"variables":["v"]}}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(ctx, action(t, `{"run":0.02}`)); err != nil {
		t.Fatal(err)
	}
	segs, err := r.Data(false)
	if err != nil {
		t.Fatal(err)
	}
	seg := segs[len(segs)-1]
	if len(seg.Spikes[0].IDs) == 0 {
		t.Error("no spikes from neurons whose leak is over the threshold")
	}
	if len(seg.Signals) == 0 || seg.Signals[0].Times == nil {
		t.Errorf("the membrane is not read out as ADC samples: %+v", seg.Signals)
	}
	p := r.Provenance()
	if p.System != "brainscales2" || p.Extra == nil || p.Extra["neurons"] == nil {
		t.Errorf("provenance: system %q, mapping %v", p.System, p.Extra)
	}
	if p.Simulated < 0.0399 || p.Simulated > 0.0401 {
		t.Errorf("simulated %g ms, want 0.04", p.Simulated)
	}
}
