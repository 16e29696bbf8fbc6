package web

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nmp-platform/nmp/nmpi"
)

// humanBytes writes a size as people read it (1.5 MB).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// when writes a timestamp as the guidebook's job list does (2015-09-16 14:00:48, UTC).
func when(t any) string {
	switch v := t.(type) {
	case nmpi.Time:
		return v.Time.UTC().Format("2006-01-02 15:04:05")
	case *nmpi.Time:
		if v == nil {
			return ""
		}
		return v.Time.UTC().Format("2006-01-02 15:04:05")
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04:05")
	}
	return ""
}

// percent is part of whole, in percent, capped at 100 (0 when whole is 0).
func percent(part, whole float64) float64 {
	if whole <= 0 {
		return 0
	}
	p := 100 * part / whole
	if p > 100 {
		p = 100
	}
	if p < 0 {
		p = 0
	}
	return p
}

// excerpt is the start of a job's code as the list shows it: a URL as it is,
// a script's first non-empty line, both cut to n characters.
func excerpt(code string, n int) string {
	s := strings.TrimSpace(code)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "…"
	}
	return s
}
