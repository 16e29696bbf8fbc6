package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/internal/buildinfo"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

// The benchmark service's user and collab in the job queue: its runs are
// their jobs, paid from the collab's preparatory-access quotas.
const (
	benchUser   = "nmp-benchmarks"
	benchCollab = "benchmarks"
)

// benchFlags are nmp serve's flags of the benchmark service.
type benchFlags struct {
	on         *bool
	interval   *time.Duration
	poll       *time.Duration
	allowLocal *bool
}

func addBenchFlags(fs *flag.FlagSet) *benchFlags {
	return &benchFlags{
		on:         fs.Bool("benchmarks", true, "run the benchmark service (docs/benchmarks.md): registered repositories' benchmarks as jobs of the collab \"benchmarks\", their measurements at /benchmarks"),
		interval:   fs.Duration("bench-interval", time.Minute, "how often the benchmark service submits queued runs, harvests ended ones and checks the systems' configurations"),
		poll:       fs.Duration("bench-poll", 5*time.Minute, "how often the benchmark service fetches a registered git repository for new commits"),
		allowLocal: fs.Bool("bench-local-repos", false, "let benchmark sources be git repositories on this machine's disk (local paths, file:// URLs)"),
	}
}

// startBenchmarks starts the benchmark service against the server at url,
// as the user nmp-benchmarks (created with the collab benchmarks and its
// quotas when missing) with a token of its own, revoked at stop. It returns
// the handler of /benchmarks and of /compare (the compare API).
//
// Its passes (triggers, polling, submitting, harvesting) are the duty
// "benchmarks": among replicas sharing a database (locker non-nil), only
// the one holding the duty's lock runs them, so that a run is submitted
// once; report tells the metrics whether this server holds it.
func startBenchmarks(ctx context.Context, st store.Store, locker store.DutyLocker, report func(string, func() bool), logger *slog.Logger, bf *benchFlags, url, dataDir, chip string, external []string) (http.Handler, func(), error) {
	if err := ensureBenchCollab(ctx, st); err != nil {
		return nil, nil, fmt.Errorf("serve: benchmarks: %w", err)
	}
	secret, tok, err := identity.IssueToken(ctx, st, benchUser, "nmp serve benchmark service", 10*365*24*time.Hour, time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("serve: benchmarks: %w", err)
	}
	duty := &queue.Duty{Name: "benchmarks", Interval: *bf.interval, Locker: locker, Logger: logger}
	var platforms []benchmark.Platform
	for _, p := range platformTable {
		if !p.TestOnly && (p.Unavailable == "" || containsString(external, p.Name)) {
			platforms = append(platforms, benchmark.Platform{Name: p.Name, Backend: p.Backend, System: p.System})
		}
	}
	svc, err := benchmark.New(benchmark.Config{Store: st, Queue: client.New(url, secret), Collab: benchCollab, Platforms: platforms,
		Fingerprint: func(name string) string { return platformFingerprint(name, chip) },
		CacheDir:    filepath.Join(dataDir, "benchmarks"), AllowLocal: *bf.allowLocal, Interval: *bf.interval, PollEvery: *bf.poll,
		Held: duty.Held, Logger: logger.With("part", "benchmarks")})
	if err != nil {
		return nil, nil, err
	}
	duty.Run = svc.Pass
	if err := svc.Start(ctx); err != nil {
		return nil, nil, err
	}
	if err := duty.Start(ctx); err != nil {
		svc.Stop()
		return nil, nil, err
	}
	report("benchmarks", duty.Held)
	stop := func() {
		duty.Stop()
		svc.Stop()
		_ = st.TokenRevoke(context.WithoutCancel(ctx), tok.ID, time.Now())
	}
	h := &benchmark.Handler{Service: svc, Store: st, Auth: &identity.Authenticator{Store: st, CacheTTL: 5 * time.Second}, Logger: logger}
	// /compare: one script on every emulated platform, as the caller's jobs.
	var emulated []benchmark.Platform
	for _, p := range platforms {
		if p.System != "" {
			emulated = append(emulated, p)
		}
	}
	cmp := &benchmark.Comparer{Server: url, Platforms: emulated, HTTP: &http.Client{Timeout: 10 * time.Minute}, Logger: logger.With("part", "compare")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/compare" || strings.HasPrefix(p, "/compare/") {
			cmp.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}), stop, nil
}

// platformFingerprint is what a platform's benchmarks depend on here: nmp's
// version, the system that emulates it, and its chip.
func platformFingerprint(name, chip string) string {
	p, _ := platformTable.Lookup(name)
	parts := []string{"nmp", buildinfo.Version(), "system", p.System}
	if p.ChipEnv != "" {
		c := chip
		if c == "" {
			c = p.DefaultChip
		}
		parts = append(parts, "chip", c)
	}
	return benchmark.Fingerprint(parts...)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ensureBenchCollab creates the benchmark service's user, its collab (the
// user an editor) and an accepted preparatory-access request, when missing.
func ensureBenchCollab(ctx context.Context, st store.Store) error {
	now := time.Now()
	if _, err := st.UserGet(ctx, benchUser); errors.Is(err, store.ErrNotFound) {
		if _, err := st.UserCreate(ctx, &store.UserCreateParams{Username: benchUser, GivenName: "nmp", FamilyName: "benchmarks", Now: now}); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	if _, err := st.CollabGet(ctx, benchCollab); errors.Is(err, store.ErrNotFound) {
		if _, err := st.CollabCreate(ctx, &store.CollabCreateParams{Name: benchCollab, Title: "nmp's benchmarks", Public: true, Now: now}); err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := st.CollabMemberSet(ctx, &store.Member{Collab: benchCollab, Username: benchUser, Role: store.RoleEditor}); err != nil {
		return err
	}
	ps, err := st.ProjectList(ctx, &store.ProjectListParams{Collab: []string{benchCollab}, Status: store.ProjectAccepted})
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		return nil
	}
	p, err := st.ProjectCreate(ctx, &store.Project{ID: queue.NewProjectID(), Collab: benchCollab, Owner: benchUser, Title: "nmp's benchmarks",
		Abstract: "The benchmark service's runs (docs/benchmarks.md).", Access: "preparatory", CreatedAt: now})
	if err != nil {
		return err
	}
	if _, err := st.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Submit: true, Now: now}); err != nil {
		return err
	}
	_, err = st.ProjectUpdate(ctx, &store.ProjectUpdateParams{ID: p.ID, Decide: ptrTo(true), Grant: queue.Grant(platformTable, "preparatory"), Now: now})
	return err
}

func ptrTo[T any](v T) *T { return &v }

// withBenchmarks serves /benchmarks and /compare from h and everything else from api.
func withBenchmarks(api, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/benchmarks" || strings.HasPrefix(p, "/benchmarks/") || p == "/compare" || strings.HasPrefix(p, "/compare/") {
			h.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
