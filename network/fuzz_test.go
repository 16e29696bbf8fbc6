package network

import (
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes, as JSON and as archives, to the decoder
// and the validator: they must return errors, never panic, and never
// allocate beyond the bound.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/archive.npz", "../examples/coba.json"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},"populations":[{"size":3,"cell_type":"IF_cond_exp","parameters":{"tau_m":[1,2,3]}}],"schedule":[{"run":1}]}`))
	f.Add([]byte(`{"populations":[{"size":2,"cell_type":"SpikeSourceArray","parameters":{"spike_times":{"ragged":{"values":[1,2],"offsets":[0,5,1]}}}}]}`))
	f.Add([]byte(`{"projections":[{"pre":[{"population":0,"indices":[0,0]}],"post":[],"connections":{"pre":[1e300],"post":[-1]}}]}`))
	f.Add([]byte(`{"format":"nmp-network","version":1,"simulation":{"timestep":0.1},"populations":[{"size":2,"cell_type":"IF_curr_exp","initial_values":{"v":{"distribution":"normal_clipped","parameters":{"mu":-65,"sigma":5,"low":"-inf","high":"inf"}}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeBytes(b, DecodeOptions{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		_ = Validate(d, Standard, Limits{MaxBytes: 1 << 20})
	})
}
