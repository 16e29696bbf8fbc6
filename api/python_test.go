package api_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/store/storetest"
)

// python is Debian's interpreter, which has python3-requests (the python3 first
// on PATH on the development machines is another one, without it).
const python = "/usr/bin/python3"

// TestPythonClientCalls runs testdata/nmpi_calls.py, which makes the HTTP calls
// of the official nmpi client, its AdminClient and the hardware providers'
// runners, against a real server on each store.
func TestPythonClientCalls(t *testing.T) {
	if err := exec.Command(python, "-c", "import requests").Run(); err != nil {
		msg := "Debian's python3 with python3-requests is needed for the nmpi compatibility test (scripts/setup installs it)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, python, "-s", "testdata/nmpi_calls.py")
		cmd.Env = append(os.Environ(),
			"NMP_URL="+b.srv.URL, "ALICE_TOKEN="+b.tok["alice"], "ADMIN_TOKEN="+b.tok["admin"],
			"LOCAL_KEY="+b.key["local"], "UMAN_KEY="+b.key["uman"], "BOB_PASSWORD=correct horse")
		out, err := cmd.CombinedOutput()
		t.Logf("nmpi_calls.py:\n%s", out)
		if err != nil {
			t.Fatalf("nmpi_calls.py failed: %v", err)
		}
		if !strings.Contains(string(out), "all nmpi calls passed") {
			t.Fatal("nmpi_calls.py did not finish")
		}
	})
}
