package main

import (
	"context"
	"fmt"
	"path/filepath"
)

const downloadUsage = `usage: nmp download ID [-dir DIR]

Saves a job's output files in DIR/job_ID (DIR defaults to the current
directory), at the paths the job wrote them, and lists them.
` + clientHelp

func runDownload(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "download", downloadUsage)
	cf := addClientFlags(fs, env, true)
	dir := fs.String("dir", ".", "where to put the job_ID directory")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("download: give one job id")
	}
	id, err := parseJobID(pos[0])
	if err != nil {
		return err
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	j, err := c.Job(ctx, id, false)
	if err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	paths, err := c.Download(ctx, j, filepath.Join(*dir, fmt.Sprintf("job_%d", id)))
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if cf.json() {
		if paths == nil {
			paths = []string{}
		}
		return printJSON(env, paths)
	}
	if len(paths) == 0 {
		fmt.Fprintf(env.Stdout, "job %d (%s) has no output files\n", id, j.Status)
		return nil
	}
	for _, p := range paths {
		fmt.Fprintln(env.Stdout, p)
	}
	return nil
}
