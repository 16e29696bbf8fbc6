package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nmp-platform/nmp/client"
)

const collabUsage = `usage: nmp collab storage COLLAB [-job ID] [-all] [-json]
       nmp collab storage COLLAB -get JOB/PATH [-dir DIR]
       nmp collab storage COLLAB -delete JOB/PATH

A collab's storage: the output files that copy_data_to_storage (or "Copy to
Collab storage" in the Job Manager) kept past the three-month retention
period, newest jobs first, with their size, SHA-1 and when they were kept;
and how much of the collab's storage quota is used. Anyone who may see the
collab's jobs lists and downloads them; the job's owner and the collab's
editors delete them, which frees storage quota.

	-job ID        only this job's kept files
	-all           every page (default: the first 100 files)
	-get JOB/PATH  download a kept file to DIR/job_JOB/PATH
	-delete JOB/PATH   delete a kept file
` + clientHelp

func runCollab(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, collabUsage+"\n")
		return nil
	}
	if args[0] != "storage" {
		return usagef("collab: unknown subcommand %q (only storage)", args[0])
	}
	fs := newFlagSet(env, "collab storage", collabUsage)
	cf := addClientFlags(fs, env, true)
	job := fs.Int64("job", 0, "only this job's kept files")
	all := fs.Bool("all", false, "every page")
	get := fs.String("get", "", "download the kept file JOB/PATH")
	del := fs.String("delete", "", "delete the kept file JOB/PATH")
	dir := fs.String("dir", ".", "where -get puts job_JOB/PATH")
	asAdmin := fs.Bool("as-admin", false, "act as a platform administrator")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("collab storage: give one collab")
	}
	collab := pos[0]
	if *get != "" && *del != "" {
		return usagef("collab storage: -get and -delete go one at a time")
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("collab storage: %w", err)
	}
	if *del != "" {
		id, path, err := keptRef(*del)
		if err != nil {
			return err
		}
		if err := c.DeleteKept(ctx, collab, id, path); err != nil {
			return fmt.Errorf("collab storage: delete %s of job %d: %w", path, id, err)
		}
		fmt.Fprintf(env.Stdout, "deleted %s of job %d from collab %s's storage\n", path, id, collab)
		return nil
	}
	q := client.StorageQuery{Job: *job, AsAdmin: *asAdmin}
	if *get != "" {
		id, path, err := keptRef(*get)
		if err != nil {
			return err
		}
		// The job's kept files, a page at a time, until the one asked for.
		q.Job = id
		for {
			page, err := c.Storage(ctx, collab, q)
			if err != nil {
				return fmt.Errorf("collab storage: %w", err)
			}
			for _, f := range page.Files {
				if f.Path == path {
					p, err := c.DownloadKept(ctx, f, *dir)
					if err != nil {
						return fmt.Errorf("collab storage: %w", err)
					}
					fmt.Fprintln(env.Stdout, p)
					return nil
				}
			}
			q.FromIndex += len(page.Files)
			if len(page.Files) == 0 || q.FromIndex >= page.Total {
				return fmt.Errorf("collab storage: job %d of collab %s has no kept file %s", id, collab, path)
			}
		}
	}
	page, err := c.Storage(ctx, collab, q)
	if err != nil {
		return fmt.Errorf("collab storage: %w", err)
	}
	files := page.Files
	for *all && len(page.Files) > 0 && q.FromIndex+len(page.Files) < page.Total {
		q.FromIndex += len(page.Files)
		if page, err = c.Storage(ctx, collab, q); err != nil {
			return fmt.Errorf("collab storage: %w", err)
		}
		files = append(files, page.Files...)
	}
	if cf.json() {
		page.Files, page.FromIndex = files, 0
		return printJSON(env, page)
	}
	fmt.Fprintf(env.Stdout, "collab %s stores %s of %s (kept and temporary files); %d kept files\n",
		collab, humanBytes(page.UsedBytes), humanBytes(page.LimitBytes), page.Total)
	if len(files) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "JOB\tPATH\tSIZE\tSHA-1\tKEPT\tEXPIRES\n")
	for _, f := range files {
		size, hash := "?", ""
		if f.Size != nil {
			size = humanBytes(*f.Size)
		}
		if f.Hash != nil {
			hash = *f.Hash
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\tnever\n", f.JobID, f.Path, size, hash, f.Kept.UTC().Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(files) < page.Total {
		fmt.Fprintf(env.Stdout, "(%d of %d; -all lists them all)\n", len(files), page.Total)
	}
	return nil
}

// keptRef reads JOB/PATH.
func keptRef(s string) (int64, string, error) {
	j, path, ok := strings.Cut(s, "/")
	id, err := strconv.ParseInt(j, 10, 64)
	if !ok || err != nil || id <= 0 || path == "" {
		return 0, "", usagef("collab storage: %q is not JOB/PATH (e.g. 42/spikes.npz)", s)
	}
	return id, path, nil
}

// humanBytes writes a size in B, kB, MB or GB (decimal, as storage quotas are in GB).
func humanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
