package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
)

// remoteCompare is nmp compare -server's request.
type remoteCompare struct {
	script, collab string
	platforms      []string
	args           []string
	out            string
	tau            float64
	timeout        time.Duration
	python         string
}

// compareRemote runs a comparison through a server's compare API: it
// uploads the script's directory, starts the comparison, follows its jobs
// and writes what the local comparison writes, plus the server's page.
func compareRemote(ctx context.Context, env *Env, cf *clientFlags, rc remoteCompare) error {
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if rc.collab == "" {
		if rc.collab, err = defaultCollab(ctx, c, env); err != nil {
			return err
		}
	}
	code, n, err := uploadDir(ctx, c, rc.collab, filepath.Dir(rc.script))
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	fmt.Fprintf(env.Stderr, "compare: uploaded %s (%d files) for collab %s\n", filepath.Dir(rc.script), n, rc.collab)
	bc := &benchmark.Client{Server: c.Server, Token: c.Token}
	doc, err := bc.Compare(ctx, &benchmark.CompareRequest{Collab: rc.collab, Code: code, Script: filepath.Base(rc.script), Args: rc.args, Platforms: rc.platforms})
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	for _, j := range doc.Jobs {
		if j.JobID == 0 {
			fmt.Fprintf(env.Stderr, "compare: %s: not submitted: %s\n", j.Platform, j.Error)
		} else {
			fmt.Fprintf(env.Stderr, "compare: %s: job %d\n", j.Platform, j.JobID)
		}
	}
	fmt.Fprintf(env.Stderr, "compare: comparison %s at %s/compare/%s\n", doc.ID, c.Server, doc.ID)
	deadline := time.Now().Add(rc.timeout)
	last := ""
	for {
		if doc, err = bc.Comparison(ctx, doc.ID, rc.tau); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		var st []string
		for _, j := range doc.Jobs {
			st = append(st, fmt.Sprintf("%s %s", j.Platform, j.Status))
		}
		if s := strings.Join(st, ", "); s != last {
			fmt.Fprintf(env.Stderr, "compare: %s\n", s)
			last = s
		}
		if doc.Status == "done" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("compare: comparison %s is still running after %v (its jobs go on; see %s/compare/%s)", doc.ID, rc.timeout, c.Server, doc.ID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	// The report names the platforms left out (the server records them with the comparison).
	text := doc.Text
	fmt.Fprint(env.Stdout, text)
	if err := os.WriteFile(filepath.Join(rc.out, "report.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	// report.json as nmp compare writes it here; comparison.json with the jobs.
	for name, v := range map[string]any{"report.json": doc.Report, "comparison.json": doc} {
		js, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(rc.out, name), append(js, '\n'), 0o644); err != nil {
			return err
		}
	}
	page, err := bc.ComparisonPage(ctx, doc.ID, rc.tau)
	if err != nil {
		return fmt.Errorf("compare: the page: %w", err)
	}
	if err := os.WriteFile(filepath.Join(rc.out, "report.html"), page, 0o644); err != nil {
		return err
	}
	spikes, err := bc.ComparisonSpikes(ctx, doc.ID)
	if err != nil {
		return fmt.Errorf("compare: the spikes: %w", err)
	}
	if err := plotComparison(ctx, rc.python, rc.out, spikes); err != nil {
		fmt.Fprintf(env.Stderr, "compare: no plot: %v\n", err)
	} else {
		fmt.Fprintf(env.Stdout, "\nplot: %s\n", filepath.Join(rc.out, "compare.png"))
	}
	fmt.Fprintf(env.Stdout, "report: %s, %s, %s\n", filepath.Join(rc.out, "report.txt"), filepath.Join(rc.out, "report.json"), filepath.Join(rc.out, "report.html"))
	return nil
}
