package results

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
)

func TestWriteRead(t *testing.T) {
	d, err := network.DecodeJSON([]byte(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1,"seed":3},
	 "populations":[{"label":"cells","size":2,"cell_type":"IF_curr_exp","parameters":{"i_offset":[1,0]}}],
	 "recordings":[{"selection":[{"population":0}],"variables":["spikes","v"]}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := engine.New(d, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background(), 50, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.npz")
	segs := sim.Segments()
	if err := WriteFile(path, d, segs, Provenance{System: "reference", Seed: 3}); err != nil {
		t.Fatal(err)
	}
	a, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Format != FormatName || a.Provenance.Seed != 3 || len(a.Segments) != 1 || a.Populations[0].Label != "cells" {
		t.Fatalf("document: %+v", a.Document)
	}
	seg := a.Segments[0]
	times := a.Array(seg.Spikes[0].Times).Float64s()
	if len(times) == 0 || len(times) != len(segs[0].Spikes[0].Times) {
		t.Errorf("spike times: %d read, %d recorded", len(times), len(segs[0].Spikes[0].Times))
	}
	v := a.Array(seg.Signals[0].Data)
	if v.Shape[0] != seg.Signals[0].Samples || v.Shape[1] != 2 || v.Float(0) != segs[0].Signals[0].Data[0] {
		t.Errorf("membrane trace: shape %v", v.Shape)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.npz")); err == nil {
		t.Error("reading a missing file: no error")
	}
}
