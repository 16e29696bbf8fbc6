package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/nmp-platform/nmp/client"
)

const requestsUsage = `usage: nmp requests [-collab NAME] [-status STATUS] [-json]

Lists the resource requests of a collab (all you may see without -collab):
their status (in preparation, under review, accepted, rejected), title and
quotas. Requests are made with the Python client or the API (docs/server.md).
` + clientHelp

func runRequests(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "requests", requestsUsage)
	cf := addClientFlags(fs, env, true)
	collab := fs.String("collab", "", "the collab")
	status := fs.String("status", "", "only requests with this status")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("requests: unexpected argument %q", pos[0])
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	projects, err := c.Projects(ctx, *collab, *status)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	if cf.json() {
		if projects == nil {
			projects = []client.Project{}
		}
		return printJSON(env, projects)
	}
	if len(projects) == 0 {
		fmt.Fprintln(env.Stdout, "no resource requests")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tCOLLAB\tSTATUS\tOWNER\tTITLE\tQUOTAS\n")
	for _, p := range projects {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", p.ID, p.Collab, p.Status, p.Owner, p.Title, len(p.Quotas))
	}
	return tw.Flush()
}
