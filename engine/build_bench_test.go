package engine

import (
	"os"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// BenchmarkBuildMicrocircuit builds the description named by NMP_BENCH_NET
// (bench/microcircuit.py --write makes one); it is skipped without it.
func BenchmarkBuildMicrocircuit(b *testing.B) {
	path := os.Getenv("NMP_BENCH_NET")
	if path == "" {
		b.Skip("set NMP_BENCH_NET to a description file")
	}
	d, err := network.ReadFile(path, network.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		s, err := New(d, Options{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.Synapses()), "synapses")
	}
}
