// Command nmp is the neuromorphic computing platform in one binary: the
// simulation engine, the job queue server, its workers and its clients, each
// a subcommand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// command is one subcommand. Each lives in its own file, named after it.
type command struct {
	summary string
	// hidden commands are for nmp's own front ends, not for people.
	hidden bool
	run    func(ctx context.Context, env *Env, args []string) error
}

// commands is the table of subcommands. Add one line per subcommand.
var commands = map[string]command{
	"simulate":  {summary: "run a network description and write its results", run: runSimulate},
	"simserver": {summary: "serve a live simulation on stdin/stdout (used by the PyNN front ends)", hidden: true, run: runSimserver},
	"models":    {summary: "list the cell, source, synapse and current-source models with their parameters", run: runModels},
	"calib":     {summary: "calibrate an emulated BrainScaleS-2 chip (calix), or show a calibration file", run: runCalib},
	"serve":     {summary: "run the job queue server (nmpi v3 API) with workers: the local platform", run: runServe},
	"admin":     {summary: "administer users, collabs, tokens, providers and keys", run: runAdmin},
	"login":     {summary: "log in to a job queue server and save the token", run: runLogin},
	"worker":    {summary: "run the jobs of a job queue server's platforms on this machine", run: runWorker},
	"sandbox":   {summary: "supervise one job's command (started by workers)", hidden: true, run: runSandbox},
	"submit":    {summary: "submit a job (a script, a URL or a directory), and follow it", run: runSubmit},
	"jobs":      {summary: "list jobs", run: runJobs},
	"job":       {summary: "show a job", run: runJob},
	"log":       {summary: "print a job's log", run: runLog},
	"download":  {summary: "download a job's output files", run: runDownload},
	"quotas":    {summary: "show a collab's quotas", run: runQuotas},
	"collab":    {summary: "a collab's storage: list, download and delete the files kept past retention", run: runCollab},
	"requests":  {summary: "list resource requests", run: runRequests},
	"compare":   {summary: "run one PyNN script on the reference and every emulated system, and show where they diverge and why", run: runCompare},
	"bench":     {summary: "the benchmark service: register benchmark repositories, run them, read their measurements", run: runBench},
	"version":   {summary: "print the version", run: runVersion},
}

// Env is what a subcommand may touch of the outside world. Tests give their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// IsTerminal tells whether Stderr is an interactive terminal (for progress bars).
	IsTerminal bool
}

// usageError marks errors caused by how nmp was called; main prints the usage hint and exits with 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: isTerminal(os.Stderr)}
	err := Run(ctx, env, os.Args[1:])
	stop()
	os.Exit(exitCode(env, err))
}

func exitCode(env *Env, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "nmp: %v\n", err)
		if !strings.Contains(err.Error(), " -h')") {
			fmt.Fprintln(env.Stderr, "Run 'nmp help' for usage.")
		}
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(env.Stderr, "nmp: interrupted")
		return 130
	default:
		fmt.Fprintf(env.Stderr, "nmp: %v\n", err)
		return 1
	}
}

// Run dispatches args to a subcommand.
func Run(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				// The command prints its own help for -h.
				return c.run(ctx, env, []string{"-h"})
			}
		}
		printUsage(env.Stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return usagef("unknown command %q", args[0])
	}
	return c.run(ctx, env, args[1:])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `nmp is an open neuromorphic computing platform: a simulation engine, emulations
of neuromorphic hardware, and an EBRAINS-compatible job queue.

Usage:

	nmp <command> [arguments]

Commands:

`)
	names := make([]string, 0, len(commands))
	for name, c := range commands {
		if !c.hidden {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "	%-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprint(w, `
Run 'nmp <command> -h' for the arguments of one command.
Documentation: docs/ in the source tree, starting with docs/README.md.
`)
}

// newFlagSet returns a flag set for a command. Parse it with parseArgs,
// which prints the help text to stdout for -h and turns a bad flag into a
// short usage error.
func newFlagSet(env *Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("nmp "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	helpMu.Lock()
	helps[fs] = helpText{env: env, usage: usage}
	helpMu.Unlock()
	return fs
}

type helpText struct {
	env   *Env
	usage string
}

var (
	helpMu sync.Mutex
	helps  = map[*flag.FlagSet]helpText{}
)

// printHelp prints a command's help text and its flags to stdout.
func printHelp(fs *flag.FlagSet) {
	helpMu.Lock()
	h := helps[fs]
	helpMu.Unlock()
	if h.env == nil {
		return
	}
	fmt.Fprintln(h.env.Stdout, strings.TrimSpace(h.usage))
	fmt.Fprintln(h.env.Stdout, "\nFlags:")
	fs.SetOutput(h.env.Stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}

// parseFlags parses the flags at the start of args, as flag.Parse does, with
// parseArgs' treatment of -h and bad flags; fs.Args() holds the rest.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(fs)
			return err
		}
		return usagef("%s: %v (see '%s -h')", fs.Name(), err, fs.Name())
	}
	return nil
}

// parseArgs parses flags anywhere among the arguments (nmp simulate FILE -o
// OUT works as well as nmp simulate -o OUT FILE) and returns the others. A
// lone "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
