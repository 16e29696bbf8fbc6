package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
	"github.com/nmp-platform/nmp/provider"
)

// Calibrations: the server asks for calibrations of the chips workers serve
// (every night, for a chip new to it, or on an administrator's request); a
// worker with Calibrate set claims those of its chips, runs them, uploads
// the files and finishes them. Every worker with a CalibrationDir keeps a
// copy of its chips' latest calibrations there for its jobs, in the layout
// pynn_brainscales' helper.nightly_calib_path() reads:
//
//	DIR/<chip>/history/<id>/<files>, meta.json
//	DIR/<chip>/stable/latest -> ../history/<id>
//
// and records in each job's provenance which one the job could see.

// CalibrationResult is what a calibration made: its files by name (e.g.
// spiking_cocolist.pbin) and a summary for people (a JSON object).
type CalibrationResult struct {
	Files   map[string][]byte
	Summary json.RawMessage
}

// calibrationMeta is what the worker keeps of a calibration next to its files.
type calibrationMeta struct {
	ID        int64           `json:"id"`
	Chip      string          `json:"chip"`
	Reason    string          `json:"reason,omitempty"`
	Created   nmpi.Time       `json:"created"`
	Completed *nmpi.Time      `json:"completed,omitempty"`
	Worker    string          `json:"worker,omitempty"`
	Files     []string        `json:"files"`
	Summary   json.RawMessage `json:"summary,omitempty"`
}

// calibrationChips lists, per platform of this worker whose system takes
// calibrations, the chips the worker serves.
func (w *Worker) calibrationChips() map[string][]string {
	out := map[string][]string{}
	for _, name := range w.cfg.Platforms {
		p, ok := w.cfg.PlatformTable.Lookup(name)
		if !ok || p.ChipEnv == "" || p.System != w.cfg.CalibrationSystem {
			continue
		}
		chip := w.cfg.Chip
		if chip == "" {
			chip = p.DefaultChip
		}
		if chip != "" {
			out[name] = append(out[name], chip)
		}
	}
	return out
}

// calibrations is the worker's calibration duty: poll, run, keep copies.
func (w *Worker) calibrations(ctx context.Context) {
	chips := w.calibrationChips()
	platforms := make([]string, 0, len(chips))
	for p := range chips {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	for {
		ran := false
		if w.cfg.Calibrate != nil {
			for _, p := range platforms {
				cal, err := w.client.CalibrationNext(ctx, p, chips[p])
				switch {
				case errors.Is(err, provider.ErrNoCalibration):
				case err != nil:
					if ctx.Err() == nil {
						w.log.Warn("worker: cannot ask the server for calibrations", "platform", p, "error", err)
					}
				default:
					w.runCalibration(ctx, cal)
					ran = true
				}
			}
		}
		if w.cfg.CalibrationDir != "" {
			for _, p := range platforms {
				for _, c := range chips[p] {
					if err := w.syncCalibration(ctx, c); err != nil && ctx.Err() == nil {
						w.log.Warn("worker: cannot fetch the chip's latest calibration", "chip", c, "error", err)
					}
				}
			}
		}
		if ran {
			continue // more may be queued
		}
		t := time.NewTimer(w.cfg.CalibrationPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runCalibration runs one claimed calibration and reports how it ended.
func (w *Worker) runCalibration(ctx context.Context, cal *provider.Calibration) {
	log := w.log.With("calibration", cal.ID, "chip", cal.Chip)
	log.Info("worker: calibration claimed", "reason", cal.Reason, "attempt", cal.Attempts)
	t0 := time.Now()
	res, err := w.calibrate(ctx, cal.Chip)
	var names []string
	if err == nil {
		for name := range res.Files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err = w.client.CalibrationUpload(ctx, cal, name, res.Files[name]); err != nil {
				err = fmt.Errorf("upload %s: %w", name, err)
				break
			}
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err != nil {
		if ctx.Err() != nil {
			// The worker is stopping: the lease runs out and another worker takes it.
			log.Warn("worker: stopped during a calibration; it goes to another worker when its lease ends")
			return
		}
		log.Error("worker: calibration failed; the chip keeps its previous calibration", "error", err)
		if _, ferr := w.client.CalibrationFinish(fctx, cal, nmpi.CalibrationFailed, err.Error(), nil, nil); ferr != nil {
			log.Error("worker: cannot report the failed calibration", "error", ferr)
		}
		return
	}
	if _, err := w.client.CalibrationFinish(fctx, cal, nmpi.CalibrationFinished, "", res.Summary, names); err != nil {
		log.Error("worker: cannot finish the calibration", "error", err)
		return
	}
	log.Info("worker: calibration finished", "seconds", time.Since(t0).Seconds(), "files", len(names))
}

// calibrate runs Calibrate, turning a panic into an error so that a broken
// calibration fails alone.
func (w *Worker) calibrate(ctx context.Context, chip string) (res *CalibrationResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("the calibration crashed: %v", v)
		}
	}()
	res, err = w.cfg.Calibrate(ctx, chip)
	if err == nil && (res == nil || len(res.Files) == 0) {
		err = errors.New("the calibration made no files")
	}
	return res, err
}

// syncCalibration makes the chip's latest calibration on the server the
// latest in CalibrationDir: its files go to history/<id>, then
// stable/latest moves to it in one rename.
func (w *Worker) syncCalibration(ctx context.Context, chip string) error {
	cal, err := w.client.LatestCalibration(ctx, chip)
	if errors.Is(err, provider.ErrNoCalibration) {
		return nil
	}
	if err != nil {
		return err
	}
	base := filepath.Join(w.cfg.CalibrationDir, chip)
	id := strconv.FormatInt(cal.ID, 10)
	if cur, err := os.Readlink(filepath.Join(base, "stable", "latest")); err == nil && filepath.Base(cur) == id {
		return nil
	}
	hist := filepath.Join(base, "history")
	final := filepath.Join(hist, id)
	if _, err := os.Stat(filepath.Join(final, "meta.json")); err != nil {
		if err := os.MkdirAll(hist, 0o755); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(hist, ".fetch-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := os.Chmod(tmp, 0o755); err != nil {
			return err
		}
		meta := calibrationMeta{ID: cal.ID, Chip: cal.Chip, Reason: cal.Reason, Created: cal.Created, Completed: cal.Completed, Worker: cal.Worker, Summary: cal.Summary}
		for _, f := range cal.Files {
			if strings.ContainsAny(f.Name, `/\`) || strings.HasPrefix(f.Name, ".") {
				return fmt.Errorf("calibration %d: file name %q", cal.ID, f.Name)
			}
			data, err := w.client.CalibrationFile(ctx, cal.ID, f.Name)
			if err != nil {
				return fmt.Errorf("calibration %d: %s: %w", cal.ID, f.Name, err)
			}
			if int64(len(data)) != f.Size {
				return fmt.Errorf("calibration %d: %s: %d bytes, the server said %d", cal.ID, f.Name, len(data), f.Size)
			}
			if err := os.WriteFile(filepath.Join(tmp, f.Name), data, 0o644); err != nil {
				return err
			}
			meta.Files = append(meta.Files, f.Name)
		}
		b, _ := json.MarshalIndent(meta, "", " ")
		if err := os.WriteFile(filepath.Join(tmp, "meta.json"), b, 0o644); err != nil {
			return err
		}
		_ = os.RemoveAll(final) // an incomplete earlier copy
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
	}
	stable := filepath.Join(base, "stable")
	if err := os.MkdirAll(stable, 0o755); err != nil {
		return err
	}
	link := filepath.Join(stable, ".latest-"+id)
	_ = os.Remove(link)
	if err := os.Symlink(filepath.Join("..", "history", id), link); err != nil {
		return err
	}
	if err := os.Rename(link, filepath.Join(stable, "latest")); err != nil {
		_ = os.Remove(link)
		return err
	}
	w.log.Info("worker: the chip's latest calibration is here for jobs", "chip", chip, "calibration", cal.ID, "dir", final)
	return nil
}

// calibrationSeen is what a job's provenance records of the calibration
// its chip had when the job started: the chip's latest in CalibrationDir.
func (w *Worker) calibrationSeen(chip string) map[string]any {
	if w.cfg.CalibrationDir == "" || chip == "" {
		return nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(w.cfg.CalibrationDir, chip, "stable", "latest"))
	if err != nil {
		return map[string]any{"chip": chip, "latest": nil, "note": "no calibration of the chip had been made yet"}
	}
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	var m calibrationMeta
	if err != nil || json.Unmarshal(b, &m) != nil {
		return map[string]any{"chip": chip, "path": dir}
	}
	out := map[string]any{"chip": chip, "id": m.ID, "created": m.Created, "path": dir, "reason": m.Reason}
	if m.Completed != nil {
		out["completed"] = *m.Completed
	}
	return out
}
