package spinnaker

import (
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/internal/rng"
)

// BenchmarkLIFKernel is one tick of 4000 conductance-based neurons with
// sparse input, per neuron.
func BenchmarkLIFKernel(b *testing.B) {
	for _, hom := range []bool{false, true} {
		b.Run(map[bool]string{false: "general", true: "homogeneous"}[hom], func(b *testing.B) { benchLIF(b, hom) })
	}
}

func benchLIF(b *testing.B, hom bool) {
	r := rng.New(1)
	const n = 4000
	p := testPop(&testing.T{}, "IF_cond_exp", n, &r)
	if hom {
		for _, xs := range p.Params {
			for i := range xs {
				xs[i] = xs[0]
			}
		}
	}
	m := newLIF(p, true, newRingScaleFor([nSynTypes]uint32{0, 2}, true))
	m.Prepare(0.1)
	m.Reset()
	inE, inI := make([]float64, n), make([]float64, n)
	in := &engine.Input{Syn: [][]float64{inE, inI}}
	var out engine.Spikes
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < n; k += 37 {
			inE[k] = 0.004
		}
		out.IDs = out.IDs[:0]
		m.Step(int64(i), 0, n, in, &out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/neuron")
}
