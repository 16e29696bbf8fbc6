package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/nmpi"
)

const jobsUsage = `usage: nmp jobs [flags]

Lists jobs, newest first: yours, or a collab's with -collab.

Examples:

	nmp jobs                              # your jobs
	nmp jobs -status running -status submitted
	nmp jobs -collab demo -platform Demo -limit 100 -json
` + clientHelp

func runJobs(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "jobs", jobsUsage)
	cf := addClientFlags(fs, env, true)
	var status, collab, platform listFlag
	fs.Var(&status, "status", "only jobs with this status: submitted, running, finished, error (repeatable)")
	fs.Var(&collab, "collab", "the jobs of this collab (repeatable)")
	fs.Var(&platform, "platform", "only jobs on this platform (repeatable)")
	limit := fs.Int("limit", 20, "at most this many jobs")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("jobs: unexpected argument %q", pos[0])
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	jobs, err := c.Jobs(ctx, client.JobQuery{Status: status, Collab: collab, Platform: platform, Size: *limit})
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if cf.json() {
		if jobs == nil {
			jobs = []client.Job{}
		}
		return printJSON(env, jobs)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(env.Stdout, "no jobs")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tPLATFORM\tCOLLAB\tUSER\tSUBMITTED\tCODE")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, j.HardwarePlatform, j.Collab, j.UserID, shortTime(j.Submitted), codeSummary(j.Code))
	}
	return tw.Flush()
}

// shortTime shows an API timestamp to the second.
func shortTime(t nmpi.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// codeSummary shows a job's code in one short line: its URL, or the first
// line of its script.
func codeSummary(code string) string {
	c := strings.TrimSpace(code)
	if i := strings.IndexByte(c, '\n'); i >= 0 {
		c = c[:i] + " ..."
	}
	if len(c) > 60 {
		c = c[:57] + "..."
	}
	return c
}
