package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/nmp-platform/nmp/internal/buildinfo"
)

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "usage: nmp version\n\nPrints the nmp version and the Go toolchain it was built with.")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "nmp %s (%s, %s/%s)\n", buildinfo.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
