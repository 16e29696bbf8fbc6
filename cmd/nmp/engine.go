package main

import (
	"bufio"
	"context"

	"github.com/nmp-platform/nmp/session"
)

const engineUsage = `
usage: nmp engine [-threads N]

Serves one interactive simulation session on standard input and output, in
the framed protocol of docs/session.md. The PyNN backend (pyNN.nmp) starts it;
people do not need to.
`

func runEngine(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "engine", engineUsage)
	threads := fs.Int("threads", 0, "threads to use (0: all cores)")
	system := fs.String("system", "reference", "system to emulate")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("engine takes no arguments")
	}
	w := bufio.NewWriterSize(env.Stdout, 1<<20)
	err = session.Serve(ctx, bufio.NewReaderSize(env.Stdin, 1<<20), flushWriter{w}, session.Options{Threads: *threads, System: *system})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// flushWriter flushes after every message, so that replies reach the client.
type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, f.w.Flush()
}
