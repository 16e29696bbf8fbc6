package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// quotaList prints the quotas of a collab's accepted resource requests.
func (a *admin) quotaList(args []string) error {
	fs := a.sub("quota list")
	pos, err := a.parse(fs, args, 1, "usage: quota list COLLAB")
	if err != nil {
		return err
	}
	if _, err := a.st.CollabGet(a.ctx, pos[0]); err != nil {
		return err
	}
	ps, err := a.st.ProjectList(a.ctx, &store.ProjectListParams{Collab: []string{pos[0]}, Status: "accepted"})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "%-6s %-16s %12s %12s %12s  %s\n", "ID", "PLATFORM", "LIMIT", "USED", "HELD", "UNITS")
	for _, p := range ps {
		for _, q := range p.Quotas {
			fmt.Fprintf(a.env.Stdout, "%-6d %-16s %12g %12g %12g  %s\n", q.ID, q.Platform, q.Limit, q.Usage, q.Reserved, q.Units)
		}
	}
	return nil
}

// quotaSet changes a quota's limit. As the API's quota update does, a
// lowered limit is written into the logs of the running jobs it no longer
// covers; their workers stop them at their next lease renewal.
func (a *admin) quotaSet(args []string) error {
	fs := a.sub("quota set")
	pos, err := a.parse(fs, args, 2, "usage: quota set ID LIMIT")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usagef("admin quota set: ID %q is not a quota id (see 'nmp admin quota list COLLAB')", pos[0])
	}
	limit, err := strconv.ParseFloat(pos[1], 64)
	if err != nil || limit < 0 || math.IsInf(limit, 0) || math.IsNaN(limit) {
		return usagef("admin quota set: LIMIT %q must be a number of the quota's units, 0 or more", pos[1])
	}
	before, err := a.st.QuotaGet(a.ctx, id)
	if err != nil {
		return err // names the quota
	}
	pr, err := a.st.ProjectGet(a.ctx, before.ProjectID)
	if err != nil {
		return fmt.Errorf("quota %d: %w", id, err)
	}
	q, err := a.st.QuotaUpdate(a.ctx, &store.QuotaUpdateParams{ID: id, Limit: &limit})
	if err != nil {
		return fmt.Errorf("quota %d: %w", id, err)
	}
	fmt.Fprintf(a.env.Stdout, "quota %d of collab %s on %s: limit %g %s (was %g), used %g\n", q.ID, pr.Collab, q.Platform, q.Limit, q.Units, before.Limit, q.Usage)
	if q.Limit >= before.Limit {
		return nil
	}
	what := fmt.Sprintf("lowered from %g to %g %s by an administrator (nmp admin) at %s", before.Limit, q.Limit, q.Units, a.now.UTC().Format("2006-01-02 15:04:05 UTC"))
	over, err := queue.NoteQuotaChange(a.ctx, a.st, queue.QuotaChange{Collab: pr.Collab, Platform: q.Platform, What: what, MaxLogBytes: 8 << 20})
	for _, o := range over {
		fmt.Fprintf(a.env.Stdout, "job %d no longer fits: its worker stops it at its next lease renewal\n", o.ID)
	}
	return err
}
