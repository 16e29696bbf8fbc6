package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/nmp-platform/nmp/client"
)

const quotasUsage = `usage: nmp quotas [-collab NAME] [-json]

Shows the quotas of a collab's accepted resource requests: per platform,
what was used of the limit, in the platform's units (core-hours, wafer-hours,
chip-hours, hours; storage in GB). A job holds a little quota while it waits
and is charged what it used when it ends.
` + clientHelp

func runQuotas(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "quotas", quotasUsage)
	cf := addClientFlags(fs, env, true)
	collab := fs.String("collab", "", "the collab (default $NMP_COLLAB, else the only one you may submit to)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("quotas: unexpected argument %q", pos[0])
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("quotas: %w", err)
	}
	if *collab == "" {
		if *collab, err = defaultCollab(ctx, c, env); err != nil {
			return err
		}
	}
	projects, err := c.Projects(ctx, *collab, "accepted")
	if err != nil {
		return fmt.Errorf("quotas: %w", err)
	}
	quotas := []client.Quota{}
	for _, p := range projects {
		quotas = append(quotas, p.Quotas...)
	}
	if cf.json() {
		return printJSON(env, quotas)
	}
	if len(quotas) == 0 {
		fmt.Fprintf(env.Stdout, "collab %s has no quotas: ask for access with a resource request (nmp requests shows them)\n", *collab)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "PLATFORM\tUSED\tLIMIT\tUNITS\tLEFT\n")
	for _, q := range quotas {
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%s\t%.0f%%\n", q.Platform, q.Usage, q.Limit, q.Units, 100*(1-q.Usage/max(q.Limit, 1e-300)))
	}
	return tw.Flush()
}
