package web

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzSafeNext holds the redirect after sign-in to this server's pages,
// whatever the ?next= a link carries.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/app/jobs", "//evil.example/app/", "/app/../x", "https://evil.example", "/app/\\evil", "/app", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, Prefix+"/") || strings.HasPrefix(got, "//") || strings.Contains(got, "\\") {
			t.Fatalf("safeNext(%q) = %q leaves the pages", next, got)
		}
		if got != next && got != Prefix+"/jobs" {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}

// FuzzWantsHTML: any Accept header is read without a panic, and only a
// header that names an HTML type before JSON or */* sends a client to the pages.
func FuzzWantsHTML(f *testing.F) {
	for _, s := range []string{"text/html,application/xhtml+xml", "*/*", "application/json", ";;,,", "text/html;q=0.1, application/json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", accept)
		if wantsHTML(r) && !strings.Contains(accept, "html") {
			t.Fatalf("Accept %q sends a client to the pages", accept)
		}
	})
}

// FuzzParseDuration: the compare form's duration is read without a panic,
// and a duration it accepts is a finite number of seconds.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"600", "10m", "1h30m", "90.5", "NaN", "Inf", "-5", "1e400", "soon", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDuration(s)
		if !ok {
			return
		}
		if sec := d.Seconds(); sec != sec || sec > 1e12 || sec < -1e12 {
			t.Fatalf("parseDuration(%q) = %v", s, d)
		}
	})
}
