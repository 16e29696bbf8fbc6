package main

import (
	"context"
	"errors"

	"github.com/nmp-platform/nmp/worker"
)

// runSandbox is the job supervisor that workers start for each job's
// command (see worker.SandboxMain): it reads a specification on stdin and
// writes the result on stdout. It is not meant for people.
func runSandbox(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		return usagef("sandbox: the job supervisor takes no arguments; workers start it")
	}
	if worker.SandboxMain(env.Stdin, env.Stdout) != 0 {
		return errors.New("sandbox: could not report the result")
	}
	return nil
}
