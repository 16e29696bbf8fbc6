package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	bar := newProgressBar(&buf, "running", 0.1)
	bar.update(2500, 10000)
	line := buf.String()
	for _, want := range []string{"\rrunning [", " 25%", "250/1000 ms", "elapsed", "left"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	bar.update(10000, 10000)
	if !strings.Contains(buf.String(), "100%") {
		t.Errorf("no 100%% at the end: %q", buf.String())
	}
	bar.done()
	if out := buf.String(); !strings.HasSuffix(out, "\r") {
		t.Errorf("done does not clear the line: %q", out[len(out)-10:])
	}
}
