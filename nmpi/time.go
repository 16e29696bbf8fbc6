package nmpi

import (
	"bytes"
	"fmt"
	"time"
)

// Time is a point in time on the wire. It is written in UTC to the
// microsecond with a Z suffix, as pydantic v2 writes datetimes, and read in
// any RFC 3339 form, or without a zone (taken as UTC) as some servers write it.
type Time struct{ time.Time }

// Layout is how Time is written.
const Layout = "2006-01-02T15:04:05.000000Z"

// At returns t as a Time.
func At(t time.Time) Time { return Time{t} }

// AtP returns t as a *Time, nil for nil.
func AtP(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// String is t as the wire shows it.
func (t Time) String() string { return t.UTC().Format(Layout) }

// MarshalJSON writes t in Layout.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time, one without a zone, or null (the zero Time).
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("time: expected a JSON string, got %s", b)
	}
	s := string(b[1 : len(b)-1])
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("time: %q is not an RFC 3339 time", s)
}
