package calib_test

import (
	"bytes"
	"compress/gzip"
	"reflect"
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/system/brainscales2/calib"
)

// TestFileRoundTrip: both encodings read back to the same configuration.
func TestFileRoundTrip(t *testing.T) {
	_, r := calibrated(t, "nmp-virtual-hx-0")
	var js, bin, gz bytes.Buffer
	if err := calib.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := calib.WriteBinary(&bin, r); err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(&gz)
	zw.Write(js.Bytes())
	zw.Close()
	t.Logf("JSON %d bytes, binary %d bytes", js.Len(), bin.Len())
	for name, data := range map[string][]byte{"json": js.Bytes(), "binary": bin.Bytes(), "json.gz": gz.Bytes()} {
		got, err := calib.Read(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got.Neuron.Neurons, r.Neuron.Neurons) || !reflect.DeepEqual(got.Globals(), r.Globals()) || got.Chip != r.Chip {
			t.Errorf("%s: the configuration read back differs", name)
		}
	}
	// Damage is detected.
	b := bytes.Clone(bin.Bytes())
	b[len(b)/2] ^= 0xff
	if _, err := calib.Read(b); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged file: %v", err)
	}
	if _, err := calib.Read([]byte(`{"format":"nmp-bss2-calibration","version":1}`)); err == nil || !strings.Contains(err.Error(), "chip") {
		t.Errorf("a file without a chip: %v", err)
	}
}

// FuzzRead: no input makes Read panic; what it accepts writes back.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"format":"nmp-bss2-calibration","version":1,"chip":"x"}`))
	f.Add([]byte("NMPCAL\x00\x01\x02\x00\x00\x00{}\x00"))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := calib.Read(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := calib.WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
	})
}
