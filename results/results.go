// Package results writes and reads what a simulation recorded, in a zip
// archive laid out as numpy's .npz: a JSON document (results.json) with the
// provenance and the layout, and one .npy member per array, so that Python
// reads it with numpy alone:
//
//	r = numpy.load("results.npz")
//	meta = json.loads(r["results.json"])
//	times = r["seg0/pop0/spikes.times"]
//
// The format is documented in docs/results.md.
package results

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nmp-platform/nmp/engine"
	"github.com/nmp-platform/nmp/network"
	"github.com/nmp-platform/nmp/npy"
)

// FormatName and FormatVersion identify the format.
const (
	FormatName    = "nmp-results"
	FormatVersion = 1
	// DocumentName is the member holding the JSON document.
	DocumentName = "results.json"
	// EngineName is what produced the results, as provenance names it.
	EngineName = "nmp engine"
)

// Document is the JSON part of a results archive.
type Document struct {
	Format      string       `json:"format"`
	Version     int          `json:"version"`
	Provenance  Provenance   `json:"provenance"`
	Populations []Population `json:"populations"`
	Segments    []Segment    `json:"segments"`
}

// Provenance says how the results were obtained.
type Provenance struct {
	Engine    string             `json:"engine"`
	Version   string             `json:"version"`
	System    string             `json:"system"`
	Seed      uint64             `json:"seed"`
	Timestep  float64            `json:"timestep"`
	Threads   int                `json:"threads"`
	Started   string             `json:"started"`
	Timings   map[string]float64 `json:"timings_s"`
	Host      string             `json:"host,omitempty"`
	Source    string             `json:"source,omitempty"`
	Extra     map[string]any     `json:"extra,omitempty"`
	Simulated float64            `json:"simulated_ms"`
	Synapses  int64              `json:"synapses"`
	Neurons   int                `json:"neurons"`
}

// Population describes a population of the network.
type Population struct {
	Label    string `json:"label"`
	Size     int    `json:"size"`
	CellType string `json:"cell_type"`
}

// Segment lists the arrays of one segment.
type Segment struct {
	Index   int           `json:"index"`
	Runs    []float64     `json:"runs_ms"`
	Spikes  []SpikeRecord `json:"spikes"`
	Signals []SignalInfo  `json:"signals"`
}

// SpikeRecord names the spike arrays of a population in a segment.
type SpikeRecord struct {
	Population int    `json:"population"`
	Recorded   string `json:"recorded"`
	IDs        string `json:"ids"`
	Times      string `json:"times"`
	Count      int    `json:"count"`
}

// SignalInfo describes a sampled signal: Data names a 2-D array with one row
// per sample and one column per neuron of Indices.
type SignalInfo struct {
	Population       int     `json:"population"`
	Variable         string  `json:"variable"`
	Units            string  `json:"units"`
	TStart           float64 `json:"t_start"`
	SamplingInterval float64 `json:"sampling_interval"`
	Indices          string  `json:"indices"`
	Data             string  `json:"data"`
	Samples          int     `json:"samples"`
	// Times names the sample times (ms) of an irregularly sampled signal
	// (a hardware ADC's); empty when samples are on the regular grid.
	Times string `json:"times,omitempty"`
}

// Write writes segments of a simulation of d as an archive to w.
func Write(w io.Writer, d *network.Description, segs []*engine.Segment, prov Provenance) error {
	zw := npy.NewWriter(w)
	doc := Document{Format: FormatName, Version: FormatVersion, Provenance: prov}
	for _, p := range d.Populations {
		doc.Populations = append(doc.Populations, Population{Label: p.Label, Size: p.Size, CellType: p.CellType})
	}
	for _, seg := range segs {
		js := Segment{Index: seg.Index, Runs: seg.Runs, Spikes: []SpikeRecord{}, Signals: []SignalInfo{}}
		if js.Runs == nil {
			js.Runs = []float64{}
		}
		for pi, ps := range seg.Spikes {
			if len(ps.Recorded) == 0 {
				continue
			}
			base := fmt.Sprintf("seg%d/pop%d/spikes", seg.Index, pi)
			rec := SpikeRecord{Population: pi, Recorded: base + ".recorded", IDs: base + ".ids", Times: base + ".times", Count: len(ps.IDs)}
			if err := zw.Int32(rec.Recorded, ps.Recorded, nil); err != nil {
				return err
			}
			if err := zw.Int32(rec.IDs, ps.IDs, nil); err != nil {
				return err
			}
			if err := zw.Float64(rec.Times, ps.Times, nil); err != nil {
				return err
			}
			js.Spikes = append(js.Spikes, rec)
		}
		for k, sig := range seg.Signals {
			if sig.Samples() == 0 {
				continue
			}
			base := fmt.Sprintf("seg%d/sig%d", seg.Index, k)
			info := SignalInfo{Population: sig.Population, Variable: sig.Variable, Units: sig.Units, TStart: sig.TStart,
				SamplingInterval: sig.Interval, Indices: base + ".indices", Data: base + "." + sig.Variable, Samples: sig.Samples()}
			if err := zw.Int32(info.Indices, sig.Indices, nil); err != nil {
				return err
			}
			if err := zw.Float64(info.Data, sig.Data, []int{sig.Samples(), len(sig.Indices)}); err != nil {
				return err
			}
			if sig.Times != nil {
				if len(sig.Times) != sig.Samples() {
					return fmt.Errorf("segment %d, signal %d (%s): %d sample times for %d samples", seg.Index, k, sig.Variable, len(sig.Times), sig.Samples())
				}
				info.Times = base + ".times"
				if err := zw.Float64(info.Times, sig.Times, nil); err != nil {
					return err
				}
			}
			js.Signals = append(js.Signals, info)
		}
		doc.Segments = append(doc.Segments, js)
	}
	f, err := zw.Create(DocumentName, true)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return zw.Close()
}

// WriteFile writes the archive to path, atomically: a failed write leaves no
// partial file behind.
func WriteFile(path string, d *network.Description, segs []*engine.Segment, prov Provenance) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, d, segs, prov); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Archive is a results archive opened for reading.
type Archive struct {
	Document
	arrays map[string]*npy.Array
}

// Read reads a results archive.
func Read(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	arrays, other, err := npy.ReadArchive(f, fi.Size(), 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	js, ok := other[DocumentName]
	if !ok {
		return nil, fmt.Errorf("%s: no %s: not an nmp results archive", path, DocumentName)
	}
	a := &Archive{arrays: arrays}
	if err := json.Unmarshal(js, &a.Document); err != nil {
		return nil, fmt.Errorf("%s: %w", DocumentName, err)
	}
	return a, nil
}

// Array returns a named array of the archive, or nil.
func (a *Archive) Array(name string) *npy.Array { return a.arrays[name] }
