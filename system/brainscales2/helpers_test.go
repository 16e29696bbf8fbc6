package brainscales2

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// session runs a description on the chip the way nmp simserver does: build,
// then actions through the plan, then the readout.
type session struct {
	t    testing.TB
	d    *network.Description
	sim  *engine.Simulator
	plan *system.Plan
	pl   *plan
}

// lastPlan is the plan the last Prepare in this package made (tests only).
var lastPlan *plan

func decode(t testing.TB, js string) *network.Description {
	t.Helper()
	d, err := network.DecodeJSON([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func build(t testing.TB, d *network.Description) *session {
	t.Helper()
	sim, plan, err := system.Build(System{}, d, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t, d: d, sim: sim, plan: plan, pl: lastPlan}
}

func init() { onPrepare = func(p *plan) { lastPlan = p } }

func (s *session) do(a network.Action) error {
	if err := network.ValidateAction(s.d, &a, userCatalog); err != nil {
		return err
	}
	acts, err := s.plan.Action(&a)
	if err != nil {
		return err
	}
	for i := range acts {
		if err := s.sim.Apply(context.Background(), &acts[i], nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) must(a network.Action) {
	s.t.Helper()
	if err := s.do(a); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) run(ms float64) { s.must(network.Action{Run: &ms}) }

func (s *session) segments() []*engine.Segment {
	s.t.Helper()
	segs, err := s.plan.Readout(s.sim.Segments())
	if err != nil {
		s.t.Fatal(err)
	}
	return segs
}

func actionJSON(t testing.TB, js string) network.Action {
	t.Helper()
	a, err := network.DecodeAction(json.RawMessage(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}
