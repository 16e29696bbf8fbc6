package main

import (
	"bufio"
	"context"
	"io"

	"github.com/nmp-platform/nmp/simserver"
)

const simserverUsage = `
usage: nmp simserver [-threads N] [-system NAME]

Serves one live simulation on standard input and output, in the framed
simulation server protocol of docs/simserver.md. The PyNN front ends
(pyNN.nmp, pynn_brainscales.brainscales2) start it; people do not need to.
`

func runSimserver(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "simserver", simserverUsage)
	threads := fs.Int("threads", 0, "threads to use (0: all cores)")
	system := fs.String("system", "reference", "system to emulate")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("simserver takes no arguments")
	}
	in, out := io.Reader(env.Stdin), io.Writer(env.Stdout)
	if dir := env.Getenv("NMP_SIMSERVER_RECORD"); dir != "" {
		// nmp compare records the session (compare.go).
		var closeRec func()
		if in, out, closeRec, err = recordStreams(dir, in, out); err != nil {
			return err
		}
		defer closeRec()
	}
	w := bufio.NewWriterSize(out, 1<<20)
	err = simserver.Serve(ctx, bufio.NewReaderSize(in, 1<<20), flushWriter{w}, simserver.Options{Threads: *threads, System: *system})
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
