// calibStore keeps default calibrations of emulated BrainScaleS-2 chips in
// a directory, without a server (nmp calib nightly -store, nmp calib list
// -store): every run calibrates a chip to calix's default targets
// ("spiking" and "spiking2") and stores both as one new version, kept in
// the chip's history; the chip's stable/latest points to the newest
// complete version. A failed run leaves latest where it was and is
// recorded in the chip's failures.jsonl. The platform's nightly
// calibrations are the server's (api, queue, worker); its workers keep
// copies for their jobs in the same layout (worker/calibrations.go), which
// pynn_brainscales' helper.nightly_calib_path() reads.
//
// Layout of a store directory:
//
//	<chip>/history/<version>/{spiking,spiking2}_cocolist.{pbin,json}
//	<chip>/history/<version>/meta.json
//	<chip>/stable/latest -> ../history/<version>
//	<chip>/failures.jsonl
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/system/brainscales2"
	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

// calibStore is a directory of calibrations.
type calibStore struct {
	Dir string
	// Calibrate, when set, replaces the calibration (tests).
	Calibrate func(ctx context.Context, chip, preset string, seed uint64) (*calib.SpikingResult, error)
	// Now, when set, replaces time.Now (tests).
	Now func() time.Time
}

// calibVersion is one stored calibration of a chip.
type calibVersion struct {
	Chip      string                  `json:"chip"`
	Version   string                  `json:"version"`
	Created   string                  `json:"created"`
	Algorithm string                  `json:"algorithm"`
	Presets   map[string]calibSummary `json:"presets"`
	Seconds   float64                 `json:"seconds"`
	// Latest marks the version stable/latest points to (not stored).
	Latest bool   `json:"latest,omitempty"`
	Path   string `json:"path,omitempty"`
}

// calibSummary describes one preset's calibration in a version.
type calibSummary struct {
	Failed  int     `json:"failed_neurons"`
	Seconds float64 `json:"seconds"`
}

// calibFailure is a run that did not produce a version.
type calibFailure struct {
	Chip  string `json:"chip"`
	Time  string `json:"time"`
	Error string `json:"error"`
}

func (s *calibStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *calibStore) calibrate(ctx context.Context, chip, preset string, seed uint64) (*calib.SpikingResult, error) {
	if s.Calibrate != nil {
		return s.Calibrate(ctx, chip, preset, seed)
	}
	t, err := calib.Preset(preset)
	if err != nil {
		return nil, err
	}
	h, err := brainscales2.OpenHardware(ctx, brainscales2.HardwareOptions{Chip: chip, Seed: seed})
	if err != nil {
		return nil, err
	}
	return calib.Calibrate(h, t, calib.SpikingOptions{Seed: seed})
}

// checkChip refuses chip names that are not one path element.
func checkChip(chip string) error {
	if chip == "" || chip == "." || chip == ".." || strings.ContainsAny(chip, `/\`) {
		return fmt.Errorf("chip %q is not a chip name", chip)
	}
	return nil
}

// Run calibrates chip to every preset and stores the results as a new
// version, which becomes the latest. On failure nothing of the run stays,
// latest keeps its version, and the failure is recorded and returned.
func (s *calibStore) Run(ctx context.Context, chip string) (*calibVersion, error) {
	if err := checkChip(chip); err != nil {
		return nil, err
	}
	v, err := s.run(ctx, chip)
	if err != nil {
		s.recordFailure(chip, err)
		return nil, fmt.Errorf("nightly calibration of %s: %w (the previous calibration stays the latest)", chip, err)
	}
	return v, nil
}

func (s *calibStore) run(ctx context.Context, chip string) (*calibVersion, error) {
	t0 := s.now()
	version := t0.UTC().Format("20060102T150405Z")
	base := filepath.Join(s.Dir, chip)
	hist := filepath.Join(base, "history")
	if err := os.MkdirAll(hist, 0o755); err != nil {
		return nil, err
	}
	final := filepath.Join(hist, version)
	if _, err := os.Stat(final); err == nil {
		return nil, fmt.Errorf("version %s exists already", version)
	}
	tmp, err := os.MkdirTemp(hist, ".run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	v := &calibVersion{Chip: chip, Version: version, Created: t0.UTC().Format(time.RFC3339), Presets: map[string]calibSummary{}}
	seed := uint64(t0.Unix())
	for i, preset := range calib.Presets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := s.calibrate(ctx, chip, preset, seed+uint64(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", preset, err)
		}
		if r.Chip != chip {
			return nil, fmt.Errorf("%s: the calibration is of chip %q", preset, r.Chip)
		}
		var js, bin bytes.Buffer
		if err := calib.WriteJSON(&js, r); err != nil {
			return nil, err
		}
		if err := calib.WriteBinary(&bin, r); err != nil {
			return nil, err
		}
		for name, data := range map[string][]byte{preset + "_cocolist.json": js.Bytes(), preset + "_cocolist.pbin": bin.Bytes()} {
			if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		v.Algorithm = r.Algorithm
		v.Presets[preset] = calibSummary{Failed: len(r.Neuron.FailedNeurons()), Seconds: r.Seconds}
	}
	v.Seconds = s.now().Sub(t0).Seconds()
	meta, _ := json.MarshalIndent(v, "", " ")
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), meta, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	// stable/latest moves in one rename of a new link over the old one.
	stable := filepath.Join(base, "stable")
	if err := os.MkdirAll(stable, 0o755); err != nil {
		return nil, err
	}
	link := filepath.Join(stable, ".latest-"+version)
	_ = os.Remove(link)
	if err := os.Symlink(filepath.Join("..", "history", version), link); err != nil {
		return nil, err
	}
	if err := os.Rename(link, filepath.Join(stable, "latest")); err != nil {
		_ = os.Remove(link)
		return nil, err
	}
	v.Latest, v.Path = true, final
	return v, nil
}

func (s *calibStore) recordFailure(chip string, cause error) {
	base := filepath.Join(s.Dir, chip)
	if os.MkdirAll(base, 0o755) != nil {
		return
	}
	b, _ := json.Marshal(calibFailure{Chip: chip, Time: s.now().UTC().Format(time.RFC3339), Error: cause.Error()})
	f, err := os.OpenFile(filepath.Join(base, "failures.jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(b, '\n'))
}

// List returns a chip's versions, newest first, and its failures.
func (s *calibStore) List(chip string) ([]calibVersion, []calibFailure, error) {
	if err := checkChip(chip); err != nil {
		return nil, nil, err
	}
	base := filepath.Join(s.Dir, chip)
	latest, _ := os.Readlink(filepath.Join(base, "stable", "latest"))
	entries, err := os.ReadDir(filepath.Join(base, "history"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	var vs []calibVersion
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(base, "history", e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
		if err != nil {
			continue
		}
		var v calibVersion
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		v.Path = dir
		v.Latest = filepath.Base(latest) == e.Name()
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Version > vs[j].Version })
	var fs []calibFailure
	if b, err := os.ReadFile(filepath.Join(base, "failures.jsonl")); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			var f calibFailure
			if len(line) > 0 && json.Unmarshal(line, &f) == nil {
				fs = append(fs, f)
			}
		}
	}
	return vs, fs, nil
}

// Latest returns the chip's latest version (nil when it has none).
func (s *calibStore) Latest(chip string) (*calibVersion, error) {
	vs, _, err := s.List(chip)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if vs[i].Latest {
			return &vs[i], nil
		}
	}
	return nil, nil
}
