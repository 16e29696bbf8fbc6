package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/benchmark"
	"github.com/nmp-platform/nmp/store/storetest"
)

// TestBenchmarkReplicas runs two 'nmp serve' replicas on one PostgreSQL
// database, both with the benchmark service, and no workers (jobs stay in
// the queue, so that every submission can be counted). The benchmark
// service's passes are a queue.Duty: only the replica holding its lock
// submits runs, so each run becomes exactly one job, whichever replica
// registered the source; when that replica stops, the other takes the duty
// over and submits the next commit's runs, once.
func TestBenchmarkReplicas(t *testing.T) {
	db := storetest.PostgresSchemaURL(t)
	bin := nmpBinary(t)
	dir := reachableTempDir(t)
	p := &localServer{t: t, bin: bin, dir: dir, home: filepath.Join(dir, "home"), data: filepath.Join(dir, "data"), workRoot: filepath.Join(dir, "jobs")}
	_ = os.Mkdir(p.home, 0o700)
	repo := filepath.Join(dir, "benchmarks-repo")
	copyDir(t, filepath.Join("..", "..", "examples", "benchmarks"), repo)
	if b, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, b)
	}
	first := gitCommit(t, repo, "the examples")

	common := []string{"serve", "-db", db, "-data-dir", p.data, "-workers", "0", "-bench-local-repos", "-bench-interval", "200ms", "-bench-poll", "1h"}
	p.args = common
	p.launch("127.0.0.1:0")
	a, aURL := p.serve, p.url
	p.args = append(append([]string(nil), common...), "-bootstrap=false")
	p.launch("127.0.0.1:0")
	bURL := p.url
	p.token = readBootstrapToken(t, p.data)

	waitDuty := func(holder, other string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for metricValue(t, holder, `nmp_duty_held{duty="benchmarks"}`) != "1" || (other != "" && metricValue(t, other, `nmp_duty_held{duty="benchmarks"}`) != "0") {
			if time.Now().After(deadline) {
				t.Fatalf("the benchmark duty should run on %s only", holder)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitDuty(aURL, bURL)

	sdb, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	// every run is submitted once: one job per run, each run its own job.
	checkOnce := func(want int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		var runs []benchmark.RunDoc
		for {
			runs = p.benchRuns()
			queued := 0
			for _, r := range runs {
				if r.Status == "queued" {
					queued++
				}
			}
			if queued == 0 && len(runs) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d runs (want %d), %d still queued:\n%s", len(runs), want, queued, p.nmpOK("bench", "runs"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		// Several more passes of both replicas: nothing is submitted again.
		time.Sleep(time.Second)
		var jobs int
		if err := sdb.QueryRow("SELECT count(*) FROM jobs WHERE collab = 'benchmarks'").Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, r := range runs {
			if r.Status != "submitted" || r.JobID == nil || seen[*r.JobID] {
				t.Errorf("run %d (%s on %s): %s, job %v", r.ID, r.Task, r.Platform, r.Status, r.JobID)
				continue
			}
			seen[*r.JobID] = true
		}
		if jobs != want {
			t.Fatalf("%d benchmark jobs in the queue for %d runs: a run was submitted twice (or not at all)", jobs, want)
		}
	}

	var platforms []benchmark.Platform
	if err := json.Unmarshal([]byte(get(t, bURL+"/benchmarks/platforms")), &platforms); err != nil || len(platforms) < 2 {
		t.Fatalf("platforms: %v %+v", err, platforms)
	}
	// Registered through B; A, holding the duty, submits.
	var added benchmark.AddResponse
	out := p.nmpOK("bench", "add", "hw", "file://"+repo, "-json")
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.Source.Commit != first || len(added.Runs) == 0 {
		t.Fatalf("nmp bench add: %v\n%s", err, out)
	}
	n := len(added.Runs)
	checkOnce(n)

	// A stops; B takes the duty over and runs a new commit's benchmarks.
	a.stop(t)
	waitDuty(bURL, "")
	if err := os.WriteFile(filepath.Join(repo, "NOTES"), []byte("a new commit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCommit(t, repo, "a new commit")
	p.nmpOK("bench", "poll", "hw")
	checkOnce(2 * n)
	t.Logf("%d platforms, %d runs per commit, each submitted once by the replica holding the duty", len(platforms), n)
}
