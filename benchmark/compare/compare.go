// Package compare holds one PyNN script's simulations on several systems
// side by side (nmp compare): what each system changed, rates and spike
// train statistics per population, and distances to the reference's
// spikes. It reads the simulation server's messages as they were recorded,
// so it needs no cooperation from the script.
package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/nmp-platform/nmp/npy"
)

// maxArchive bounds one recorded message.
const maxArchive = 4 << 30

// Run is one system's run of the script.
type Run struct {
	Platform, System, Backend string
	// JobID is the job that ran the script (through the queue), or 0.
	JobID       int64
	WallSeconds float64
	// Refused says why the system did not run the script ("" when it did).
	Refused string
	// Populations are what the simulations recorded, by population, in the
	// order of the last network built.
	Populations []*Population
	// ProjectionSizes are the connections the system made, per projection
	// (as the build reply counts them), and ProjectionLabels their labels.
	ProjectionSizes  []int
	ProjectionLabels []string
	// Mapping is the system's last mapping report (the plan's info).
	Mapping map[string]any
	// SimulatedMs is the biological time simulated.
	SimulatedMs float64
	builds      int
}

// Population is one population's spikes.
type Population struct {
	Label    string
	Size     int
	CellType string
	// Trains are the spike times (ms) of each neuron; nil when the
	// population's spikes were not recorded.
	Trains [][]float64
	// Recorded is how many neurons' spikes were recorded.
	Recorded int
}

// Add reads one recorded request and its reply.
func (r *Run) Add(req, rep []byte) error {
	_, reqOther, err := npy.ReadArchive(bytes.NewReader(req), int64(len(req)), maxArchive)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	_, repOther, err := npy.ReadArchive(bytes.NewReader(rep), int64(len(rep)), maxArchive)
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	var q struct {
		Op string `json:"op"`
	}
	var a struct {
		OK   bool           `json:"ok"`
		Info map[string]any `json:"info"`
	}
	if json.Unmarshal(reqOther["request.json"], &q) != nil || json.Unmarshal(repOther["reply.json"], &a) != nil {
		return fmt.Errorf("not a simulation server message")
	}
	if !a.OK {
		return nil
	}
	switch q.Op {
	case "build":
		r.builds++
		r.Populations, r.SimulatedMs = nil, 0
		r.ProjectionSizes, r.ProjectionLabels = nil, nil
		if sizes, ok := a.Info["projection_sizes"].([]any); ok {
			for _, s := range sizes {
				f, _ := s.(float64)
				r.ProjectionSizes = append(r.ProjectionSizes, int(f))
			}
		}
		var net struct {
			Populations []struct {
				Label string `json:"label"`
				Size  int    `json:"size"`
				Cell  struct {
					Type string `json:"type"`
				} `json:"cell"`
			} `json:"populations"`
			Projections []struct {
				Label string `json:"label"`
			} `json:"projections"`
		}
		_ = json.Unmarshal(reqOther["network.json"], &net)
		for i, p := range net.Projections {
			l := p.Label
			if l == "" {
				l = fmt.Sprintf("projection %d", i)
			}
			r.ProjectionLabels = append(r.ProjectionLabels, l)
		}
		if m, ok := a.Info["mapping"].(map[string]any); ok {
			r.Mapping = m
		}
	case "action":
		if m, ok := a.Info["mapping"].(map[string]any); ok {
			r.Mapping = m
		}
	case "data":
		raw, ok := repOther["results.npz"]
		if !ok {
			return nil
		}
		return r.addResults(raw)
	}
	return nil
}

// addResults appends a results archive's spikes to the populations.
func (r *Run) addResults(raw []byte) error {
	arrays, other, err := npy.ReadArchive(bytes.NewReader(raw), int64(len(raw)), maxArchive)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	var meta struct {
		Populations []struct {
			Label    string `json:"label"`
			Size     int    `json:"size"`
			CellType string `json:"cell_type"`
		} `json:"populations"`
		Segments []struct {
			RunsMs []float64 `json:"runs_ms"`
			Spikes []struct {
				Population int    `json:"population"`
				Recorded   string `json:"recorded"`
				IDs        string `json:"ids"`
				Times      string `json:"times"`
			} `json:"spikes"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(other["results.json"], &meta); err != nil {
		return fmt.Errorf("results.json: %w", err)
	}
	if r.Populations == nil {
		for _, p := range meta.Populations {
			r.Populations = append(r.Populations, &Population{Label: p.Label, Size: p.Size, CellType: p.CellType})
		}
	}
	for _, seg := range meta.Segments {
		offset := r.SimulatedMs
		for _, ms := range seg.RunsMs {
			r.SimulatedMs += ms
		}
		for _, sp := range seg.Spikes {
			if sp.Population < 0 || sp.Population >= len(r.Populations) {
				continue
			}
			p := r.Populations[sp.Population]
			if p.Trains == nil {
				p.Trains = make([][]float64, p.Size)
			}
			if rec := arrays[sp.Recorded]; rec != nil {
				p.Recorded = max(p.Recorded, rec.Len())
			}
			ids, times := arrays[sp.IDs], arrays[sp.Times]
			if ids == nil || times == nil || ids.Len() != times.Len() {
				return fmt.Errorf("results: spikes of population %q: missing arrays", p.Label)
			}
			for i := 0; i < ids.Len(); i++ {
				n := ids.Int(i)
				if n >= 0 && n < p.Size {
					p.Trains[n] = append(p.Trains[n], offset+times.Float(i))
				}
			}
		}
	}
	return nil
}

// Stats are one population's statistics on one system.
type Stats struct {
	Label    string `json:"label"`
	CellType string `json:"cell_type"`
	Size     int    `json:"size"`
	// Recorded is false when the script did not record the population's spikes.
	Recorded bool    `json:"recorded"`
	Spikes   int     `json:"spikes"`
	Active   int     `json:"active"`
	RateHz   float64 `json:"rate_hz"`
	// CVISI is the mean CV of the inter-spike intervals of the neurons
	// with at least 3 spikes (nil: none has).
	CVISI *float64 `json:"cv_isi"`
	// FirstSpikeMs is the earliest spike (the arrival of activity), -1 when none.
	FirstSpikeMs float64 `json:"first_spike_ms"`
	// Against the reference (absent on the reference itself):
	RateDiffHz  *float64 `json:"rate_diff_hz,omitempty"`
	VanRossum   *float64 `json:"van_rossum,omitempty"`
	FirstDiffMs *float64 `json:"first_spike_diff_ms,omitempty"`
}

// SystemReport is one system's column of the comparison.
type SystemReport struct {
	Platform    string   `json:"platform"`
	System      string   `json:"system"`
	Backend     string   `json:"backend"`
	JobID       int64    `json:"job_id,omitempty"`
	WallSeconds float64  `json:"wall_s"`
	Refused     string   `json:"refused,omitempty"`
	Changes     []string `json:"changes"`
	Populations []Stats  `json:"populations"`
}

// Report is the comparison.
type Report struct {
	Reference string         `json:"reference"`
	TauMs     float64        `json:"tau_ms"`
	Systems   []SystemReport `json:"systems"`
}

// Compare compares the runs with the first, the reference.
func Compare(runs []*Run, tauMs float64) *Report {
	rep := &Report{TauMs: tauMs}
	if len(runs) == 0 {
		return rep
	}
	ref := runs[0]
	rep.Reference = ref.Platform
	for i, r := range runs {
		sr := SystemReport{Platform: r.Platform, System: r.System, Backend: r.Backend, JobID: r.JobID, WallSeconds: r.WallSeconds, Refused: r.Refused, Changes: []string{}}
		if r.Refused == "" {
			if i > 0 {
				sr.Changes = changes(ref, r)
			}
			for k, p := range r.Populations {
				st := stats(p, r.SimulatedMs)
				if i > 0 && ref.Refused == "" {
					if rp := counterpart(ref, p, k); rp != nil && rp.Trains != nil && p.Trains != nil {
						rs := stats(rp, ref.SimulatedMs)
						d := st.RateHz - rs.RateHz
						st.RateDiffHz = &d
						v := meanVanRossum(rp.Trains, p.Trains, tauMs)
						st.VanRossum = &v
						if st.FirstSpikeMs >= 0 && rs.FirstSpikeMs >= 0 {
							f := st.FirstSpikeMs - rs.FirstSpikeMs
							st.FirstDiffMs = &f
						}
					}
				}
				sr.Populations = append(sr.Populations, st)
			}
		}
		rep.Systems = append(rep.Systems, sr)
	}
	return rep
}

func find(r *Run, label string, size int) *Population {
	for _, p := range r.Populations {
		if p.Label == label && p.Size == size {
			return p
		}
	}
	return nil
}

// counterpart is the reference's population for p (the i-th of its run):
// the one with its label and size, else the i-th if it has p's size (front
// ends of older PyNN versions name populations their own way).
func counterpart(ref *Run, p *Population, i int) *Population {
	if rp := find(ref, p.Label, p.Size); rp != nil {
		return rp
	}
	if i < len(ref.Populations) && ref.Populations[i].Size == p.Size {
		return ref.Populations[i]
	}
	return nil
}

func stats(p *Population, simMs float64) Stats {
	st := Stats{Label: p.Label, CellType: p.CellType, Size: p.Size, FirstSpikeMs: -1, Recorded: p.Trains != nil}
	var cvs []float64
	for _, tr := range p.Trains {
		st.Spikes += len(tr)
		if len(tr) > 0 {
			st.Active++
			if st.FirstSpikeMs < 0 || tr[0] < st.FirstSpikeMs {
				st.FirstSpikeMs = tr[0]
			}
		}
		if len(tr) >= 3 {
			var sum, ss float64
			n := float64(len(tr) - 1)
			for k := 1; k < len(tr); k++ {
				sum += tr[k] - tr[k-1]
			}
			mean := sum / n
			for k := 1; k < len(tr); k++ {
				d := tr[k] - tr[k-1] - mean
				ss += d * d
			}
			if mean > 0 {
				cvs = append(cvs, math.Sqrt(ss/n)/mean)
			}
		}
	}
	rec := p.Recorded
	if rec == 0 {
		rec = p.Size
	}
	if simMs > 0 && rec > 0 {
		st.RateHz = float64(st.Spikes) / float64(rec) / (simMs / 1000)
	}
	if len(cvs) > 0 {
		var s float64
		for _, c := range cvs {
			s += c
		}
		m := s / float64(len(cvs))
		st.CVISI = &m
	}
	return st
}

// VanRossum is the van Rossum distance between two spike trains (ms) with
// time constant tau (ms): sqrt of (1/tau) times the integral of the squared
// difference of the trains convolved with a causal exponential kernel. A
// train against an empty one has distance sqrt(n/2).
func VanRossum(a, b []float64, tau float64) float64 {
	k := func(x, y []float64) float64 {
		var s float64
		for _, t := range x {
			for _, u := range y {
				s += math.Exp(-math.Abs(t-u) / tau)
			}
		}
		return s
	}
	d2 := 0.5 * (k(a, a) + k(b, b) - 2*k(a, b))
	return math.Sqrt(math.Max(d2, 0))
}

// meanVanRossum averages the distance between corresponding neurons' trains.
func meanVanRossum(a, b [][]float64, tau float64) float64 {
	n := min(len(a), len(b))
	if n == 0 {
		return 0
	}
	var s float64
	for i := 0; i < n; i++ {
		s += VanRossum(a[i], b[i], tau)
	}
	return s / float64(n)
}

// causeWords are the keys of a mapping report that count something a
// system changed or lost (docs/benchmarks.md lists them for system authors).
var causeWords = []string{"dropped", "lost", "clipped", "quantised", "quantized", "discretised", "discretized", "rounded", "unplaced", "unrouted", "saturated", "warnings"}

// changes says what the system changed against the reference: cell types
// swapped, connections not made, and what its mapping reports.
func changes(ref, r *Run) []string {
	var out []string
	for k, p := range r.Populations {
		if rp := counterpart(ref, p, k); rp != nil && rp.CellType != p.CellType {
			out = append(out, fmt.Sprintf("population %q: %s instead of the reference's %s", p.Label, p.CellType, rp.CellType))
		} else if rp == nil && ref.Refused == "" {
			out = append(out, fmt.Sprintf("population %q (%d): not in the reference's network", p.Label, p.Size))
		}
	}
	if len(ref.ProjectionSizes) == len(r.ProjectionSizes) {
		for i, n := range r.ProjectionSizes {
			if m := ref.ProjectionSizes[i]; n != m {
				verb := "lost"
				if n > m {
					verb = "added"
				}
				out = append(out, fmt.Sprintf("projection %q: %d connections, the reference made %d (%d %s)", r.ProjectionLabels[i], n, m, abs(n-m), verb))
			}
		}
	}
	if list, ok := r.Mapping["changes"].([]any); ok {
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				out = append(out, fmt.Sprintf("%v: %v", m["what"], m["detail"]))
			} else {
				out = append(out, fmt.Sprint(c))
			}
		}
	}
	var found []string
	isCause := func(path string) bool {
		key := strings.ToLower(path[strings.LastIndex(path, ".")+1:])
		if i := strings.Index(key, "["); i >= 0 {
			key = key[:i]
		}
		for _, w := range causeWords {
			if strings.Contains(key, w) {
				return true
			}
		}
		return false
	}
	walk("", r.Mapping, func(path string, v any) {
		switch x := v.(type) {
		case []any:
			// A list of numbers under such a key (BrainScaleS-1's
			// lost_indices) names which items, not how many: one line.
			if len(x) > 0 && isCause(path) {
				found = append(found, fmt.Sprintf("%s: %d items (the system's mapping report)", path, len(x)))
			}
		case float64:
			if x != 0 && isCause(path) && !strings.HasSuffix(path, "]") {
				found = append(found, fmt.Sprintf("%s: %g (the system's mapping report)", path, x))
			}
		case string:
			// Texts listed under such keys (BrainScaleS-1's clipped
			// parameters, Spikey's warnings) are shown as they are.
			if isCause(path) {
				found = append(found, fmt.Sprintf("%s: %s", path, x))
			}
		}
	})
	sort.Strings(found)
	return append(out, found...)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// walk calls fn for every number and text in a JSON tree, with its dotted path.
func walk(path string, v any, fn func(string, any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "changes" && path == "" {
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			walk(p, c, fn)
		}
	case []any:
		numbers := true
		for _, c := range x {
			_, ok := c.(float64)
			numbers = numbers && ok
		}
		if numbers {
			fn(path, x)
			return
		}
		for i, c := range x {
			walk(fmt.Sprintf("%s[%d]", path, i), c, fn)
		}
	case float64, string:
		fn(path, x)
	}
}

// Text renders the report for people.
func (rep *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "One script on %d systems; the reference is %s. Van Rossum distances with tau = %g ms (0: the same spikes; sqrt(n/2): n spikes against none).\n", len(rep.Systems), rep.Reference, rep.TauMs)
	for i, s := range rep.Systems {
		fmt.Fprintf(&b, "\n== %s (system %s, PyNN backend %s)", s.Platform, s.System, s.Backend)
		if s.JobID != 0 {
			fmt.Fprintf(&b, ", job %d", s.JobID)
		}
		if s.WallSeconds > 0 {
			fmt.Fprintf(&b, ", %.1f s", s.WallSeconds)
		}
		b.WriteString("\n")
		if s.Refused != "" {
			fmt.Fprintf(&b, "  did not run the script: %s\n", s.Refused)
			continue
		}
		if i > 0 {
			if len(s.Changes) == 0 {
				b.WriteString("  changed: nothing it reports\n")
			} else {
				b.WriteString("  changed:\n")
				for _, c := range s.Changes {
					fmt.Fprintf(&b, "    - %s\n", c)
				}
			}
		}
		if len(s.Populations) == 0 {
			b.WriteString("  recorded no spikes\n")
			continue
		}
		fmt.Fprintf(&b, "  %-18s %-16s %6s %7s %9s %7s %9s", "population", "cell type", "size", "active", "rate Hz", "CV ISI", "first ms")
		if i > 0 {
			fmt.Fprintf(&b, " %10s %10s %10s", "d rate Hz", "d first ms", "van Rossum")
		}
		b.WriteString("\n")
		for _, p := range s.Populations {
			if !p.Recorded {
				fmt.Fprintf(&b, "  %-18s %-16s %6d   (spikes not recorded)\n", clip(p.Label, 18), clip(p.CellType, 16), p.Size)
				continue
			}
			first := "-"
			if p.FirstSpikeMs >= 0 {
				first = fmt.Sprintf("%.2f", p.FirstSpikeMs)
			}
			fmt.Fprintf(&b, "  %-18s %-16s %6d %7d %9.3f %7s %9s", clip(p.Label, 18), clip(p.CellType, 16), p.Size, p.Active, p.RateHz, fmtPtr(p.CVISI, "%.3f"), first)
			if i > 0 {
				fmt.Fprintf(&b, " %10s %10s %10s", fmtPtr(p.RateDiffHz, "%+.3f"), fmtPtr(p.FirstDiffMs, "%+.2f"), fmtPtr(p.VanRossum, "%.3f"))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

func fmtPtr(x *float64, f string) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf(f, *x)
}
