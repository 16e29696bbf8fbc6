package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Calibration defaults.
const (
	// CalibrationHourDefault is the hour of the day (local time) of the nightly calibrations.
	CalibrationHourDefault = 2
	// CalibrationIntervalDefault is how often the scheduler looks for chips due.
	CalibrationIntervalDefault = time.Minute
	// ChipServedWithin: a chip no worker has asked for calibrations for in
	// this long is not scheduled any more.
	ChipServedWithin = 48 * time.Hour
	// CalibrationLeaseDefault is how long a worker may take for a calibration.
	CalibrationLeaseDefault = 10 * time.Minute
	// CalibrationAttempts is how many times a calibration whose worker
	// stopped is tried before it fails.
	CalibrationAttempts = 3
)

// CalibrationDir is where a calibration's files live below the data directory.
func CalibrationDir(dataDir, chip string, id int64) string {
	return filepath.Join(dataDir, "calibrations", chip, strconv.FormatInt(id, 10))
}

// CheckChipName refuses names that are not a chip's: 1 to 100 letters,
// digits, '.', '_' or '-', not starting with '.' (they become a directory).
func CheckChipName(chip string) error {
	if chip == "" || len(chip) > 100 || chip[0] == '.' {
		return fmt.Errorf("%q is not a chip name (1 to 100 letters, digits, '.', '_' or '-', not starting with '.')", chip)
	}
	for _, r := range chip {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("%q is not a chip name (1 to 100 letters, digits, '.', '_' or '-', not starting with '.')", chip)
		}
	}
	return nil
}

// CalibrateNewChip asks for a calibration of a chip that has none yet (a
// chip a worker serves for the first time), so that jobs need not wait for
// the night. It reports whether it asked.
func CalibrateNewChip(ctx context.Context, st store.Store, chip, platform string, now time.Time) (bool, error) {
	cs, err := st.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{chip}, Limit: 1})
	if err != nil || len(cs) > 0 {
		return false, err
	}
	_, err = st.CalibrationInsert(ctx, &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: chip, Platform: platform,
		Key: "new-chip", Reason: "first calibration of a chip new to the server"}, Now: now})
	if errors.Is(err, store.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

// CalibrationScheduler asks, every night at Hour, for a calibration of each
// chip a worker serves. It is a duty of the server: RunOnce does one round,
// and is safe to run on several replicas at once (a night's request has a
// key unique per chip, so a second replica's insert is refused and skipped).
// A server that was down at the hour asks when it comes back.
type CalibrationScheduler struct {
	Store  store.Store
	Logger *slog.Logger
	// Hour is the hour of the day of the nightly calibrations (0 to 23).
	Hour int
	// Location of Hour (default time.Local).
	Location *time.Location
	Interval time.Duration // default CalibrationIntervalDefault
	Now      func() time.Time
	svc      service
}

// Slot is the most recent time at hour:00 in loc that is not after now.
func Slot(now time.Time, hour int, loc *time.Location) time.Time {
	n := now.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), hour, 0, 0, 0, loc)
	if t.After(n) {
		t = t.AddDate(0, 0, -1)
	}
	return t
}

// RunOnce asks for the calibrations due now and returns them.
func (c *CalibrationScheduler) RunOnce(ctx context.Context) ([]store.Calibration, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	loc := c.Location
	if loc == nil {
		loc = time.Local
	}
	if c.Hour < 0 || c.Hour > 23 {
		return nil, fmt.Errorf("calibration scheduler: hour %d is not 0 to 23", c.Hour)
	}
	slot := Slot(now, c.Hour, loc)
	chips, err := c.Store.CalibrationChipList(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibration scheduler: %w", err)
	}
	var asked []store.Calibration
	for _, ch := range chips {
		if now.Sub(ch.LastSeen) > ChipServedWithin {
			continue
		}
		newest, err := c.Store.CalibrationList(ctx, &store.CalibrationListParams{Chip: []string{ch.Chip}, Limit: 1})
		if err != nil {
			return asked, fmt.Errorf("calibration scheduler: %w", err)
		}
		if len(newest) > 0 && !newest[0].CreatedAt.Before(slot) {
			continue
		}
		day := slot.Format("2006-01-02")
		cal, err := c.Store.CalibrationInsert(ctx, &store.CalibrationInsertParams{Calibration: store.Calibration{Chip: ch.Chip, Platform: ch.Platform,
			Key: "nightly:" + day, Reason: "nightly calibration of " + day}, Now: now})
		if errors.Is(err, store.ErrExists) {
			continue // another replica asked first
		}
		if err != nil {
			return asked, fmt.Errorf("calibration scheduler: %w", err)
		}
		c.logger().InfoContext(ctx, "calibration scheduler: nightly calibration asked for", slog.String("chip", ch.Chip), slog.Int64("calibration", cal.ID))
		asked = append(asked, *cal)
	}
	return asked, nil
}

func (c *CalibrationScheduler) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Start runs the scheduler in the background until Stop or ctx ends.
func (c *CalibrationScheduler) Start(ctx context.Context) error {
	if c.Hour < 0 || c.Hour > 23 {
		return fmt.Errorf("calibration scheduler: hour %d is not 0 to 23", c.Hour)
	}
	c.svc.name, c.svc.logger = "calibration scheduler", c.logger()
	c.svc.interval = c.Interval
	if c.svc.interval <= 0 {
		c.svc.interval = CalibrationIntervalDefault
	}
	c.svc.fn = func(ctx context.Context) error { _, err := c.RunOnce(ctx); return err }
	return c.svc.start(ctx)
}

// Stop stops the scheduler and waits for it.
func (c *CalibrationScheduler) Stop() { c.svc.stop() }
