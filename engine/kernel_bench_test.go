package engine

import (
	"testing"
)

// BenchmarkCondKernel times one step of 4000 IF_cond_exp neurons (the
// COBA population) through the fast path, without delivery.
func BenchmarkCondKernel(b *testing.B) {
	s, err := New(coba(1), Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := s.pops[0]
	m := p.model.(*lifCond)
	inE, inI := make([]float64, p.Size), make([]float64, p.Size)
	in := &Input{Syn: [][]float64{inE, inI}}
	out := &Spikes{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out.IDs = out.IDs[:0]
		m.Step(int64(i), 0, p.Size, in, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(p.Size), "ns/neuron")
}
