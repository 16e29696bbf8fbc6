package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/notify"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
	"github.com/nmp-platform/nmp/store/postgres"
	"github.com/nmp-platform/nmp/store/sqlite"
)

const serveUsage = `usage: nmp serve [flags]

Runs the job queue server: the EBRAINS Neuromorphic Computing Platform's v3 REST
API, so that the official Python client (nmpi) and hardware providers' runners
work against it unchanged.

By default everything lives in ./nmp-data: the SQLite database (nmp.db) and the
stored output files. On first start, -bootstrap creates an administrator, a
"demo" collab with test-access quotas and a provider "local" for every platform,
and writes their token and API key to nmp-data/bootstrap.json (mode 0600).

Examples:

	nmp serve -bootstrap                       # a local server on localhost:8080
	nmp serve -addr :443 -base-url https://nmp.example.org \
	    -db postgres://nmp@db/nmp -data-dir /srv/nmp

Then, in Python:

	import nmpi
	c = nmpi.Client(token=TOKEN, job_service="http://localhost:8080",
	                user_info_endpoint="http://localhost:8080/userinfo")
	c.submit_job(source="run.py", platform="Demo", collab_id="demo")

Environment: NMP_DATABASE_URL (default of -db), NMP_SMTP_PASSWORD.
docs/server.md has the rules, the API notes and the administration guide.`

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", serveUsage)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	dataDir := fs.String("data-dir", "nmp-data", "directory for the SQLite database and stored output files")
	db := fs.String("db", "", "database: a SQLite file path, or a postgres:// URL (default $NMP_DATABASE_URL, else DATA-DIR/nmp.db)")
	baseURL := fs.String("base-url", "", "public URL of the server, for download links (default: the Host each request names)")
	status := fs.String("status", "ok", "service status: ok, down or read-only, optionally followed by ': message'")
	lease := fs.Duration("lease", 2*time.Minute, "how long a claimed job stays with its runner without a lease renewal")
	attempts := fs.Int("max-attempts", queue.MaxAttemptsDefault, "how many times a job whose runner vanished is run before it is marked as an error")
	retention := fs.Duration("retention", queue.Retention, "how long stored output files are kept")
	bootstrap := fs.Bool("bootstrap", false, "create the default administrator, demo collab and local provider if the database has none")
	smtpAddr := fs.String("smtp", "", "SMTP server host:port for e-mail notifications (default: none)")
	smtpFrom := fs.String("smtp-from", "nmp@localhost", "sender address of notifications")
	smtpUser := fs.String("smtp-user", "", "SMTP username (password in $NMP_SMTP_PASSWORD)")
	verbose := fs.Bool("v", false, "log every request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))

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

	cfg := api.Config{Store: st, Logger: logger, DataDir: *dataDir, BaseURL: *baseURL, Status: *status, Lease: *lease, Retention: *retention}
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
	rescuer := &queue.Rescuer{Store: st, Logger: logger, MaxAttempts: *attempts}
	if err := rescuer.Start(ctx); err != nil {
		return err
	}
	defer rescuer.Stop()
	cleaner := &queue.Cleaner{Store: st, Logger: logger, DataDir: *dataDir}
	if err := cleaner.Start(ctx); err != nil {
		return err
	}
	defer cleaner.Stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second}
	logger.Info("serving the nmpi v3 API", "url", "http://"+ln.Addr().String(), "status", *status)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
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
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, "", fmt.Errorf("data directory: %w", err)
		}
		db = filepath.Join(dataDir, "nmp.db")
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, "", err
	}
	return st, "sqlite " + db, nil
}

// bootstrapDefaults creates the defaults if the database has none and writes their secrets to DATA-DIR/bootstrap.json.
func bootstrapDefaults(ctx context.Context, env *Env, st store.Store, dataDir string) error {
	b, err := queue.Bootstrap(ctx, st, queue.BootstrapParams{})
	if err != nil {
		return err
	}
	if !b.Created {
		return nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	path := filepath.Join(dataDir, "bootstrap.json")
	text := fmt.Sprintf("{\n  \"admin\": %q,\n  \"token\": %q,\n  \"collab\": %q,\n  \"provider\": %q,\n  \"api_key\": %q\n}\n", b.Admin, b.Token, b.Collab, b.Provider, b.APIKey)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	fmt.Fprintf(env.Stderr, "nmp: created administrator %q, collab %q with test access, provider %q; their token and API key are in %s\n",
		b.Admin, b.Collab, b.Provider, path)
	return nil
}
