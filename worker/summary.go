package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/nmp-platform/nmp/nmpi"
)

// The job's data summary (nmpi.SummaryPath): what the web interface plots.
// After the command, the worker looks for the recorded data files the job
// wrote (neo files of PyNN scripts, nmp results archives), and a small
// Python program reads them and writes their spikes and signals, downsampled,
// as JSON. Reading them may run the job's code (neo's PickleIO unpickles), so
// it runs as the job's user in the job's sandbox, like the job. The mappings
// the front ends report ($NMP_JOB_REPORT/mapping-*.json) are added. The summary
// is best effort: a failure is a line in the log, never the job's error.
const summaryExtractor = `
import json, os, sys, warnings
warnings.simplefilter("ignore")
import numpy as np

MAX_POINTS, MAX_CHANNELS, MAX_TRAINS, MAX_SPIKES = 4000, 16, 2000, 200000
panels, notes = [], []
spikes_left = [MAX_SPIKES]

def num(x):
    x = float(x)
    return x if np.isfinite(x) else None

def signal_panel(src, seg, pop, name, units, t0, dt, data, ids):
    data = np.asarray(data, dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    truncated = data.shape[1] > MAX_CHANNELS
    data, ids = data[:, :MAX_CHANNELS], list(ids)[:MAX_CHANNELS]
    step = max(1, -(-data.shape[0] // MAX_POINTS))
    vals = [[num(v) for v in data[::step, c]] for c in range(data.shape[1])]
    panels.append({"file": src, "segment": seg, "kind": "signal", "population": pop, "name": name, "units": units,
                   "t_start": float(t0), "dt": float(dt) * step, "step": step, "ids": [int(i) for i in ids],
                   "values": vals, "truncated": truncated})

def spike_panel(src, seg, pop, ids, trains, t0, t1):
    truncated = len(trains) > MAX_TRAINS
    ids, trains = ids[:MAX_TRAINS], trains[:MAX_TRAINS]
    out = []
    for t in trains:
        t = np.sort(np.asarray(t, dtype=float))[:spikes_left[0]]
        if len(t) < len(np.asarray(t)):
            truncated = True
        spikes_left[0] -= len(t)
        out.append([round(float(x), 4) for x in t])
    panels.append({"file": src, "segment": seg, "kind": "spikes", "population": pop, "ids": [int(i) for i in ids],
                   "times": out, "t_start": num(t0), "t_stop": num(t1), "truncated": truncated or spikes_left[0] <= 0})

def from_neo(src, blocks):
    import quantities as pq
    for block in blocks:
        for si, seg in enumerate(block.segments):
            by_pop = {}
            for st in seg.spiketrains:
                pop = str(st.annotations.get("source_population") or st.name or "")
                sid = next((st.annotations[k] for k in ("source_id", "channel_id", "source_index") if k in st.annotations), len(by_pop.get(pop, [])))
                by_pop.setdefault(pop, []).append((int(sid), st.rescale(pq.ms).magnitude, float(st.t_start.rescale(pq.ms)), float(st.t_stop.rescale(pq.ms))))
            for pop, trains in by_pop.items():
                trains.sort(key=lambda x: x[0])
                spike_panel(src, si, pop, [x[0] for x in trains], [x[1] for x in trains], min(x[2] for x in trains), max(x[3] for x in trains))
            for sig in seg.irregularlysampledsignals:
                # e.g. BrainScaleS-2's MADC readout: put on a regular grid as fine as its mean sampling.
                t = sig.times.rescale(pq.ms).magnitude
                if len(t) < 2:
                    continue
                dt = float(t[-1] - t[0]) / (len(t) - 1)
                grid = t[0] + dt * np.arange(len(t))
                data = np.column_stack([np.interp(grid, t, sig.magnitude[:, c]) for c in range(sig.shape[1])])
                pop = str(sig.annotations.get("source_population") or "")
                ids = sig.array_annotations.get("channel_index", sig.annotations.get("source_ids", range(sig.shape[1])))
                name = str(sig.name or "signal") + (" (%s)" % sig.annotations["device"] if sig.annotations.get("device") else "")
                signal_panel(src, si, pop, name, sig.units.dimensionality.string, float(t[0]), dt, data, list(np.ravel(np.asarray(ids))))
            for sig in seg.analogsignals:
                pop = str(sig.annotations.get("source_population") or "")
                ids = sig.array_annotations.get("channel_index", sig.annotations.get("source_ids", range(sig.shape[1])))
                units = sig.units.dimensionality.string
                signal_panel(src, si, pop, str(sig.name or "signal"), units, float(sig.t_start.rescale(pq.ms)),
                             float(sig.sampling_period.rescale(pq.ms)), sig.magnitude, list(np.ravel(np.asarray(ids))))

def from_results(src, path):
    r = np.load(path, allow_pickle=False)
    meta = json.loads(bytes(r["results.json"]))
    pops = meta.get("populations", [])
    label = lambda i: pops[i]["label"] if i < len(pops) else str(i)
    for seg in meta.get("segments", []):
        si = seg.get("index", 0)
        t1 = float(sum(seg.get("runs_ms", [])))
        for sp in seg.get("spikes", []):
            rec, ids, times = r[sp["recorded"]], r[sp["ids"]], r[sp["times"]]
            trains = [times[ids == n] for n in rec]
            spike_panel(src, si, label(sp["population"]), list(rec), trains, 0.0, t1)
        for sig in seg.get("signals", []):
            signal_panel(src, si, label(sig["population"]), sig.get("variable", "signal"), sig.get("units", ""),
                         sig["t_start"], sig["sampling_interval"], r[sig["data"]], r[sig["indices"]])
    extra = meta.get("provenance", {}).get("extra")
    return extra

mappings = []
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(b"PK") and path.endswith(".npz"):
            extra = from_results(path, path)
            if isinstance(extra, dict) and extra:
                mappings.append({"source": path, "mapping": extra})
            continue
        import neo
        if head[:1] == b"\x80":
            from neo.io import PickleIO
            obj = PickleIO(filename=path).read_block()
            blocks = obj if isinstance(obj, list) else [obj]
        else:
            blocks = neo.io.get_io(path).read_all_blocks()
        blocks = [b for b in blocks if isinstance(b, neo.Block)]
        if not blocks:
            continue
        from_neo(path, blocks)
    except Exception as e:
        notes.append("%s: not read (%s: %s)" % (path, type(e).__name__, str(e)[:200]))
print(json.dumps({"version": 1, "panels": panels, "mappings": mappings, "notes": notes}, allow_nan=False))
`

// Bounds of the summary.
const (
	maxSummaryInputs   = 20
	maxSummaryFileSize = 512 << 20
	maxSummaryBytes    = 8 << 20
	maxMappingBytes    = 1 << 20
	summaryWallClock   = 2 * time.Minute
)

// dataCandidates lists the files the job wrote that may hold recorded data:
// pickles (neo's PickleIO), HDF5 (neo's NixIO) and .npz archives (nmp results).
func (r *jobRun) dataCandidates() []string {
	var out []string
	_ = filepath.WalkDir(r.work, func(p string, d fs.DirEntry, err error) error {
		if err != nil || len(out) >= maxSummaryInputs {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != r.work {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.Size() == 0 || fi.Size() > maxSummaryFileSize {
			return nil
		}
		if b, ok := r.before[p]; ok && b.size == fi.Size() && b.mtime.Equal(fi.ModTime()) {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && r.uid > 0 && int(st.Uid) != r.uid {
			return nil
		}
		f, err := os.OpenFile(p, os.O_RDONLY|noFollow, 0)
		if err != nil {
			return nil
		}
		head := make([]byte, 8)
		n, _ := io.ReadFull(f, head)
		f.Close()
		head = head[:n]
		switch {
		case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5,
			bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")),
			bytes.HasPrefix(head, []byte("PK")) && strings.HasSuffix(p, ".npz"):
			rel, _ := filepath.Rel(r.work, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// summarize makes the job's data summary; it returns nil when there is nothing to plot.
func (r *jobRun) summarize(ctx context.Context) []byte {
	files := r.dataCandidates()
	mappings := r.reportedMappings()
	if len(files) == 0 && len(mappings) == 0 {
		return nil
	}
	doc := map[string]any{"version": 1, "panels": []any{}, "mappings": []any{}, "notes": []any{}}
	if len(files) > 0 {
		limits := r.limits
		limits.WallClock = min(limits.WallClock, summaryWallClock)
		var out boundedBuffer
		out.max = maxSummaryBytes + 1
		env := append(r.env(), "PYTHONDONTWRITEBYTECODE=1")
		argv := append([]string{r.w.cfg.Python, "-I", "-c", summaryExtractor}, files...)
		res, err := r.runTo(ctx, argv, env, limits, true, &out)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		switch {
		case err != nil:
			r.log.printf("data summary: not made: %v", err)
			return nil
		case res.Reason != "" || res.ExitCode != 0 || out.Len() > maxSummaryBytes:
			r.log.printf("data summary: not made: reading %s failed (%s)", strings.Join(files, ", "), exitText(res)+" "+res.Reason)
			return nil
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil {
			r.log.printf("data summary: not made: the reader's answer is not JSON: %v", err)
			return nil
		}
	}
	if len(mappings) > 0 {
		ms, _ := doc["mappings"].([]any)
		doc["mappings"] = append(ms, mappings...)
	}
	data, err := json.Marshal(doc)
	if err != nil || len(data) > maxSummaryBytes {
		r.log.printf("data summary: not made: larger than %s", Bytes(maxSummaryBytes))
		return nil
	}
	panels, _ := doc["panels"].([]any)
	ms, _ := doc["mappings"].([]any)
	from := files
	if len(mappings) > 0 {
		from = append(from, "the run reports")
	}
	r.log.printf("data summary: %d plots and %d mappings from %s, in %s", len(panels), len(ms), strings.Join(from, ", "), nmpi.SummaryPath)
	if notes, _ := doc["notes"].([]any); len(notes) > 0 {
		for _, n := range notes {
			r.log.printf("data summary: %v", n)
		}
	}
	return data
}

// reportedMappings reads the mappings the front ends wrote to the job's report directory.
func (r *jobRun) reportedMappings() []any {
	dir := filepath.Join(r.dir, "report")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []any
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), "mapping-") || !strings.HasSuffix(e.Name(), ".json") || len(out) >= 8 {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDONLY|noFollow, 0)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(f, maxMappingBytes+1))
		f.Close()
		var m map[string]any
		if len(b) > maxMappingBytes || json.Unmarshal(b, &m) != nil {
			continue
		}
		out = append(out, map[string]any{"source": "run " + strings.TrimSuffix(strings.TrimPrefix(e.Name(), "mapping-"), ".json"), "mapping": m})
	}
	return out
}

// uploadSummary stores the summary as the job's output file nmpi.SummaryPath.
func (r *jobRun) uploadSummary(ctx context.Context, data []byte) error {
	return r.w.retry(ctx, "upload the data summary", func(ctx context.Context) error {
		_, err := r.w.client.Upload(ctx, r.job, nmpi.SummaryPath, bytes.NewReader(data), "application/json")
		return err
	})
}
