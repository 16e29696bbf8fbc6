package system

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/buildinfo"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/results"
)

// Run is one experiment on a system: a description prepared for the
// system, the engine built for it, the actions performed on it and the data
// read out of it, as the system reports them. It is what every caller that
// runs a description uses (nmp simulate, the simulation server, calibration
// and benchmarks), so that there is one place where a system's plan is
// applied.
//
// A Run is reused rather than rebuilt for repeated measurements on one
// network: reset, change parameters, run, and take the data with
// Data(true), which leaves nothing behind to grow. A Run is not safe for
// concurrent use.
type Run struct {
	sys  System
	desc *network.Description
	plan *Plan
	sim  *engine.Simulator
	opts RunOptions

	started time.Time
	build   time.Duration
	wall    time.Duration // spent performing actions
	// simulated is the biological time run, in ms, over all runs.
	simulated float64
}

// RunOptions configure a Run.
type RunOptions struct {
	// Threads is the number of engine threads; 0 means the description's
	// hint, or all cores.
	Threads int
	// Progress, when set, is told how far each run has come.
	Progress engine.Progress
	// Logger receives the engine's log (nil: discarded).
	Logger *slog.Logger
}

// NewRun prepares d on sys and builds the engine for it. The system's
// Prepare validates d; nothing else checks it again. d must not change
// while the Run is in use.
func NewRun(ctx context.Context, sys System, d *network.Description, opts RunOptions) (*Run, error) {
	started := time.Now()
	plan, err := sys.Prepare(d)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sim, err := engine.New(plan.Description, engine.Options{Threads: opts.Threads, Catalog: plan.Catalog,
		Models: plan.Models, Logger: opts.Logger, Validated: plan.Validated})
	if err != nil {
		return nil, err
	}
	return &Run{sys: sys, desc: d, plan: plan, sim: sim, opts: opts, started: started, build: time.Since(started)}, nil
}

// System is the system the run is on.
func (r *Run) System() System { return r.sys }

// Description is the description as the user wrote it.
func (r *Run) Description() *network.Description { return r.desc }

// Plan is the description mapped onto the system.
func (r *Run) Plan() *Plan { return r.plan }

// Simulator is the engine the run drives, for reading the network's state
// (connections, synaptic values, state variables, the time). Actions go
// through the Run, not through it, so that the system translates them.
func (r *Run) Simulator() *engine.Simulator { return r.sim }

// Apply checks an action that comes from outside the description (a live
// session's) against it and performs it.
func (r *Run) Apply(ctx context.Context, a *network.Action) error {
	if err := network.ValidateAction(r.desc, a, r.sys.Catalog()); err != nil {
		return err
	}
	return r.perform(ctx, a)
}

// Do performs action i of the description's own schedule, which was
// validated with the description. Errors name the action.
func (r *Run) Do(ctx context.Context, i int) error {
	if i < 0 || i >= len(r.desc.Schedule) {
		return fmt.Errorf("schedule[%d]: the schedule has %d actions", i, len(r.desc.Schedule))
	}
	if err := r.perform(ctx, &r.desc.Schedule[i]); err != nil {
		return fmt.Errorf("schedule[%d]: %w", i, err)
	}
	return nil
}

// RunSchedule performs the description's schedule from its first action
// to its last, stopping at the first error (a cancelled ctx among them);
// what was recorded until then stays readable.
func (r *Run) RunSchedule(ctx context.Context) error {
	for i := range r.desc.Schedule {
		if err := r.Do(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// perform translates a through the plan and applies the result.
func (r *Run) perform(ctx context.Context, a *network.Action) error {
	t0, now := time.Now(), r.sim.Now()
	defer func() {
		r.wall += time.Since(t0)
		if a.Run != nil {
			r.simulated += r.sim.Now() - now
		}
	}()
	if r.plan.Action == nil {
		return r.sim.Apply(ctx, a, r.opts.Progress)
	}
	as, err := r.plan.Action(a)
	if err != nil {
		return err
	}
	for i := range as {
		if err := r.sim.Apply(ctx, &as[i], r.opts.Progress); err != nil {
			return err
		}
	}
	return nil
}

// Data returns what was recorded, segment by segment, as the system reports
// it. clear hands the segments over and starts afresh with the current
// segment, so that repeated measurements do not accumulate.
func (r *Run) Data(clear bool) ([]*engine.Segment, error) {
	var segs []*engine.Segment
	if clear {
		segs = r.sim.TakeSegments()
	} else {
		segs = r.sim.Segments()
	}
	if r.plan.Readout == nil {
		return segs, nil
	}
	return r.plan.Readout(segs)
}

// Provenance says how the run's data were obtained. The caller adds what
// only it knows (the source file, the time it took to load it).
func (r *Run) Provenance() results.Provenance {
	p := results.Provenance{Engine: results.EngineName, Version: buildinfo.Version(), System: r.sys.Name(),
		Seed: r.desc.Simulation.Seed, Timestep: r.desc.Simulation.Timestep, Threads: r.sim.Threads(),
		Started: r.started.UTC().Format(time.RFC3339), Extra: r.plan.Info, Simulated: r.simulated,
		Synapses: r.sim.Synapses(), Neurons: r.sim.Neurons(),
		Timings: map[string]float64{"build": r.build.Seconds(), "run": r.wall.Seconds()}}
	if host, err := os.Hostname(); err == nil {
		p.Host = host
	}
	return p
}
