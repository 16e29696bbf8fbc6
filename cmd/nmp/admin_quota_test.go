package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// TestAdminQuota: an administrator lists a collab's quotas and lowers one
// from the command line; a running job the lowered quota no longer covers is
// told so in its log (its worker stops it at the next lease renewal, which
// checks the quota itself: queue.StopReason).
func TestAdminQuota(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "-data-dir", dir}, args...) }
	runOK(t, "", a("init")...)
	list := runOK(t, "", a("quota", "list", "demo")...)
	m := regexp.MustCompile(`(?m)^(\d+)\s+Demo\s+(\S+)\s`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("quota list:\n%s", list)
	}
	// A running job of demo on Demo, holding 0.4 hours.
	ctx := context.Background()
	env, _, _ := testEnv("", nil)
	st, _, err := openStore(ctx, env, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	j, err := st.JobInsert(ctx, &store.JobInsertParams{Job: store.Job{Collab: "demo", UserID: "admin", HardwarePlatform: "Demo", Code: "print(1)"}, Now: now, Reserve: 0.001})
	if err == nil {
		_, err = st.JobClaim(ctx, &store.JobClaimParams{Platform: "Demo", Owner: "local", LeaseID: "l1", Lease: time.Minute, Now: now, Hold: 0.4})
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "", a("quota", "set", m[1], "0.1")...)
	if !strings.Contains(out, "limit 0.1 hours (was "+m[2]+")") || !strings.Contains(out, "no longer fits") {
		t.Fatalf("quota set:\n%s", out)
	}
	if list := runOK(t, "", a("quota", "list", "demo")...); !regexp.MustCompile(`(?m)^` + m[1] + `\s+Demo\s+0.1\s`).MatchString(list) {
		t.Fatalf("after quota set:\n%s", list)
	}
	st, _, err = openStore(ctx, env, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log, err := st.JobLogGet(ctx, j.ID)
	if err != nil || !strings.Contains(log, "was lowered from "+m[2]+" to 0.1 hours by an administrator (nmp admin)") {
		t.Fatalf("job %d's log: %v %q", j.ID, err, log)
	}
	// Raising it again stops nothing.
	if out := runOK(t, "", a("quota", "set", m[1], "2")...); strings.Contains(out, "no longer fits") {
		t.Fatalf("raised: %s", out)
	}
	for _, bad := range [][]string{{"quota", "set", "x", "1"}, {"quota", "set", m[1], "-1"}, {"quota", "set", m[1], "NaN"}, {"quota", "set", "99999", "1"}, {"quota", "list", "nosuch"}} {
		env, _, _ := testEnv("", nil)
		if err := Run(ctx, env, a(bad...)); err == nil {
			t.Errorf("nmp admin %s was accepted", strings.Join(bad, " "))
		} else {
			t.Logf("nmp admin %s: %v", strings.Join(bad, " "), err)
		}
	}
}
