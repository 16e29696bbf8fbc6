package engine

import (
	"context"
	"os"
	"testing"

	"github.com/nmp-platform/nmp/network"
)

// BenchmarkRunNet runs the description named by NMP_BENCH_NET for 200 ms
// on NMP_BENCH_THREADS threads (default 1); it is skipped without it.
func BenchmarkRunNet(b *testing.B) {
	path := os.Getenv("NMP_BENCH_NET")
	if path == "" {
		b.Skip("set NMP_BENCH_NET to a description file")
	}
	threads := 1
	if os.Getenv("NMP_BENCH_THREADS") == "2" {
		threads = 2
	}
	d, err := network.ReadFile(path, network.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(d, Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	s.Run(context.Background(), 100, nil) // past the initial transient
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Run(context.Background(), 200, nil); err != nil {
			b.Fatal(err)
		}
	}
}
