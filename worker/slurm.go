package worker

// The SLURM executor: each claimed job becomes a SLURM batch job. The worker
// still claims the job, fetches its code and inputs (into a job directory on
// a file system the cluster's nodes share, the worker's WorkDir), converts
// Python 2 scripts, uploads the outputs and ends the job; only the command
// runs on a node, as the -run-as user, under SLURM's limits and isolation.
//
// What the worker knows of a SLURM job lives in a state file beside the job
// directories (WorkDir/.nmp-slurm/job-ID.json, readable by root only): the
// SLURM job id, the lease it runs under, how much of its output went to the
// log. A worker that starts again finds its jobs there, renews their leases
// and re-attaches; a worker that claims a job whose lease expired (its worker
// stayed away too long) finds the running SLURM job there too, and watches it
// instead of running the job a second time.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nmp-platform/nmp/provider"
)

// SlurmConfig makes a worker run its jobs as SLURM batch jobs.
type SlurmConfig struct {
	// Platforms maps each platform the worker runs to its SLURM settings.
	Platforms map[string]SlurmPlatform `json:"platforms"`
	// Poll is how often running SLURM jobs' states and output are read (default 2 s).
	Poll time.Duration `json:"-"`
	// Bin is the directory holding sbatch, scontrol, scancel and sacct
	// (default: found in PATH).
	Bin string `json:"bin,omitempty"`
	// Env is added to the environment of the SLURM commands (SLURM_CONF=...).
	Env []string `json:"env,omitempty"`
	// Cluster names the cluster in logs and provenance (default "slurm").
	Cluster string `json:"cluster,omitempty"`
}

// SlurmPlatform is how one platform's jobs go to SLURM. A job's
// hardware_config may choose among the allowed values:
//
//	{"slurm": {"gres": "chip:2", "qos": "high", "cpus_per_task": 2}}
type SlurmPlatform struct {
	// Partition (required), account and QOS of the platform's jobs.
	Partition string `json:"partition"`
	Account   string `json:"account,omitempty"`
	QOS       string `json:"qos,omitempty"`
	// AllowedQOS are the QOS a job may ask for instead of QOS.
	AllowedQOS []string `json:"allowed_qos,omitempty"`
	// Gres are the generic resources every job of the platform gets (a
	// station, a chip: "chip:1"); AllowedGres those a job may ask for instead.
	Gres        string   `json:"gres,omitempty"`
	AllowedGres []string `json:"allowed_gres,omitempty"`
	// CPUsPerTask (default 1), and the most a job may ask for (default CPUsPerTask).
	CPUsPerTask    int `json:"cpus_per_task,omitempty"`
	MaxCPUsPerTask int `json:"max_cpus_per_task,omitempty"`
	// Constraint is passed as --constraint (node features), when set.
	Constraint string `json:"constraint,omitempty"`
}

// slurmValue is what a partition, account, QOS, gres or constraint may look like.
var slurmValue = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_:.,=+/-]*$`)

// ParseSlurmConfig reads the JSON configuration of the SLURM executor:
//
//	{"poll": "2s", "env": ["SLURM_CONF=/etc/slurm/slurm.conf"], "cluster": "hx",
//	 "platforms": {"BrainScaleS-2": {"partition": "brainscales2", "gres": "chip:1",
//	                                 "allowed_gres": ["chip:1", "chip:2"]}}}
func ParseSlurmConfig(data []byte) (*SlurmConfig, error) {
	var raw struct {
		SlurmConfig
		Poll string `json:"poll"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("slurm configuration: %v (known keys: platforms, poll, bin, env, cluster; per platform: partition, account, qos, allowed_qos, gres, allowed_gres, cpus_per_task, max_cpus_per_task, constraint)", err)
	}
	c := raw.SlurmConfig
	if raw.Poll != "" {
		d, err := time.ParseDuration(raw.Poll)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("slurm configuration: poll: %q is not a positive duration such as 2s", raw.Poll)
		}
		c.Poll = d
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *SlurmConfig) check() error {
	if len(c.Platforms) == 0 {
		return errors.New("slurm configuration: platforms: none configured")
	}
	for name, p := range c.Platforms {
		if p.Partition == "" {
			return fmt.Errorf("slurm configuration: platforms.%s.partition: required", name)
		}
		for field, vs := range map[string][]string{"partition": {p.Partition}, "account": {p.Account}, "qos": {p.QOS},
			"allowed_qos": p.AllowedQOS, "gres": {p.Gres}, "allowed_gres": p.AllowedGres, "constraint": {p.Constraint}} {
			for _, v := range vs {
				if v != "" && (len(v) > 200 || !slurmValue.MatchString(v)) {
					return fmt.Errorf("slurm configuration: platforms.%s.%s: %q is not a SLURM name", name, field, v)
				}
			}
		}
		if p.CPUsPerTask < 0 || p.MaxCPUsPerTask < 0 || (p.MaxCPUsPerTask > 0 && p.MaxCPUsPerTask < p.CPUsPerTask) {
			return fmt.Errorf("slurm configuration: platforms.%s: cpus_per_task %d and max_cpus_per_task %d do not fit", name, p.CPUsPerTask, p.MaxCPUsPerTask)
		}
	}
	for i, e := range c.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("slurm configuration: env[%d]: %q is not NAME=VALUE", i, e)
		}
	}
	return nil
}

// slurmRequest is what one job asks SLURM for.
type slurmRequest struct {
	Partition, Account, QOS, Gres, Constraint string
	CPUsPerTask                               int
}

// request combines the platform's settings with what the job's
// hardware_config asks for (within the allowed values).
func (p SlurmPlatform) request(hardwareConfig json.RawMessage) (slurmRequest, error) {
	q := slurmRequest{Partition: p.Partition, Account: p.Account, QOS: p.QOS, Gres: p.Gres, Constraint: p.Constraint, CPUsPerTask: max(p.CPUsPerTask, 1)}
	if len(hardwareConfig) == 0 || string(hardwareConfig) == "null" {
		return q, nil
	}
	var hc struct {
		Slurm json.RawMessage `json:"slurm"`
	}
	if err := json.Unmarshal(hardwareConfig, &hc); err != nil {
		return q, fmt.Errorf("hardware_config: not a JSON object: %v", err)
	}
	if len(hc.Slurm) == 0 || string(hc.Slurm) == "null" {
		return q, nil
	}
	var js struct {
		Gres        *string `json:"gres"`
		QOS         *string `json:"qos"`
		CPUsPerTask *int    `json:"cpus_per_task"`
	}
	dec := json.NewDecoder(bytes.NewReader(hc.Slurm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		return q, fmt.Errorf("hardware_config.slurm: %v (known: gres, qos, cpus_per_task)", err)
	}
	if js.Gres != nil && *js.Gres != p.Gres {
		if !slices.Contains(p.AllowedGres, *js.Gres) {
			return q, fmt.Errorf("hardware_config.slurm.gres: %q is not allowed on this platform (allowed: %s)", *js.Gres, allowedText(p.Gres, p.AllowedGres))
		}
		q.Gres = *js.Gres
	}
	if js.QOS != nil && *js.QOS != p.QOS {
		if !slices.Contains(p.AllowedQOS, *js.QOS) {
			return q, fmt.Errorf("hardware_config.slurm.qos: %q is not allowed on this platform (allowed: %s)", *js.QOS, allowedText(p.QOS, p.AllowedQOS))
		}
		q.QOS = *js.QOS
	}
	if js.CPUsPerTask != nil {
		most := p.MaxCPUsPerTask
		if most == 0 {
			most = q.CPUsPerTask
		}
		if *js.CPUsPerTask < 1 || *js.CPUsPerTask > most {
			return q, fmt.Errorf("hardware_config.slurm.cpus_per_task: %d is not between 1 and %d", *js.CPUsPerTask, most)
		}
		q.CPUsPerTask = *js.CPUsPerTask
	}
	return q, nil
}

func allowedText(def string, allowed []string) string {
	var all []string
	if def != "" {
		all = append(all, strconv.Quote(def))
	}
	for _, a := range allowed {
		all = append(all, strconv.Quote(a))
	}
	if len(all) == 0 {
		return "none"
	}
	return strings.Join(all, ", ")
}

// sbatchArgs are sbatch's options for a job.
func sbatchArgs(q slurmRequest, l Limits, name, workDir, logPath string, uid, gid int) []string {
	args := []string{"--parsable", "--job-name=" + name, "--partition=" + q.Partition, "--nodes=1", "--ntasks=1",
		"--cpus-per-task=" + strconv.Itoa(q.CPUsPerTask), "--chdir=" + workDir, "--output=" + logPath, "--open-mode=append",
		"--export=NONE", "--no-requeue"}
	if q.Account != "" {
		args = append(args, "--account="+q.Account)
	}
	if q.QOS != "" {
		args = append(args, "--qos="+q.QOS)
	}
	if q.Gres != "" {
		args = append(args, "--gres="+q.Gres)
	}
	if q.Constraint != "" {
		args = append(args, "--constraint="+q.Constraint)
	}
	if l.WallClock > 0 {
		// SLURM counts time limits in minutes (and checks them about every
		// 30 s): rounded up, --time is the backstop; the worker itself
		// cancels a job at its limit to the second (watch).
		m := int64((l.WallClock + time.Minute - 1) / time.Minute)
		args = append(args, fmt.Sprintf("--time=%d", m))
	}
	if l.Memory > 0 {
		args = append(args, fmt.Sprintf("--mem=%dM", (l.Memory+(1<<20)-1)>>20))
	}
	if uid > 0 {
		args = append(args, "--uid="+strconv.Itoa(uid), "--gid="+strconv.Itoa(gid))
	}
	return args
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// batchScript is the script SLURM runs on the node: the job's command with
// the job's environment and nothing of SLURM's but its job id.
func batchScript(r *jobRun, env []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# nmp job %d, attempt %d, written by nmp worker %s: the job's command with its environment.\n",
		r.job.ID, r.attempt(), strings.ReplaceAll(r.w.cfg.Name, "\n", " "))
	fmt.Fprintf(&b, "cd %s || exit 112\nexec /usr/bin/env -i", shellQuote(r.work))
	for _, e := range env {
		b.WriteString(" " + shellQuote(e))
	}
	b.WriteString(` "NMP_SLURM_JOB_ID=${SLURM_JOB_ID:-}"`)
	for _, a := range r.command {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

// slurmState is what the worker keeps of a job it runs on SLURM.
type slurmState struct {
	JobID     int64          `json:"job"`
	Attempt   int            `json:"attempt"`
	Lease     string         `json:"lease"`
	Worker    string         `json:"worker"`
	Platform  string         `json:"platform"`
	SlurmID   string         `json:"slurm_job"`
	Name      string         `json:"slurm_name"`
	Dir       string         `json:"dir"`
	UID       int            `json:"uid"`
	GID       int            `json:"gid"`
	Command   []string       `json:"command"`
	Limits    Limits         `json:"limits"`
	Prov      map[string]any `json:"provenance"`
	LogOffset int64          `json:"log_offset"`
	Submitted time.Time      `json:"submitted"`
	// Cancelled says why the worker cancelled the SLURM job ("removed", "output", "quota").
	Cancelled string `json:"cancelled,omitempty"`
}

// slurmExecutor runs jobs as SLURM batch jobs.
type slurmExecutor struct {
	w        *Worker
	cfg      SlurmConfig
	stateDir string
}

func newSlurmExecutor(w *Worker, cfg SlurmConfig) (*slurmExecutor, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	for _, p := range w.cfg.Platforms {
		if _, ok := cfg.Platforms[p]; !ok {
			return nil, fmt.Errorf("worker: slurm configuration: platforms.%s: the worker runs %s, but the configuration has no SLURM settings for it", p, p)
		}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Cluster == "" {
		cfg.Cluster = "slurm"
	}
	return &slurmExecutor{w: w, cfg: cfg, stateDir: filepath.Join(w.cfg.WorkDir, ".nmp-slurm")}, nil
}

// prepare makes the state directory and checks that SLURM answers.
func (e *slurmExecutor) prepare(ctx context.Context) error {
	if err := os.MkdirAll(e.stateDir, 0o700); err != nil {
		return fmt.Errorf("worker: slurm state directory: %w", err)
	}
	if err := os.Chmod(e.stateDir, 0o700); err != nil {
		return fmt.Errorf("worker: slurm state directory: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := e.command(cctx, "scontrol", "ping"); err != nil {
		return fmt.Errorf("worker: SLURM does not answer (scontrol ping): %w", err)
	}
	return nil
}

// command runs a SLURM command and returns its standard output.
func (e *slurmExecutor) command(ctx context.Context, name string, args ...string) (string, error) {
	bin := name
	if e.cfg.Bin != "" {
		bin = filepath.Join(e.cfg.Bin, name)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), e.cfg.Env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Dir = "/"
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), fmt.Errorf("%s: %s", name, msg)
	}
	return out.String(), nil
}

func (e *slurmExecutor) statePath(id int64) string {
	return filepath.Join(e.stateDir, fmt.Sprintf("job-%d.json", id))
}

func (e *slurmExecutor) save(st *slurmState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	p := e.statePath(st.JobID)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (e *slurmExecutor) load(id int64) (*slurmState, bool) {
	data, err := os.ReadFile(e.statePath(id))
	if err != nil {
		return nil, false
	}
	var st slurmState
	if json.Unmarshal(data, &st) != nil || st.JobID != id {
		return nil, false
	}
	return &st, true
}

// forget deletes what the worker kept of the job's SLURM run.
func (e *slurmExecutor) forget(id int64) {
	for _, p := range []string{e.statePath(id), filepath.Join(e.stateDir, fmt.Sprintf("job-%d.before.json", id)), filepath.Join(e.stateDir, fmt.Sprintf("job-%d.sh", id))} {
		_ = os.Remove(p)
	}
}

// run submits the prepared job to SLURM and watches it to its end.
func (e *slurmExecutor) run(ctx context.Context, r *jobRun) (*sandboxResult, error) {
	sp := e.cfg.Platforms[r.job.HardwarePlatform]
	q, err := sp.request(r.job.HardwareConfig)
	if err != nil {
		return nil, userErrorf("%v", err)
	}
	name := fmt.Sprintf("nmp-%d-%d", r.job.ID, r.attempt())
	logPath := filepath.Join(r.dir, "slurm.log")
	script := filepath.Join(e.stateDir, fmt.Sprintf("job-%d.sh", r.job.ID))
	if err := os.WriteFile(script, []byte(batchScript(r, r.env())), 0o700); err != nil {
		return nil, fmt.Errorf("slurm: batch script: %w", err)
	}
	st := &slurmState{JobID: r.job.ID, Attempt: r.attempt(), Lease: r.job.LeaseID(), Worker: e.w.cfg.Name, Platform: r.job.HardwarePlatform,
		Name: name, Dir: r.dir, UID: r.uid, GID: r.gid, Command: r.command, Limits: r.limits, Prov: r.prov, Submitted: time.Now()}
	if err := e.saveBefore(r); err != nil {
		return nil, fmt.Errorf("slurm: state: %w", err)
	}
	// Saved before sbatch: a worker that dies in between finds the job by its name.
	if err := e.save(st); err != nil {
		return nil, fmt.Errorf("slurm: state: %w", err)
	}
	args := append(sbatchArgs(q, r.limits, name, r.work, logPath, r.uid, r.gid), script)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	out, err := e.command(sctx, "sbatch", args...)
	cancel()
	if err != nil {
		e.forget(r.job.ID)
		if strings.Contains(err.Error(), "Invalid") || strings.Contains(err.Error(), "invalid") || strings.Contains(err.Error(), "not available") {
			return nil, fmt.Errorf("slurm refused the batch job: %w", err)
		}
		return nil, fmt.Errorf("slurm: %w", err)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return nil, fmt.Errorf("slurm: sbatch answered %q, not a job id", strings.TrimSpace(out))
	}
	st.SlurmID = id
	if err := e.save(st); err != nil {
		return nil, fmt.Errorf("slurm: state: %w", err)
	}
	r.prov["slurm"] = e.provenance(st, q)
	desc := "partition " + q.Partition
	for _, kv := range [][2]string{{"account", q.Account}, {"qos", q.QOS}, {"gres", q.Gres}} {
		if kv[1] != "" {
			desc += ", " + kv[0] + " " + kv[1]
		}
	}
	r.log.printf("slurm: submitted batch job %s to %s (%s, %d CPUs); its output follows as it comes", id, e.cfg.Cluster, desc, q.CPUsPerTask)
	return e.watch(ctx, r, st)
}

func (e *slurmExecutor) provenance(st *slurmState, q slurmRequest) map[string]any {
	p := map[string]any{"cluster": e.cfg.Cluster, "job_id": st.SlurmID, "job_name": st.Name, "partition": q.Partition, "cpus_per_task": q.CPUsPerTask}
	for k, v := range map[string]string{"account": q.Account, "qos": q.QOS, "gres": q.Gres} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

func (e *slurmExecutor) saveBefore(r *jobRun) error {
	m := map[string][2]int64{}
	for p, s := range r.before {
		m[p] = [2]int64{s.size, s.mtime.UnixNano()}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.stateDir, fmt.Sprintf("job-%d.before.json", r.job.ID)), data, 0o600)
}

func (e *slurmExecutor) loadBefore(id int64) map[string]fileStamp {
	out := map[string]fileStamp{}
	data, err := os.ReadFile(filepath.Join(e.stateDir, fmt.Sprintf("job-%d.before.json", id)))
	if err != nil {
		return out
	}
	var m map[string][2]int64
	if json.Unmarshal(data, &m) != nil {
		return out
	}
	for p, s := range m {
		out[p] = fileStamp{size: s[0], mtime: time.Unix(0, s[1])}
	}
	return out
}

// slurmJob is what SLURM says of a job.
type slurmJob struct {
	State    string // PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, ...; "" if SLURM no longer knows it
	Reason   string
	Exit     int
	Signal   int
	RunTime  time.Duration
	NodeList string
}

func (j slurmJob) done() bool {
	switch j.State {
	case "", "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT":
		return false
	}
	return true
}

var (
	reJobState = regexp.MustCompile(`(?:^|\s)JobState=(\S+)`)
	reReason   = regexp.MustCompile(`(?:^|\s)Reason=(\S+)`)
	reExitCode = regexp.MustCompile(`(?:^|\s)ExitCode=(\d+):(\d+)`)
	reRunTime  = regexp.MustCompile(`(?:^|\s)RunTime=(\S+)`)
	reNodeList = regexp.MustCompile(`(?:^|\s)NodeList=(\S+)`)
)

// parseScontrol reads one line of `scontrol show job -o`.
func parseScontrol(line string) slurmJob {
	var j slurmJob
	if m := reJobState.FindStringSubmatch(line); m != nil {
		j.State = m[1]
	}
	if m := reReason.FindStringSubmatch(line); m != nil && m[1] != "None" {
		j.Reason = m[1]
	}
	if m := reExitCode.FindStringSubmatch(line); m != nil {
		j.Exit, _ = strconv.Atoi(m[1])
		j.Signal, _ = strconv.Atoi(m[2])
	}
	if m := reRunTime.FindStringSubmatch(line); m != nil {
		j.RunTime = parseSlurmDuration(m[1])
	}
	if m := reNodeList.FindStringSubmatch(line); m != nil && m[1] != "(null)" {
		j.NodeList = m[1]
	}
	return j
}

// parseSlurmDuration reads [D-]HH:MM:SS, MM:SS or a number of seconds.
func parseSlurmDuration(s string) time.Duration {
	days := 0
	if d, rest, ok := strings.Cut(s, "-"); ok {
		days, _ = strconv.Atoi(d)
		s = rest
	}
	secs := 0
	for _, p := range strings.Split(s, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1e9 || secs > 1e9 {
			return 0
		}
		secs = secs*60 + n
	}
	if days < 0 || days > 1e5 {
		return 0
	}
	return time.Duration(days)*24*time.Hour + time.Duration(secs)*time.Second
}

// query asks SLURM about a job: scontrol while the controller remembers it,
// else sacct where there is accounting. State "" means neither knows it.
func (e *slurmExecutor) query(ctx context.Context, id string) (slurmJob, error) {
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := e.command(qctx, "scontrol", "show", "job", "-o", id)
	if err == nil {
		return parseScontrol(out), nil
	}
	if !strings.Contains(err.Error(), "Invalid job id") {
		return slurmJob{}, err
	}
	out, serr := e.command(qctx, "sacct", "-n", "-P", "-X", "-j", id, "-o", "State,ExitCode,ElapsedRaw")
	if serr != nil {
		return slurmJob{}, nil
	}
	f := strings.Split(strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]), "|")
	if len(f) < 3 {
		return slurmJob{}, nil
	}
	j := slurmJob{State: strings.Fields(f[0] + " ")[0]}
	if a, b, ok := strings.Cut(f[1], ":"); ok {
		j.Exit, _ = strconv.Atoi(a)
		j.Signal, _ = strconv.Atoi(b)
	}
	if s, err := strconv.Atoi(f[2]); err == nil {
		j.RunTime = time.Duration(s) * time.Second
	}
	return j, nil
}

// findByName finds the SLURM job of a state saved just before sbatch answered.
func (e *slurmExecutor) findByName(ctx context.Context, name string) string {
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := e.command(qctx, "squeue", "-h", "--name="+name, "-o", "%i")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
}

func (e *slurmExecutor) cancel(ctx context.Context, id string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_, err := e.command(cctx, "scancel", "--full", id)
	return err
}

// pump copies what the SLURM job wrote to its output file since offset to
// the job's log, and returns the new offset. The file is the job's: it is
// opened without following links and read only if it is a regular file.
func (e *slurmExecutor) pump(r *jobRun, path string, offset int64) int64 {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow|syscall.O_NONBLOCK, 0)
	if err != nil {
		return offset
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= offset {
		return offset
	}
	// At most what the log keeps, per read: more is dropped by the log anyway.
	n := min(fi.Size()-offset, 4<<20)
	buf := make([]byte, n)
	k, _ := f.ReadAt(buf, offset)
	if k > 0 {
		_, _ = r.log.Write(buf[:k])
	}
	return offset + int64(k)
}

// watch follows a submitted SLURM job to its end: its output goes to the
// log, its state is read every Poll, its output size is held to the job's
// limit; a removed job is cancelled; a stopping worker lets it run on.
func (e *slurmExecutor) watch(ctx context.Context, r *jobRun, st *slurmState) (*sandboxResult, error) {
	logPath := filepath.Join(r.dir, "slurm.log")
	offset := st.LogOffset
	t := time.NewTicker(e.cfg.Poll)
	defer t.Stop()
	missing := 0
	// sent records how much of the output reached the server's log, so that
	// a worker re-attaching after a crash neither loses nor repeats output.
	sent := func() {
		if r.log.flush(ctx) == nil {
			st.LogOffset = offset
		}
		_ = e.save(st)
	}
	for {
		offset = e.pump(r, logPath, offset)
		if ctx.Err() != nil {
			cause := context.Cause(ctx)
			if errors.Is(cause, provider.ErrLeaseLost) && e.jobGone(ctx, r.job.ID) {
				cause = errRemoved
			}
			if errors.Is(cause, errRemoved) {
				st.Cancelled = "removed"
				_ = e.save(st)
				if err := e.cancel(ctx, st.SlurmID); err != nil {
					e.w.log.Warn("worker: could not cancel a removed job's SLURM job", "job", r.job.ID, "slurm_job", st.SlurmID, "error", err)
				} else {
					e.w.log.Info("worker: cancelled the SLURM job of a removed job", "job", r.job.ID, "slurm_job", st.SlurmID)
				}
				e.forget(r.job.ID)
				return &sandboxResult{Started: true, Reason: reasonCancelled, Accounting: "SLURM"}, nil
			}
			if errors.Is(cause, provider.ErrStop) {
				// The collab's quota no longer covers the job: cancel its SLURM
				// job and wait (a minute at most) for SLURM to end it, for its
				// run time (what is charged) and its last output.
				st.Cancelled = "quota"
				_ = e.save(st)
				r.log.printf("slurm: the server asked to stop the job; cancelling batch job %s", st.SlurmID)
				if err := e.cancel(ctx, st.SlurmID); err != nil {
					r.log.printf("slurm: scancel failed: %v", err)
				}
				wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
				defer wcancel()
				for wctx.Err() == nil {
					if j, err := e.query(wctx, st.SlurmID); err == nil && j.done() {
						e.pump(r, logPath, offset)
						e.forget(r.job.ID)
						return e.result(r, st, j), nil
					}
					sleep(wctx, e.cfg.Poll)
				}
				e.forget(r.job.ID)
				return &sandboxResult{Started: true, Reason: reasonCancelled, Accounting: "SLURM"}, nil
			}
			// The worker stops, or another run holds the job now: the SLURM job
			// runs on. The saved offset says what surely reached the log.
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if r.log.flush(fctx) == nil {
				st.LogOffset = offset
			}
			fcancel()
			_ = e.save(st)
			r.detached, r.detachedWhat = true, "SLURM job "+st.SlurmID
			return &sandboxResult{Started: true, Reason: reasonCancelled, Accounting: "SLURM"}, nil
		}
		j, err := e.query(ctx, st.SlurmID)
		switch {
		case err != nil:
			// The controller is away: keep watching, the job keeps running.
			e.w.log.Warn("worker: SLURM did not answer; retrying", "job", r.job.ID, "slurm_job", st.SlurmID, "error", err)
		case j.State == "":
			missing++
			if missing >= 3 {
				return &sandboxResult{Started: true, Reason: reasonSystem, Accounting: "SLURM",
					Error: fmt.Sprintf("SLURM no longer knows batch job %s (it ended while no worker watched it, longer ago than the controller remembers, and there is no accounting)", st.SlurmID)}, nil
			}
		case j.done():
			offset = e.pump(r, logPath, offset)
			sent()
			return e.result(r, st, j), nil
		default:
			missing = 0
			if r.limits.WallClock > 0 && st.Cancelled == "" && j.State == "RUNNING" && j.RunTime >= r.limits.WallClock {
				st.Cancelled = "wall-clock"
				_ = e.save(st)
				r.log.printf("slurm: the job reached its wall-clock limit of %s; cancelling batch job %s", r.limits.WallClock, st.SlurmID)
				if err := e.cancel(ctx, st.SlurmID); err != nil {
					r.log.printf("slurm: scancel failed: %v", err)
				}
			}
			if r.limits.Output > 0 && st.Cancelled == "" {
				if n := dirSize(r.dir); n > r.limits.Output {
					st.Cancelled = "output"
					_ = e.save(st)
					r.log.printf("slurm: the job wrote %s, more than its output limit; cancelling batch job %s", Bytes(n), st.SlurmID)
					if err := e.cancel(ctx, st.SlurmID); err != nil {
						r.log.printf("slurm: scancel failed: %v", err)
					}
				}
			}
		}
		sent()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// jobGone tells whether the job ended or was removed (so that its SLURM job
// has no one to run for).
func (e *slurmExecutor) jobGone(ctx context.Context, id int64) bool {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	j, err := e.w.client.Get(gctx, id, false)
	if err != nil {
		return false
	}
	switch j.Status {
	case "removed", provider.Finished, provider.Error:
		return true
	}
	return false
}

// result turns SLURM's end of a job into the supervisor's kind of result.
func (e *slurmExecutor) result(r *jobRun, st *slurmState, j slurmJob) *sandboxResult {
	res := &sandboxResult{Started: true, ExitCode: j.Exit, WallClock: j.RunTime.Seconds(), Output: dirSize(r.work),
		Accounting: "SLURM (wall clock from the controller; CPU time and memory are not measured without SLURM accounting)"}
	if j.Signal != 0 {
		res.Signal = signalName(syscall.Signal(j.Signal))
	}
	what := fmt.Sprintf("SLURM batch job %s", st.SlurmID)
	if j.NodeList != "" {
		what += " on " + j.NodeList
	}
	switch j.State {
	case "COMPLETED", "FAILED":
		switch st.Cancelled {
		case "output":
			res.Reason = reasonOutput
		case "wall-clock":
			res.Reason = reasonWallClock
		}
	case "TIMEOUT", "DEADLINE":
		res.Reason = reasonWallClock
	case "OUT_OF_MEMORY":
		res.Reason = reasonMemory
	case "CANCELLED":
		switch st.Cancelled {
		case "output":
			res.Reason = reasonOutput
		case "wall-clock":
			res.Reason = reasonWallClock
		case "removed", "quota":
			res.Reason = reasonCancelled
		default:
			res.Reason, res.Error = reasonSystem, fmt.Sprintf("%s was cancelled outside nmp (by the cluster's administrators or its policies)", what)
		}
	case "NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "LAUNCH_FAILED":
		res.Reason, res.Error = reasonRetry, fmt.Sprintf("%s ended with %s (%s), not for a fault of the job", what, j.State, slurmStateText(j.State))
	default:
		res.Reason, res.Error = reasonSystem, fmt.Sprintf("%s ended with state %s%s", what, j.State, reasonText(j.Reason))
	}
	// SLURM's memory enforcement by sampling (JobAcctGatherParams=OverMemoryKill)
	// ends a job as CANCELLED or FAILED; its step daemon says why in the output.
	if (j.State == "FAILED" || j.State == "CANCELLED") && st.Cancelled == "" && strings.Contains(r.log.tail(), "Exceeded job memory limit") {
		res.Reason, res.Error = reasonMemory, ""
		r.log.printf("slurm: %s ended: %s (SLURM killed it for its memory), exit code %d:%d, run time %s", what, j.State, j.Exit, j.Signal, j.RunTime)
		return res
	}
	if j.State == "FAILED" && j.Reason == "JobLaunchFailure" {
		res.Reason, res.Error = reasonSystem, fmt.Sprintf("%s could not start on its node (JobLaunchFailure): the node cannot reach the job's directory %s as the job's user, or the user is unknown there", what, r.dir)
	}
	r.log.printf("slurm: %s ended: %s, exit code %d:%d, run time %s", what, j.State, j.Exit, j.Signal, j.RunTime)
	return res
}

func reasonText(r string) string {
	if r == "" {
		return ""
	}
	return " (" + r + ")"
}

func slurmStateText(s string) string {
	switch s {
	case "NODE_FAIL":
		return "its node failed"
	case "BOOT_FAIL":
		return "its node did not boot"
	case "PREEMPTED":
		return "a job of higher priority preempted it"
	}
	return "it could not be launched"
}

// resume takes up a job whose SLURM job an earlier run of a worker (this
// one before a restart, or another whose lease expired) submitted.
func (e *slurmExecutor) resume(ctx context.Context, r *jobRun, st *slurmState) *outcome {
	r.dir, r.work = st.Dir, filepath.Join(st.Dir, "work")
	r.uid, r.gid, r.limits, r.command = st.UID, st.GID, st.Limits, st.Command
	if st.Prov != nil {
		r.prov = st.Prov
	}
	r.before = e.loadBefore(st.JobID)
	if st.SlurmID == "" {
		st.SlurmID = e.findByName(ctx, st.Name)
		if st.SlurmID == "" {
			// Never submitted: run the job afresh, in a new directory.
			e.forget(r.job.ID)
			if !e.w.cfg.KeepWorkDirs && within(st.Dir, e.w.cfg.WorkDir) && st.Dir != e.w.cfg.WorkDir {
				_ = os.RemoveAll(st.Dir)
			}
			r.dir, r.work, r.before = "", "", nil
			return nil
		}
	}
	prev := fmt.Sprintf("attempt %d of worker %s", st.Attempt, st.Worker)
	st.Lease, st.Worker = r.job.LeaseID(), e.w.cfg.Name
	if err := e.save(st); err != nil {
		return &outcome{status: provider.Error, kind: "system", reason: "slurm: state: " + err.Error()}
	}
	r.log.printf("slurm: re-attached to batch job %s, submitted by %s; its output follows from byte %d", st.SlurmID, prev, st.LogOffset)
	e.w.log.Info("worker: re-attached to a SLURM job", "job", r.job.ID, "slurm_job", st.SlurmID, "submitted_by", prev)
	res, err := e.watch(ctx, r, st)
	if err != nil {
		return &outcome{status: provider.Error, kind: "system", reason: err.Error()}
	}
	return r.judge(res)
}

// adopt finds the SLURM jobs this worker ran before it (re)started, and
// renews their leases: each one it still holds is run again by a slot,
// which re-attaches to the SLURM job. A job whose lease is gone is left to
// whichever run claims it next (which re-attaches too), unless it ended or
// was removed: then its SLURM job is cancelled.
func (e *slurmExecutor) adopt(ctx context.Context) []*provider.Job {
	entries, err := os.ReadDir(e.stateDir)
	if err != nil {
		return nil
	}
	var jobs []*provider.Job
	for _, de := range entries {
		n := de.Name()
		if !strings.HasPrefix(n, "job-") || !strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".before.json") {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(n, "job-"), ".json"), 10, 64)
		if err != nil {
			continue
		}
		st, ok := e.load(id)
		if !ok || st.Worker != e.w.cfg.Name || !slices.Contains(e.w.cfg.Platforms, st.Platform) {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		job, err := e.w.client.Get(gctx, id, false)
		if err == nil {
			job.Lease = &provider.Lease{ID: st.Lease, Attempt: st.Attempt}
			err = e.w.client.Renew(gctx, job)
		}
		cancel()
		switch {
		case err == nil || errors.Is(err, provider.ErrStop):
			// (A job the server asks to stop is re-attached, and then stopped.)
			e.w.log.Info("worker: still holds the lease of a job it ran on SLURM before it started; re-attaching", "job", id, "slurm_job", st.SlurmID)
			jobs = append(jobs, job)
		case errors.Is(err, provider.ErrLeaseLost) && e.jobGone(ctx, id):
			if st.SlurmID != "" {
				_ = e.cancel(ctx, st.SlurmID)
			}
			e.w.log.Info("worker: a job it ran on SLURM ended or was removed while the worker was away; its SLURM job is cancelled", "job", id, "slurm_job", st.SlurmID)
			e.forget(id)
			if !e.w.cfg.KeepWorkDirs && st.Dir != "" && within(st.Dir, e.w.cfg.WorkDir) && st.Dir != e.w.cfg.WorkDir {
				_ = os.RemoveAll(st.Dir)
			}
		default:
			e.w.log.Info("worker: a job it ran on SLURM is no longer leased to it; the run that claims it next re-attaches", "job", id, "slurm_job", st.SlurmID, "error", err)
		}
	}
	return jobs
}
