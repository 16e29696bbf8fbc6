package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"123": 123, "4GiB": 4 << 30, "512MiB": 512 << 20, "1.5 GiB": 3 << 29, "100MB": 100e6, "2G": 2 << 30, "64KiB": 64 << 10, "0": 0} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "big", "-1GiB", "1e30GiB", "4 GiBs"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

func TestParseJobID(t *testing.T) {
	for in, want := range map[string]int64{"42": 42, "/jobs/42": 42, "http://localhost:8080/jobs/42/": 42} {
		if got, err := parseJobID(in); err != nil || got != want {
			t.Errorf("parseJobID(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "0", "-3", "4.2", "042"} {
		if _, err := parseJobID(bad); err == nil {
			t.Errorf("parseJobID(%q) succeeded", bad)
		}
	}
}
