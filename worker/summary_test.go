package worker

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSummaryInputs: the summary reads only the recorded-data files the job
// wrote (by their first bytes), and the mappings the front ends reported.
func TestSummaryInputs(t *testing.T) {
	dir := t.TempDir()
	r := &jobRun{dir: dir, work: filepath.Join(dir, "work"), before: map[string]fileStamp{}}
	for _, d := range []string{"work/sub", "work/.hidden", "report"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"work/run.dat":          "\x80\x04\x95 a pickle",
		"work/sub/out.nix":      "\x89HDF\r\n\x1a\n...",
		"work/results.npz":      "PK\x03\x04 an archive",
		"work/code.zip":         "PK\x03\x04 not results",
		"work/notes.txt":        "text",
		"work/.hidden/x.pkl":    "\x80\x04 hidden",
		"work/unchanged.pkl":    "\x80\x04 from the code",
		"report/mapping-1.json": `{"neurons": [{"circuits": [0, 1]}]}`,
		"report/mapping-2.json": `not JSON`,
		"report/runs.jsonl":     `{"seed": 1}`,
	}
	for p, body := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, "work/unchanged.pkl"))
	r.before[filepath.Join(dir, "work/unchanged.pkl")] = fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if got, want := r.dataCandidates(), []string{"results.npz", "run.dat", "sub/out.nix"}; !reflect.DeepEqual(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
	maps := r.reportedMappings()
	if len(maps) != 1 || maps[0].(map[string]any)["source"] != "run 1" {
		t.Errorf("mappings %v", maps)
	}
}
