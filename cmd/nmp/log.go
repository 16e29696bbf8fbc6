package main

import (
	"context"
	"fmt"
)

const logUsage = `usage: nmp log ID [-follow]

Prints a job's log: what its command printed, and the worker's lines
(marked [nmp worker]) on fetching the code, limits, the end and the output
files. -follow keeps printing it as it grows, until the job ends.
` + clientHelp

func runLog(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "log", logUsage)
	cf := addClientFlags(fs, env, false)
	follow := fs.Bool("follow", false, "keep printing the log until the job ends")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("log: give one job id")
	}
	id, err := parseJobID(pos[0])
	if err != nil {
		return err
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	if *follow {
		_, err := followJob(ctx, env, c, id, true)
		return err
	}
	l, err := c.Log(ctx, id)
	if err != nil {
		return fmt.Errorf("log of job %d: %w", id, err)
	}
	fmt.Fprint(env.Stdout, l)
	return nil
}
