package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
)

const benchUsage = `usage: nmp bench COMMAND [flags] [args]

The benchmark service of a job queue server (docs/benchmarks.md): repositories
with a top-level benchmarks.json (the platform guidebook's chapter 7) whose
tasks run as jobs on every platform that can run them, when a new commit
arrives (unless its message says [skip ci] or [ci skip]), when nmp or a
system's configuration changes, on a schedule, or by hand; the results files
the tasks write become measurements.

Commands:

  add NAME URL|DIR [-branch B] [-every 24h]   register a git repository, or upload a directory
  list                                        the registered sources, their last commit and problems
  run NAME [-model M] [-task T] [-platform P] run a source's benchmarks now
  poll NAME                                   fetch a git source now (new commits run)
  runs [-source NAME] [-status S] [-limit N]  the runs, newest first, with their jobs
  results [-model M] [-task T] [-name N] [-platform P] [-source NAME]
                                              the latest value of every measure on every platform,
                                              its range, its recent band, and regressions
  measurements [same filters] [-from T] [-to T]
                                              every measurement, oldest first
  changed PLATFORM [-reason TEXT]             a platform's configuration changed: run everything on it
  remove NAME                                 forget a source, its runs and its measurements

Registering, running and reporting changes need a platform administrator's
token. The web page is SERVER/benchmarks.

Examples:

  nmp bench add hw https://github.com/CNRS-UNIC/hardware-benchmarks.git
  nmp bench add mine ./my-benchmarks -every 24h
  nmp bench results -platform BrainScaleS-2
` + clientHelp

func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, benchUsage)
		return nil
	}
	verb, rest := args[0], args[1:]
	fs := newFlagSet(env, "bench "+verb, benchUsage)
	cf := addClientFlags(fs, env, true)
	var (
		branch   = new(string)
		every    = new(time.Duration)
		collab   = new(string)
		model    = new(string)
		task     = new(string)
		platform = new(string)
		name     = new(string)
		measure  = new(string)
		source   = new(string)
		status   = new(string)
		from     = new(string)
		to       = new(string)
		reason   = new(string)
		limit    = new(int)
	)
	switch verb {
	case "add":
		fs.StringVar(branch, "branch", "", "the branch to follow (default: the repository's default branch)")
		fs.DurationVar(every, "every", 0, "also run all benchmarks at this interval (e.g. 24h)")
		fs.StringVar(collab, "collab", "", "for a directory: the collab to upload it to (default: as nmp submit)")
	case "run":
		addFilter(fs, model, task, platform)
	case "runs":
		fs.StringVar(source, "source", "", "only this source's runs")
		fs.StringVar(status, "status", "", "only runs in this status (queued, submitted, finished, error)")
		fs.StringVar(platform, "platform", "", "only runs on this platform")
		fs.IntVar(limit, "limit", 50, "at most this many")
	case "results", "measurements":
		addFilter(fs, model, task, platform)
		fs.StringVar(name, "name", "", "only this measurement name")
		fs.StringVar(measure, "measure", "", "only this measure (norm, time, p-value, ...)")
		fs.StringVar(source, "source", "", "only this source")
		fs.StringVar(from, "from", "", "only measurements at or after this time (ISO 8601)")
		fs.StringVar(to, "to", "", "only measurements before this time")
	case "changed":
		fs.StringVar(reason, "reason", "", "what changed (shown as the runs' trigger)")
	case "list", "poll", "remove":
	default:
		return usagef("bench: unknown command %q (nmp bench -h lists them)", verb)
	}
	pos, err := parseArgs(fs, rest)
	if err != nil {
		return err
	}
	c, err := cf.client(env)
	if err != nil && verb != "list" && verb != "runs" && verb != "results" && verb != "measurements" {
		return fmt.Errorf("bench: %w", err)
	}
	bc := &benchmark.Client{Server: strings.TrimRight(*cf.server, "/")}
	if c != nil {
		bc.Token = c.Token
	}
	want := func(n int, what string) error {
		if len(pos) != n {
			return usagef("bench %s: needs %s", verb, what)
		}
		return nil
	}
	switch verb {
	case "add":
		if err := want(2, "NAME and a git URL or a directory"); err != nil {
			return err
		}
		req := &benchmark.AddRequest{Name: pos[0], URL: pos[1], Branch: *branch}
		if *every > 0 {
			req.Every = every.String()
		}
		if fi, err := os.Stat(pos[1]); err == nil && fi.IsDir() && !isGitURL(pos[1]) {
			if *collab == "" {
				if *collab, err = defaultCollab(ctx, c, env); err != nil {
					return err
				}
			}
			u, n, err := uploadDir(ctx, c, *collab, pos[1])
			if err != nil {
				return fmt.Errorf("bench add: uploading %s: %w", pos[1], err)
			}
			fmt.Fprintf(env.Stderr, "uploaded %s (%d files)\n", pos[1], n)
			req.URL, req.Kind = u, benchmark.KindArchive
		}
		out, err := bc.Add(ctx, req)
		if err != nil {
			return fmt.Errorf("bench add: %w", err)
		}
		if cf.json() {
			return printJSON(env, out)
		}
		fmt.Fprintf(env.Stdout, "registered %s at %s (%s)\n", out.Source.Name, short12(out.Source.Commit), firstLineOf(out.Source.Message))
		return printRuns(env, out.Runs)
	case "list":
		srcs, err := bc.Sources(ctx)
		if err != nil {
			return fmt.Errorf("bench list: %w", err)
		}
		if cf.json() {
			return printJSON(env, srcs)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "NAME\tKIND\tURL\tCOMMIT\tMESSAGE\tCHECKED\tPROBLEM\n")
		for _, s := range srcs {
			msg := firstLineOf(s.Message)
			if s.SkippedCI {
				msg += " (not run: [skip ci])"
			}
			checked := ""
			if s.CheckedAt != nil {
				checked = s.CheckedAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, s.URL, short12(s.Commit), msg, checked, s.Error)
		}
		return tw.Flush()
	case "run":
		if err := want(1, "the source's NAME"); err != nil {
			return err
		}
		runs, err := bc.Run(ctx, &benchmark.RunRequest{Source: pos[0], Model: *model, Task: *task, Platform: *platform})
		if err != nil {
			return fmt.Errorf("bench run: %w", err)
		}
		if cf.json() {
			return printJSON(env, runs)
		}
		return printRuns(env, runs)
	case "poll":
		if err := want(1, "the source's NAME"); err != nil {
			return err
		}
		s, err := bc.Poll(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("bench poll: %w", err)
		}
		if cf.json() {
			return printJSON(env, s)
		}
		fmt.Fprintf(env.Stdout, "%s is at %s: %s", s.Name, short12(s.Commit), firstLineOf(s.Message))
		if s.SkippedCI {
			fmt.Fprintf(env.Stdout, " (not run: the message says [skip ci])")
		}
		if s.Error != "" {
			fmt.Fprintf(env.Stdout, "\nproblem: %s", s.Error)
		}
		fmt.Fprintln(env.Stdout)
		return nil
	case "runs":
		q := url.Values{}
		setIf(q, "source", *source)
		setIf(q, "status", *status)
		setIf(q, "platform", *platform)
		q.Set("limit", fmt.Sprint(*limit))
		runs, err := bc.Runs(ctx, q)
		if err != nil {
			return fmt.Errorf("bench runs: %w", err)
		}
		if cf.json() {
			return printJSON(env, runs)
		}
		return printRuns(env, runs)
	case "results", "measurements":
		q := url.Values{}
		for k, v := range map[string]string{"model": *model, "task": *task, "platform": *platform, "name": *name, "measure": *measure,
			"source": *source, "from": *from, "to": *to} {
			setIf(q, k, v)
		}
		if verb == "measurements" {
			ms, err := bc.Measurements(ctx, q)
			if err != nil {
				return fmt.Errorf("bench measurements: %w", err)
			}
			if cf.json() {
				return printJSON(env, ms)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "TIME\tMODEL/TASK\tNAME\tPLATFORM\tVALUE\tUNITS\tJOB\tCOMMIT\tNMP\tMACHINE\n")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%.6g\t%s\t%d\t%s\t%s\t%s\n", m.Timestamp.Local().Format("2006-01-02 15:04:05"), m.Model, m.Task, m.Name,
					m.Platform, m.Value, m.Units, m.JobID, short12(m.Commit), m.NMPVersion, m.Machine)
			}
			return tw.Flush()
		}
		ls, err := bc.Latest(ctx, q)
		if err != nil {
			return fmt.Errorf("bench results: %w", err)
		}
		if cf.json() {
			return printJSON(env, ls)
		}
		if len(ls) == 0 {
			fmt.Fprintln(env.Stdout, "no measurements yet")
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "MODEL/TASK\tNAME\tPLATFORM\tLATEST\tUNITS\tRANGE (N)\tRECENT BAND\tJOB\n")
		regressions := 0
		for _, l := range ls {
			band := "(too few values)"
			if l.Band != nil {
				band = fmt.Sprintf("%.4g … %.4g", l.Band.Lo, l.Band.Hi)
				if l.Band.Regressed {
					band += "  REGRESSION"
					regressions++
				}
			}
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%.6g\t%s\t%.4g … %.4g (%d)\t%s\t%d\n", l.Model, l.Task, l.Name, l.Platform, l.Value, l.Units,
				l.SeriesMin, l.SeriesMax, l.Count, band, l.JobID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if regressions > 0 {
			fmt.Fprintf(env.Stdout, "%d measure(s) left their recent band (mean ± %g standard deviations of the %d values before)\n", regressions, benchmark.Width, benchmark.Window)
		}
		return nil
	case "changed":
		if err := want(1, "the PLATFORM"); err != nil {
			return err
		}
		if err := bc.SystemChanged(ctx, pos[0], *reason); err != nil {
			return fmt.Errorf("bench changed: %w", err)
		}
		fmt.Fprintf(env.Stdout, "every benchmark is queued on %s\n", pos[0])
		return nil
	case "remove":
		if err := want(1, "the source's NAME"); err != nil {
			return err
		}
		if err := bc.Remove(ctx, pos[0]); err != nil {
			return fmt.Errorf("bench remove: %w", err)
		}
		fmt.Fprintf(env.Stdout, "removed %s with its runs and measurements\n", pos[0])
	}
	return nil
}

func addFilter(fs *flag.FlagSet, model, task, platform *string) {
	fs.StringVar(model, "model", "", "only this model")
	fs.StringVar(task, "task", "", "only this task")
	fs.StringVar(platform, "platform", "", "only this platform")
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func isGitURL(s string) bool {
	return strings.Contains(s, "://") || strings.HasSuffix(s, ".git")
}

func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func printRuns(env *Env, runs []benchmark.RunDoc) error {
	if len(runs) == 0 {
		fmt.Fprintln(env.Stdout, "no runs")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RUN\tSOURCE\tCOMMIT\tMODEL/TASK\tPLATFORM\tSTATUS\tJOB\tTRIGGER\tRESULT\n")
	for _, r := range runs {
		job := ""
		if r.JobID != nil {
			job = fmt.Sprint(*r.JobID)
		}
		result := ""
		switch {
		case r.Error != "":
			result = "error: " + r.Error
		case r.Status == "finished":
			result = fmt.Sprintf("%d measurements", r.Measurements)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Source, short12(r.Commit), r.Model, r.Task, r.Platform, r.Status, job, r.Trigger, result)
	}
	return tw.Flush()
}
