package worker

import (
	"context"
	"time"
)

// Nightly is a task a worker runs for each chip it stands for, every day
// at Hour (local time), and at start when Due says the chip needs it: the
// platform's nightly calibration. A failed run is logged; the task keeps
// what it had (the calibration store keeps the previous calibration).
type Nightly struct {
	// System selects the platforms whose chips the task is for (their
	// emulated system's name, e.g. "brainscales2").
	System string
	Hour   int
	// Due reports whether chip needs a run now (e.g. it has no calibration yet).
	Due func(chip string) bool
	Run func(ctx context.Context, chip string) error
}

// chips lists the chips of the worker's platforms.
func (w *Worker) chips() []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range w.cfg.Platforms {
		p, ok := w.cfg.PlatformTable.Lookup(name)
		if !ok || p.ChipEnv == "" || p.System != w.cfg.Nightly.System {
			continue
		}
		chip := w.cfg.Chip
		if chip == "" {
			chip = p.DefaultChip
		}
		if chip != "" && !seen[chip] {
			seen[chip] = true
			out = append(out, chip)
		}
	}
	return out
}

func (w *Worker) nightly(ctx context.Context) {
	n := w.cfg.Nightly
	run := func(chip string) {
		t0 := time.Now()
		w.log.Info("nightly task started", "chip", chip)
		if err := n.Run(ctx, chip); err != nil {
			w.log.Error("nightly task failed", "chip", chip, "err", err)
			return
		}
		w.log.Info("nightly task done", "chip", chip, "seconds", time.Since(t0).Seconds())
	}
	chips := w.chips()
	for _, c := range chips {
		if n.Due != nil && n.Due(c) {
			run(c)
		}
	}
	for {
		now := time.Now()
		next := time.Date(now.Year(), now.Month(), now.Day(), n.Hour, 0, 0, 0, now.Location())
		if !next.After(now) {
			next = next.AddDate(0, 0, 1)
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for _, c := range chips {
			run(c)
		}
	}
}
