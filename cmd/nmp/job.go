package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

const jobUsage = `usage: nmp job ID [flags]

Shows a job: its status, platform, collab, command, code, times, resource
usage, output files and provenance; -log adds its log.

Examples:

	nmp job 42
	nmp job 42 -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
` + clientHelp

func runJob(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "job", jobUsage)
	cf := addClientFlags(fs, env, true)
	withLog := fs.Bool("log", false, "include the log")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("job: give one job id")
	}
	id, err := parseJobID(pos[0])
	if err != nil {
		return err
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("job: %w", err)
	}
	j, err := c.Job(ctx, id, *withLog || cf.json())
	if err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	if cf.json() {
		return printJSON(env, j)
	}
	w := env.Stdout
	fmt.Fprintf(w, "job %d: %s\n", j.ID, j.Status)
	fmt.Fprintf(w, "  platform:   %s\n  collab:     %s\n  user:       %s\n", j.HardwarePlatform, j.Collab, j.UserID)
	fmt.Fprintf(w, "  command:    %s\n  code:       %s\n", j.Command, codeSummary(j.Code))
	if inputs, err := j.Inputs(); err != nil {
		fmt.Fprintf(w, "  input:      %s\n", j.InputData)
	} else {
		for _, in := range inputs {
			fmt.Fprintf(w, "  input:      %s\n", in.URL)
		}
	}
	if len(j.HardwareConfig) > 0 && string(j.HardwareConfig) != "null" && string(j.HardwareConfig) != "{}" {
		fmt.Fprintf(w, "  config:     %s\n", j.HardwareConfig)
	}
	if len(j.Tags) > 0 {
		fmt.Fprintf(w, "  tags:       %s\n", strings.Join(j.Tags, ", "))
	}
	fmt.Fprintf(w, "  submitted:  %s\n", shortTime(j.Submitted))
	if j.Completed != nil {
		fmt.Fprintf(w, "  completed:  %s\n", shortTime(*j.Completed))
	}
	if j.ResourceUsage != nil {
		fmt.Fprintf(w, "  usage:      %.4g %s\n", j.ResourceUsage.Value, j.ResourceUsage.Units)
	}
	var prov map[string]any
	_ = json.Unmarshal(j.Provenance, &prov)
	if e, ok := prov["error"].(map[string]any); ok {
		fmt.Fprintf(w, "  error:      %v (%v)\n", e["reason"], e["kind"])
	}
	if r, ok := prov["resources"].(map[string]any); ok {
		fmt.Fprintf(w, "  ran:        %.1f s wall clock, %.1f s CPU, peak memory %.1f MiB\n",
			num(r["wall_clock_s"]), num(r["cpu_time_s"]), num(r["peak_memory_bytes"])/(1<<20))
	}
	if prov != nil {
		fmt.Fprintf(w, "  system:     %v (backend %v), nmp %v, attempt %v\n", prov["system"], prov["backend"], prov["nmp_version"], prov["attempt"])
		if s, ok := prov["seeds"].([]any); ok && len(s) > 0 {
			fmt.Fprintf(w, "  seeds:      %v\n", s)
		}
	}
	if files := j.Files(); len(files) > 0 {
		fmt.Fprintf(w, "  output files (nmp download %d):\n", j.ID)
		for _, f := range files {
			size := ""
			if f.Size != nil {
				size = fmt.Sprintf(" (%d bytes)", *f.Size)
			}
			fmt.Fprintf(w, "    %s%s\n", f.Path, size)
		}
	}
	if *withLog && j.Log != nil {
		fmt.Fprintf(w, "log:\n%s", *j.Log)
		if !strings.HasSuffix(*j.Log, "\n") {
			fmt.Fprintln(w)
		}
	}
	return nil
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
