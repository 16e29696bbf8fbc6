package queue

import (
	"context"
	"fmt"

	"github.com/nmp-platform/nmp/store"
)

// Running jobs hold the quota they may use (claimed with a hold, see
// store.JobClaimParams). When an administrator lowers or removes a quota, or
// other jobs use it up, the holds of some running jobs no longer fit what
// their collab has left: those jobs are stopped, the newest claims first, and
// charged what they used up to the stop (zero overspend). The server tells
// their runners so in the answer to the next lease renewal (StopReason); the
// change that caused it is written into the jobs' logs (NoteQuotaChange).

// StopReason says why a runner must stop a job that is over its quota.
func StopReason(o store.JobOverQuota, units string) string {
	if units != "" {
		units = " " + units
	}
	if o.Left <= 0 {
		return fmt.Sprintf("the collab %s has no quota left on %s for this job's hold of %.4g%s", o.Collab, o.Platform, o.Hold, units)
	}
	return fmt.Sprintf("the collab %s has %.4g%s left on %s, less than this job's hold of %.4g%s with the %.4g%s held by jobs claimed before it",
		o.Collab, o.Left, units, o.Platform, o.Hold, units, o.Before, units)
}

// QuotaChange is a change of a quota, as NoteQuotaChange writes it into logs.
type QuotaChange struct {
	Collab, Platform string
	// What happened, by whom and when: "lowered to 0.01 hours by admin at 2026-...".
	What string
	// MaxLogBytes is the server's bound on a job's log (0: none).
	MaxLogBytes int
}

// NoteQuotaChange finds the running jobs of the collab on the platform whose
// holds no longer fit after the change, and writes into each job's log what
// changed and that its runner stops it. It returns those jobs.
func NoteQuotaChange(ctx context.Context, st store.Store, c QuotaChange) ([]store.JobOverQuota, error) {
	over, err := st.JobsOverQuota(ctx, &store.JobsOverQuotaParams{Collab: c.Collab, Platform: c.Platform})
	if err != nil {
		return nil, err
	}
	for _, o := range over {
		line := fmt.Sprintf("nmp: the quota of collab %s on %s was %s: %s; its runner stops the job, which is charged what it used\n",
			c.Collab, c.Platform, c.What, StopReason(o, ""))
		if err := st.JobLogSet(ctx, &store.JobLogSetParams{ID: o.ID, Content: line, Append: true, MaxBytes: c.MaxLogBytes}); err != nil {
			return over, fmt.Errorf("job %d: %w", o.ID, err)
		}
	}
	return over, nil
}
