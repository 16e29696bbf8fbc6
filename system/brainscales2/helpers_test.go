package brainscales2

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/system"
)

// session runs a description on the chip through a system.Run, as nmp
// simserver does, with the chip's own plan at hand.
type session struct {
	t    testing.TB
	exp  *system.Run
	d    *network.Description
	sim  *engine.Simulator
	plan *system.Plan
	pl   *plan
}

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
	return buildThreads(t, d, 1)
}

func buildThreads(t testing.TB, d *network.Description, threads int) *session {
	t.Helper()
	var pl *plan
	run, err := system.NewRun(context.Background(), System{onPrepare: func(p *plan) { pl = p }}, d, system.RunOptions{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t, exp: run, d: d, sim: run.Simulator(), plan: run.Plan(), pl: pl}
}

func (s *session) do(a network.Action) error { return s.exp.Apply(context.Background(), &a) }

func (s *session) must(a network.Action) {
	s.t.Helper()
	if err := s.do(a); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) run(ms float64) { s.must(network.Action{Run: &ms}) }

func (s *session) segments() []*engine.Segment {
	s.t.Helper()
	segs, err := s.exp.Data(false)
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
