package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/client"
)

const submitUsage = `usage: nmp submit SCRIPT|URL|DIR [flags]

Submits a job to a job queue server, and with -wait follows it to its end.
The job's code takes one of the forms the platform guidebook allows:

	SCRIPT  a Python script on this machine; its text goes with the job, and
	        the default command runs it: SCRIPT {system}
	URL     a public git repository (cloned shallowly) or a zip or tar.gz
	        archive, by http, https or git URL; default command run.py {system}
	DIR     a directory on this machine: packed as a tar.gz and uploaded to
	        the server (nmp's stand-in for the EBRAINS Drive folder the Python
	        client uses); default command run.py {system}

{system} in the command becomes the platform's PyNN backend (nmp for Demo,
the reference system); {system=a,b} restricts the job to those backends.
Input files (-input URL, repeatable) are downloaded into the job's directory.
-config takes the hardware config as JSON; nmp reads its "limits", e.g.
{"limits": {"wall_clock_s": 600, "memory_mib": 2048}}.

Examples:

	nmp submit experiment.py -platform Demo -collab demo -wait -download results
	nmp submit https://github.com/CNRS-UNIC/hardware-benchmarks -command "run_I_f_curve.py {system}"
	nmp submit ./my-model -command "main.py --seed 1 {system}" -input https://example.org/stim.npy -follow

With -wait the status shows while the job waits and runs; -follow also
prints its log as it comes; -download DIR (which waits) saves the output
files in DIR/job_ID. The exit status is 1 if the job ends with an error.
` + clientHelp

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runSubmit(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "submit", submitUsage)
	cf := addClientFlags(fs, env, true)
	platform := env.Getenv("NMP_PLATFORM")
	if platform == "" {
		platform = platformTable.Primary().Name
	}
	plat := fs.String("platform", platform, "the platform to run on (default $NMP_PLATFORM, else "+platformTable.Primary().Name+")")
	collab := fs.String("collab", "", "the collab the job belongs to (default $NMP_COLLAB, else the only one you may submit to)")
	command := fs.String("command", "", "the command to run: a script with arguments (default: see above)")
	config := fs.String("config", "", "hardware config, as a JSON object")
	var inputs, tags listFlag
	fs.Var(&inputs, "input", "URL of an input file (repeatable)")
	fs.Var(&tags, "tag", "a tag for the job (repeatable)")
	wait := fs.Bool("wait", false, "wait for the job to end, showing its status")
	follow := fs.Bool("follow", false, "wait, and print the job's log as it comes")
	download := fs.String("download", "", "wait, then save the output files in `DIR`/job_ID")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("submit: give one SCRIPT, URL or DIR (see 'nmp submit -h')")
	}
	source := pos[0]
	var hc map[string]any
	if *config != "" {
		if err := json.Unmarshal([]byte(*config), &hc); err != nil {
			return usagef("submit: -config: not a JSON object: %v", err)
		}
	}
	c, err := cf.client(env)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if *collab == "" {
		if *collab, err = defaultCollab(ctx, c, env); err != nil {
			return err
		}
	}
	sub := &client.Submission{Command: *command, Platform: *plat, Collab: *collab, HardwareConfig: hc, Inputs: inputs, Tags: tags}
	switch {
	case regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`).MatchString(source):
		sub.Code = source
	default:
		fi, err := os.Stat(source)
		if err != nil {
			return fmt.Errorf("submit: %s is neither a URL nor a file or directory here: %w", source, errors.Unwrap(err))
		}
		if fi.IsDir() {
			u, n, err := uploadDir(ctx, c, *collab, source)
			if err != nil {
				return fmt.Errorf("submit: %w", err)
			}
			fmt.Fprintf(env.Stderr, "uploaded %s (%d files) for collab %s\n", source, n, *collab)
			sub.Code = u
		} else {
			data, err := os.ReadFile(source)
			if err != nil {
				return fmt.Errorf("submit: %w", err)
			}
			sub.Code = string(data)
			if sub.Command == "" {
				sub.Command = quoteWord(filepath.Base(source)) + " {system}"
			}
		}
	}
	if sub.Command == "" {
		sub.Command = "run.py {system}"
	}
	job, err := c.Submit(ctx, sub)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if !*wait && !*follow && *download == "" {
		if cf.json() {
			return printJSON(env, job)
		}
		fmt.Fprintf(env.Stdout, "submitted job %d to %s (collab %s); follow it with: nmp job %d\n", job.ID, job.HardwarePlatform, job.Collab, job.ID)
		return nil
	}
	fmt.Fprintf(env.Stderr, "submitted job %d to %s (collab %s)\n", job.ID, job.HardwarePlatform, job.Collab)
	job, err = followJob(ctx, env, c, job.ID, *follow)
	if err != nil {
		return err
	}
	var paths []string
	if *download != "" && len(job.Files()) > 0 {
		dir := filepath.Join(*download, fmt.Sprintf("job_%d", job.ID))
		if paths, err = c.Download(ctx, job, dir); err != nil {
			return fmt.Errorf("download: %w", err)
		}
	}
	if cf.json() {
		if err := printJSON(env, job); err != nil {
			return err
		}
	} else {
		printOutcome(env, job, !*follow)
		if len(paths) > 0 {
			fmt.Fprintf(env.Stdout, "downloaded %d files:\n", len(paths))
			for _, p := range paths {
				fmt.Fprintf(env.Stdout, "  %s\n", p)
			}
		}
	}
	if job.Status != "finished" {
		return fmt.Errorf("job %d ended with status %s", job.ID, job.Status)
	}
	return nil
}

func quoteWord(s string) string {
	if strings.ContainsAny(s, " \t'\"\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// followJob waits for the job to end, showing its status (on a terminal as
// one changing line) and, with showLog, its log as it grows.
func followJob(ctx context.Context, env *Env, c *client.Client, id int64, showLog bool) (*client.Job, error) {
	start := time.Now()
	last := ""
	printed := 0
	delay := 500 * time.Millisecond
	for {
		j, err := c.Job(ctx, id, false)
		status := ""
		switch {
		case err == nil:
			status = j.Status
		case client.Unreachable(err):
			status = "server unreachable, retrying (" + err.Error() + ")"
		default:
			return nil, err
		}
		if showLog && err == nil {
			if l, err := c.Log(ctx, id); err == nil && len(l) > printed {
				fmt.Fprint(env.Stdout, l[printed:])
				printed = len(l)
			}
		}
		switch {
		case env.IsTerminal && !showLog:
			fmt.Fprintf(env.Stderr, "\r\033[Kjob %d: %s (%s)", id, status, time.Since(start).Round(time.Second))
		case status != last:
			fmt.Fprintf(env.Stderr, "job %d: %s\n", id, status)
		}
		if status != last {
			last = status
			delay = 500 * time.Millisecond
		}
		if err == nil && j.Ended() {
			if env.IsTerminal && !showLog {
				fmt.Fprintln(env.Stderr)
			}
			return c.Job(ctx, id, true)
		}
		select {
		case <-ctx.Done():
			if env.IsTerminal && !showLog {
				fmt.Fprintln(env.Stderr)
			}
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 3*time.Second {
			delay = delay * 3 / 2
		}
	}
}

// printOutcome tells how a job ended, with the end of its log if it failed.
func printOutcome(env *Env, j *client.Job, showTail bool) {
	var prov struct {
		Resources struct {
			Wall float64 `json:"wall_clock_s"`
		} `json:"resources"`
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	_ = json.Unmarshal(j.Provenance, &prov)
	usage := ""
	if j.ResourceUsage != nil {
		usage = fmt.Sprintf("; used %.4g %s", j.ResourceUsage.Value, j.ResourceUsage.Units)
	}
	fmt.Fprintf(env.Stdout, "job %d %s after %.1f s%s; %d output files\n", j.ID, j.Status, prov.Resources.Wall, usage, len(j.Files()))
	if j.Status == "error" {
		if prov.Error.Reason != "" {
			fmt.Fprintf(env.Stdout, "reason: %s\n", prov.Error.Reason)
		}
		if showTail && j.Log != nil {
			lines := strings.Split(strings.TrimRight(*j.Log, "\n"), "\n")
			if len(lines) > 20 {
				lines = lines[len(lines)-20:]
			}
			fmt.Fprintf(env.Stdout, "end of the log (nmp log %d shows all of it):\n", j.ID)
			for _, l := range lines {
				fmt.Fprintf(env.Stdout, "  %s\n", l)
			}
		}
	}
}

// maxUpload is the largest directory archive nmp submit sends (the server's default cap).
const maxUpload = 256 << 20

// uploadDir packs dir as a tar.gz (without .git and __pycache__) and
// uploads it for the collab; it returns the archive's URL and the file count.
func uploadDir(ctx context.Context, c *client.Client, collab, dir string) (string, int, error) {
	tmp, err := os.CreateTemp("", "nmp-submit-*.tar.gz")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw := gzip.NewWriter(tmp)
	tw := tar.NewWriter(zw)
	n := 0
	var size int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "__pycache__") {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		} else if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil // sockets, devices: not code
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			size += fi.Size()
			if size > maxUpload {
				return fmt.Errorf("%s holds more than %s of files; the server takes up to that much code", dir, "256 MiB")
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return "", 0, fmt.Errorf("pack %s: %w", dir, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	u, err := c.UploadCode(ctx, collab, tmp, "application/gzip")
	if err != nil {
		return "", 0, fmt.Errorf("upload %s: %w", dir, err)
	}
	return u, n, nil
}
