package engine

import (
	"sync"
	"testing"
)

// BenchmarkBarrier is the cost of one barrier crossing by two threads that
// do nothing else: the floor of the per-step cost of a 2-thread run.
func BenchmarkBarrier(b *testing.B) {
	br := newBarrier(2)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < b.N; i++ {
			br.wait()
		}
	}()
	for i := 0; i < b.N; i++ {
		br.wait()
	}
	wg.Wait()
}
