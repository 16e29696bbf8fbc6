package network

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad10M reads a description holding 10 million explicit
// connections (int32 indices, float64 weights and delays) from a file, as
// nmp simulate does.
func BenchmarkLoad10M(b *testing.B) {
	const n = 10_000_000
	pre, post := make([]int64, n), make([]int64, n)
	w, d := make([]float64, n), make([]float64, n)
	for i := range pre {
		pre[i], post[i] = int64(i%10000), int64((i*7)%10000)
		w[i], d[i] = 0.001*float64(i%100), 1+0.1*float64(i%20)
	}
	desc := &Description{Format: FormatName, Version: 1, Simulation: Simulation{Timestep: 0.1},
		Populations: []Population{{Size: 10000, CellType: "IF_curr_exp"}},
		Projections: []Projection{{Pre: Selection{{Population: 0}}, Post: Selection{{Population: 0}}, Synapse: Synapse{Type: "StaticSynapse"},
			Connections: &Connections{Pre: Ints(pre), Post: Ints(post), Parameters: map[string]Value{"weight": Floats(w), "delay": Floats(d)}}}}}
	var buf bytes.Buffer
	if err := (Writer{}).Encode(&buf, desc); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "10M.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := ReadFile(path, DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(d, Standard, Limits{}); err != nil {
			b.Fatal(err)
		}
		if got := d.Projections[0].Connections.Pre.Array.Len(); got != n {
			b.Fatal(fmt.Sprint("connections: ", got))
		}
	}
}
