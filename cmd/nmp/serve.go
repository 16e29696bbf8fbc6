package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/notify"
	"github.com/nmp-platform/nmp/ops"
	"github.com/nmp-platform/nmp/platform"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/postgres"
	"github.com/nmp-platform/nmp/store/sqlite"
	"github.com/nmp-platform/nmp/web"
	"github.com/nmp-platform/nmp/worker"
)

const serveUsage = `usage: nmp serve [flags]

Runs the job queue server: the EBRAINS Neuromorphic Computing Platform's v3 REST
API, so that the official Python client (nmpi) and hardware providers' runners
work against it unchanged. With no flags it is a whole local platform: the
server, on SQLite and local storage in ./nmp-data, and in-process workers that
run the jobs of every platform nmp emulates. Platforms nmp does not emulate
yet are listed as unavailable, and jobs for them are refused with the reason.

On first start it creates an administrator, a "demo" collab with test-access
quotas and a provider "local" for every platform, writes their token and API
key to nmp-data/bootstrap.json (mode 0600), saves the token in ~/.hbptoken
(entry "admin", where nmp submit and the nmpi client find it), and prints
how to submit a job. -bootstrap=false never creates them.

Examples:

	nmp serve                                  # the local platform on localhost:8080
	nmp submit examples/leak_over_threshold/run.py -wait -download results
	nmp serve -addr :443 -base-url https://nmp.example.org -workers 0 \
	    -db postgres://nmp@db/nmp -data-dir /srv/nmp -bootstrap=false

The in-process workers take the flags of 'nmp worker' (limits such as
-memory and -wall-clock, -work-dir, isolation); docs/worker.md has them.

Then, in Python:

	import nmpi
	c = nmpi.Client(token=TOKEN, job_service="http://localhost:8080",
	                user_info_endpoint="http://localhost:8080/userinfo")
	c.submit_job(source="run.py", platform="PRIMARY", collab_id="demo")

Environment: NMP_DATABASE_URL (default of -db), NMP_SMTP_PASSWORD.
docs/server.md has the rules, the API notes and the administration guide.`

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", strings.Replace(serveUsage, "PRIMARY", platformTable.Primary().Name, 1))
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	dataDir := fs.String("data-dir", "nmp-data", "directory for the SQLite database and stored output files")
	db := fs.String("db", "", "database: a SQLite file path, or a postgres:// URL (default $NMP_DATABASE_URL, else DATA-DIR/nmp.db)")
	baseURL := fs.String("base-url", "", "public URL of the server, for download links (default: the Host each request names)")
	status := fs.String("status", "ok", "service status: ok, down or read-only, optionally followed by ': message'")
	lease := fs.Duration("lease", 2*time.Minute, "how long a claimed job stays with its runner without a lease renewal")
	attempts := fs.Int("max-attempts", queue.MaxAttemptsDefault, "how many times a job whose runner vanished is run before it is marked as an error")
	rescueEvery := fs.Duration("rescue-interval", queue.RescueIntervalDefault, "how often jobs with expired leases are given back to the queue")
	retention := fs.Duration("retention", queue.Retention, "how long stored output files are kept")
	bootstrap := fs.Bool("bootstrap", true, "create the default administrator, demo collab and local provider if the database has none")
	workers := fs.Int("workers", 1, "in-process workers per platform nmp emulates (0: none; run 'nmp worker' instead)")
	external := fs.String("external", "", "platforms runners outside this process serve though nmp does not emulate them (e.g. real hardware), comma-separated")
	calHour := fs.Int("calibration-hour", queue.CalibrationHourDefault, "hour of the day (local time) of the nightly calibrations of the chips workers serve; a chip new to the server is calibrated at once (-1: neither; administrators still ask with nmp calib run -nightly)")
	wf := addWorkerFlags(fs)
	bf := addBenchFlags(fs)
	smtpAddr := fs.String("smtp", "", "SMTP server host:port for e-mail notifications (default: none)")
	smtpFrom := fs.String("smtp-from", "nmp@localhost", "sender address of notifications")
	smtpUser := fs.String("smtp-user", "", "SMTP username (password in $NMP_SMTP_PASSWORD)")
	verbose := fs.Bool("v", false, "log every request")
	logFormat := fs.String("log-format", "text", "log format: text or json (structured logs with request and job ids)")
	drainDelay := fs.Duration("drain-delay", 0, "on SIGTERM, how long /readyz answers 503 before the server stops taking requests (give the load balancer its check interval)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	if *calHour < -1 || *calHour > 23 {
		return usagef("-calibration-hour: %d is not an hour of the day (0 to 23, or -1 for none)", *calHour)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level})
	default:
		return usagef("serve: -log-format: %q is not text or json", *logFormat)
	}
	logger := slog.New(ops.LogHandler(handler))

	st, desc, err := openStore(ctx, env, *db, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	logger.Info("store open", "database", desc)

	if *bootstrap {
		if err := bootstrapDefaults(ctx, env, st, *dataDir); err != nil {
			return err
		}
	}
	var keep []string
	for _, p := range strings.Split(*external, ",") {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	var wcfg worker.Config
	if *workers > 0 {
		if wcfg, err = wf.config(); err != nil {
			return err
		}
	}
	// Jobs run as other users, and other users share the machine: the
	// server's data must be out of their reach, with or without workers.
	if err := privateDir(*dataDir); err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	var names []string
	for _, p := range platformTable {
		names = append(names, p.Name)
	}
	metrics := ops.New(st, names, logger)
	cfg := api.Config{Store: metrics.Store(st), Logger: logger, PlatformTable: platformTable, DataDir: *dataDir, BaseURL: *baseURL, Status: *status, Lease: *lease, Retention: *retention,
		Unavailable: platformTable.Unavailable(keep), CalibrateNewChips: *calHour >= 0}
	var mailer *notify.Mailer
	if *smtpAddr != "" {
		mailer, err = notify.New(notify.Config{Addr: *smtpAddr, From: *smtpFrom, Username: *smtpUser, Password: env.Getenv("NMP_SMTP_PASSWORD"), BaseURL: *baseURL, Logger: logger})
		if err != nil {
			return err
		}
		if err := mailer.Start(ctx); err != nil {
			return err
		}
		defer mailer.Stop()
		cfg.Notifier = mailer
	}
	srv, err := api.New(ctx, cfg)
	if err != nil {
		return err
	}
	// Replicas on one PostgreSQL database run each background duty once, on
	// the replica holding its lock.
	locker, _ := st.(store.DutyLocker)
	rescuer := &queue.Rescuer{Store: st, Logger: logger, MaxAttempts: *attempts, Interval: *rescueEvery, Locker: locker, OnRescue: metrics.LeaseExpired}
	if err := rescuer.Start(ctx); err != nil {
		return err
	}
	defer rescuer.Stop()
	cleaner := &queue.Cleaner{Store: st, Logger: logger, DataDir: *dataDir, Locker: locker}
	if err := cleaner.Start(ctx); err != nil {
		return err
	}
	defer cleaner.Stop()
	metrics.Duty("rescuer", rescuer.Held)
	metrics.Duty("cleaner", cleaner.Held)
	if *calHour >= 0 {
		sched := &queue.CalibrationScheduler{Store: st, Logger: logger, Hour: *calHour}
		if err := sched.Start(ctx); err != nil {
			return err
		}
		defer sched.Stop()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	local := localURL(ln.Addr())
	var bh http.Handler // /benchmarks and /compare, when the benchmark service runs
	if *bf.on {
		h, stop, err := startBenchmarks(ctx, st, locker, metrics.Duty, logger, bf, local, *dataDir, wcfg.Chip, keep)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
		bh = h
	}
	// The pages call the API, and the compare API for their comparisons, in-process.
	pages, err := web.New(web.Config{API: srv.Handler(), Compare: bh, PlatformTable: platformTable, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	var routes http.Handler = web.Mount(srv.Handler(), pages)
	if bh != nil {
		routes = withBenchmarks(routes, bh)
	}
	// Headers must arrive within 10 s; bodies at the API's minimum rate (api.Config.MinBodyRate).
	hs := &http.Server{Handler: metrics.Handler(routes), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	logger.Info("serving the nmpi v3 API", "url", "http://"+ln.Addr().String(), "status", *status)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var running []string
	if *workers > 0 {
		ws, stop, err := startLocalWorkers(ctx, st, logger, wcfg, local, *dataDir, *workers)
		if err != nil {
			_ = hs.Close()
			return err
		}
		defer stop()
		running = ws
	}
	_, statErr := os.Stat(filepath.Join(*dataDir, "bootstrap.json"))
	printInstructions(env, local, *dataDir, running, cfg.Unavailable, *workers, *bootstrap && statErr == nil)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	metrics.Drain()
	if *drainDelay > 0 {
		logger.Info("draining: /readyz answers 503", "for", drainDelay.String())
		time.Sleep(*drainDelay)
	}
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

// openStore opens the database named by db (a SQLite path or a postgres:// URL),
// or $NMP_DATABASE_URL, or dataDir/nmp.db.
func openStore(ctx context.Context, env *Env, db, dataDir string) (store.Store, string, error) {
	if db == "" {
		db = env.Getenv("NMP_DATABASE_URL")
	}
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		st, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			return nil, "", err
		}
		return st, "postgres", nil
	}
	if db == "" {
		if err := privateDir(dataDir); err != nil {
			return nil, "", err
		}
		db = filepath.Join(dataDir, "nmp.db")
	}
	// The database holds the download signing key and password hashes: it and
	// its journal are the server's alone (SQLite gives its journal files the
	// database file's mode, so the file is made first).
	if f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, "", err
	}
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			st.Close()
			return nil, "", fmt.Errorf("database: %w", err)
		}
	}
	return st, "sqlite " + db, nil
}

// privateDir makes the data directory (mode 0700, also when it existed with
// another mode): it holds the database, the bootstrap secrets and the jobs'
// output files, which no other local user may read.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

// bootstrapDefaults creates the defaults if the database has none and writes their secrets to DATA-DIR/bootstrap.json.
func bootstrapDefaults(ctx context.Context, env *Env, st store.Store, dataDir string) error {
	// The administrator gets a password too, to sign in to the web interface.
	password := newPassword()
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{PlatformTable: platformTable, AdminPassword: password})
	if err != nil {
		return err
	}
	if !b.Created {
		return nil
	}
	if err := privateDir(dataDir); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	path := filepath.Join(dataDir, "bootstrap.json")
	text := fmt.Sprintf("{\n  \"admin\": %q,\n  \"password\": %q,\n  \"token\": %q,\n  \"collab\": %q,\n  \"provider\": %q,\n  \"api_key\": %q\n}\n",
		b.Admin, password, b.Token, b.Collab, b.Provider, b.APIKey)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	fmt.Fprintf(env.Stderr, "nmp: created administrator %q, collab %q with test access, provider %q; their token and API key are in %s\n",
		b.Admin, b.Collab, b.Provider, path)
	fmt.Fprintf(env.Stderr, "nmp: sign in to the web interface as %q with the password %s (also in %s)\n", b.Admin, password, path)
	if home := env.Getenv("HOME"); home != "" {
		tf := filepath.Join(home, ".hbptoken")
		if err := saveToken(tf, b.Admin, b.Token); err != nil {
			fmt.Fprintf(env.Stderr, "nmp: could not save the administrator's token in %s: %v\n", tf, err)
		} else {
			fmt.Fprintf(env.Stderr, "nmp: the administrator's token is saved in %s (entry %q), for nmp submit and the nmpi client\n", tf, b.Admin)
		}
	}
	return nil
}

// newPassword is a random password of 80 bits, in groups of letters and digits
// that are easy to copy (no 0, 1, l or o).
func newPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// saveToken sets user's entry of a token file (~/.hbptoken), keeping the others.
func saveToken(path, user, token string) error {
	saved := map[string]map[string]any{}
	if old, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(old, &saved); err != nil {
			return fmt.Errorf("not a token file (%v); left as it is", err)
		}
	}
	saved[user] = map[string]any{"access_token": token}
	data, _ := json.MarshalIndent(saved, "", "  ")
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// localURL is the URL the in-process workers reach the server at.
func localURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// startLocalWorkers runs in-process workers for every platform nmp emulates,
// as the provider "local" (created if missing) with an API key of their own,
// revoked when they stop. It returns the platforms they run.
func startLocalWorkers(ctx context.Context, st store.Store, logger *slog.Logger, cfg worker.Config, url, dataDir string, slots int) ([]string, func(), error) {
	const name = "local"
	prov, err := st.ProviderGet(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		prov = &store.Provider{Name: name, Platforms: platformTable.Emulated(), CreatedAt: time.Now()}
		if err := st.ProviderCreate(ctx, prov); err != nil {
			return nil, nil, fmt.Errorf("serve: provider for the in-process workers: %w", err)
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("serve: %w", err)
	}
	var platforms []string
	for _, p := range platformTable.Emulated() {
		if slices.Contains(prov.Platforms, p) {
			platforms = append(platforms, p)
		}
	}
	if len(platforms) == 0 {
		logger.Warn("serve: the provider local runs none of the platforms nmp emulates; no in-process workers", "its_platforms", prov.Platforms)
		return nil, func() {}, nil
	}
	secret, key, err := identity.IssueAPIKey(ctx, st, name, "nmp serve in-process workers", 0, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("serve: API key for the in-process workers: %w", err)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, nil, err
	}
	var started []*worker.Worker
	stop := func() {
		for _, w := range started {
			w.Stop()
		}
		_ = st.APIKeyRevoke(context.WithoutCancel(ctx), key.ID, time.Now())
	}
	for _, p := range platforms {
		c := cfg
		c.Server, c.APIKey, c.Platforms, c.Slots = url, secret, []string{p}, slots
		c.Hide = append(append([]string(nil), cfg.Hide...), abs)
		c.Logger = logger.With("worker", p)
		w, err := worker.New(c)
		if err == nil {
			err = w.Start(ctx)
		}
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("serve: in-process worker for %s: %w", p, err)
		}
		started = append(started, w)
	}
	return platforms, stop, nil
}

// printInstructions tells a newcomer what runs and how to submit a job.
// defaults tells whether the bootstrap's collab "demo" and its secrets in
// DATA-DIR/bootstrap.json exist to point to.
func printInstructions(env *Env, url, dataDir string, running []string, unavailable map[string]string, slots int, defaults bool) {
	w := env.Stderr
	fmt.Fprintf(w, "\nnmp: the job queue server is ready at %s\n", url)
	for _, p := range running {
		s, _ := platformTable.Lookup(p)
		chip := ""
		if s.DefaultChip != "" {
			chip = ", chip " + s.DefaultChip
		}
		fmt.Fprintf(w, "  runs        %s: nmp's %s system (PyNN backend %q%s), %d job(s) at a time, in this process\n", p, s.System, s.Backend, chip, slots)
	}
	if len(running) == 0 {
		fmt.Fprintf(w, "  runs        no jobs in this process: start workers with 'nmp worker' (-workers 0)\n")
	}
	var names []string
	for p := range unavailable {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) > 0 {
		fmt.Fprintf(w, "  unavailable %s (not emulated yet; jobs for them are refused)\n", strings.Join(names, ", "))
	}
	collab := "demo"
	if !defaults {
		// -bootstrap=false: no demo collab and no bootstrap.json to point to.
		collab = "COLLAB"
		fmt.Fprintf(w, "  open in a browser: %s/ (the Job Manager)\n", url)
		fmt.Fprintf(w, "  no defaults were created (-bootstrap=false): add users, a collab and its grant with 'nmp admin' (docs/server.md), then\n")
	} else {
		fmt.Fprintf(w, "  open in a browser: %s/ (the Job Manager; sign in as admin, the password is in %s)\n", url, filepath.Join(dataDir, "bootstrap.json"))
	}
	fmt.Fprintf(w, "  submit a job from another terminal:\n")
	ex := exampleOf(running)
	command := ""
	if ex.ExampleCommand != "" {
		command = " -command " + ex.ExampleCommand
	}
	fmt.Fprintf(w, "      nmp submit %s -platform %s%s -server %s -collab %s -wait -download nmp-results\n", ex.Example, ex.Name, command, url, collab)
	if defaults {
		fmt.Fprintf(w, "  or from Python, with the administrator's token from %s:\n", filepath.Join(dataDir, "bootstrap.json"))
	} else {
		fmt.Fprintf(w, "  or from Python, with a token from 'nmp login' or 'nmp admin token add USER':\n")
	}
	fmt.Fprintf(w, "      c = nmpi.Client(token=TOKEN, job_service=%q, user_info_endpoint=%q)\n", url, url+"/userinfo")
	fmt.Fprintf(w, "      job = c.submit_job(source=\"run.py\", platform=%q, collab_id=%q, wait=True)\n\n", platformTable.Primary().Name, collab)
}

// exampleOf is the platform whose example the ready message shows: the
// first running platform of the table that has one, else the primary
// platform.
func exampleOf(running []string) platform.Platform {
	for _, p := range platformTable {
		if p.Example != "" && slices.Contains(running, p.Name) {
			return p
		}
	}
	return platformTable.Primary()
}
