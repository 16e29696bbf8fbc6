package benchmark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on a results file.
const (
	MaxReportBytes   = 16 << 20
	MaxReportResults = 10000
	maxConfiguration = 1 << 20
)

// Report is a task's results file, as chapter 7.1.2 of the guidebook
// defines it.
type Report struct {
	Model     string    `json:"model"`
	Task      string    `json:"task"`
	Timestamp time.Time `json:"timestamp"`
	// Configuration is the optional copy of the model's and system's
	// parameters, kept as it was written.
	Configuration json.RawMessage `json:"configuration,omitempty"`
	Results       []Result        `json:"results"`
	// Filled names the required fields the file lacked and the harvester
	// took from the task that ran (the public hardware-benchmarks
	// repository's scripts write no model or task).
	Filled []string `json:"filled,omitempty"`
}

// Result is one numerical measure of a report.
type Result struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Value   float64  `json:"value"`
	Units   string   `json:"units,omitempty"`
	StdDev  *float64 `json:"std_dev,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Measure string   `json:"measure"`
}

// IsReport tells whether a JSON file looks like a results file (a top-level
// object with a "results" key), so that the harvester can leave a task's
// other JSON outputs alone and check only these.
func IsReport(data []byte) bool {
	if len(data) > MaxReportBytes {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(sanitizeNonFinite(data), &probe) != nil {
		return false
	}
	_, ok := probe["results"]
	return ok
}

// ParseReport reads and checks a results file. model and task are those of
// the job that wrote it: a file that names others is refused, one that
// names none gets them (and says so in Filled). Errors name the field, and
// the result by position and name.
func ParseReport(data []byte, model, task string) (*Report, error) {
	if len(data) > MaxReportBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d a results file may have", len(data), MaxReportBytes)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8 text")
	}
	var raw struct {
		Model         *string           `json:"model"`
		Task          *string           `json:"task"`
		Timestamp     *string           `json:"timestamp"`
		Configuration json.RawMessage   `json:"configuration"`
		Results       []json.RawMessage `json:"results"`
	}
	clean := sanitizeNonFinite(data)
	if err := decodeStrict(clean, &raw); err != nil {
		return nil, fmt.Errorf("must be a JSON object with model, task, timestamp and results: %w", err)
	}
	r := &Report{}
	for _, f := range []struct {
		name  string
		got   *string
		want  string
		field *string
	}{{"model", raw.Model, model, &r.Model}, {"task", raw.Task, task, &r.Task}} {
		switch {
		case f.got == nil && f.want != "":
			*f.field = f.want
			r.Filled = append(r.Filled, f.name)
		case f.got == nil:
			return nil, fmt.Errorf("%s: missing", f.name)
		case f.want != "" && *f.got != f.want:
			return nil, fmt.Errorf("%s: %q, but the job ran %s %q (the names must match benchmarks.json)", f.name, *f.got, f.name, f.want)
		default:
			if err := checkName(*f.got); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			*f.field = *f.got
		}
	}
	if raw.Timestamp == nil {
		return nil, errors.New("timestamp: missing (an ISO 8601 date and time, e.g. 2015-06-05T11:13:59.535885)")
	}
	ts, err := parseTimestamp(*raw.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	r.Timestamp = ts
	if c := bytes.TrimSpace(raw.Configuration); len(c) > 0 && string(c) != "null" {
		if len(c) > maxConfiguration {
			return nil, fmt.Errorf("configuration: more than %d bytes", maxConfiguration)
		}
		r.Configuration = append(json.RawMessage(nil), c...)
	}
	if raw.Results == nil {
		return nil, errors.New("results: missing (a list of {type, name, value, measure} records)")
	}
	if len(raw.Results) == 0 {
		return nil, errors.New("results: empty")
	}
	if len(raw.Results) > MaxReportResults {
		return nil, fmt.Errorf("results: %d records, more than %d", len(raw.Results), MaxReportResults)
	}
	seen := map[string]int{}
	for i, rr := range raw.Results {
		res, err := parseResult(rr)
		if err != nil {
			return nil, fmt.Errorf("results[%d]: %w", i, err)
		}
		if j, dup := seen[res.Name]; dup {
			return nil, fmt.Errorf("results[%d] (%q): the name is used by results[%d] too; each measurement needs a unique name", i, res.Name, j)
		}
		seen[res.Name] = i
		r.Results = append(r.Results, *res)
	}
	return r, nil
}

func parseResult(data []byte) (*Result, error) {
	var raw struct {
		Type    *string `json:"type"`
		Name    *string `json:"name"`
		Value   *number `json:"value"`
		Units   *string `json:"units"`
		StdDev  *number `json:"std_dev"`
		Min     *number `json:"min"`
		Max     *number `json:"max"`
		Measure *string `json:"measure"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, err
	}
	if raw.Name == nil {
		return nil, errors.New("name: missing")
	}
	if err := checkName(*raw.Name); err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	r := &Result{Name: *raw.Name}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("(%q) %s", r.Name, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{{"type", raw.Type, &r.Type}, {"measure", raw.Measure, &r.Measure}} {
		if f.v == nil {
			return nil, fail("%s: missing (e.g. %s)", f.name, map[string]string{"type": `"quality", "performance"`, "measure": `"norm", "time", "p-value"`}[f.name])
		}
		if err := checkName(*f.v); err != nil {
			return nil, fail("%s: %v", f.name, err)
		}
		*f.dst = *f.v
	}
	if raw.Units != nil {
		if len(*raw.Units) > maxName {
			return nil, fail("units: longer than %d bytes", maxName)
		}
		r.Units = *raw.Units
	}
	if raw.Value == nil {
		return nil, fail("value: missing (a floating point number)")
	}
	v, err := raw.Value.finite()
	if err != nil {
		return nil, fail("value: %v", err)
	}
	r.Value = v
	for _, f := range []struct {
		name string
		n    *number
		dst  **float64
	}{{"std_dev", raw.StdDev, &r.StdDev}, {"min", raw.Min, &r.Min}, {"max", raw.Max, &r.Max}} {
		if f.n == nil || f.n.null {
			continue
		}
		x, err := f.n.finite()
		if err != nil {
			return nil, fail("%s: %v", f.name, err)
		}
		*f.dst = &x
	}
	if r.StdDev != nil && *r.StdDev < 0 {
		return nil, fail("std_dev: %g is negative", *r.StdDev)
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		return nil, fail("min %g is above max %g", *r.Min, *r.Max)
	}
	return r, nil
}

// number is a JSON number that also remembers null and the non-finite
// values Python's json module writes (NaN, Infinity), which
// sanitizeNonFinite turned into marker strings.
type number struct {
	v      float64
	null   bool
	marker string
}

func (n *number) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	switch {
	case s == "null":
		n.null = true
		return nil
	case strings.HasPrefix(s, `"`+nonFiniteMark):
		n.marker = strings.Trim(strings.TrimPrefix(s, `"`+nonFiniteMark), `"`)
		return nil
	case strings.HasPrefix(s, `"`):
		return fmt.Errorf("a string, %s, where a number belongs", clip(s, 40))
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("not a number")
	}
	n.v = f
	return nil
}

func (n *number) finite() (float64, error) {
	switch {
	case n.null:
		return 0, errors.New("null where a number belongs")
	case n.marker != "":
		return 0, fmt.Errorf("%s is not a finite number (Python's json writes it for a failed computation)", n.marker)
	case math.IsNaN(n.v) || math.IsInf(n.v, 0):
		return 0, errors.New("not a finite number")
	}
	return n.v, nil
}

// nonFiniteMark is how a marker string starts in the sanitized JSON text
// (a NUL, escaped, cannot occur in a name a person wrote).
const nonFiniteMark = `\u0000nmp-nonfinite:`

// sanitizeNonFinite replaces the bare tokens NaN, Infinity and -Infinity
// that Python's json module writes (outside strings) with marker strings,
// so that the file parses and the field that holds one can be named.
func sanitizeNonFinite(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString(`"` + nonFiniteMark + tok + `"`)
				i += len(tok) - 1
				c = 0
				break
			}
		}
		if c != 0 {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// parseTimestamp reads the ISO 8601 forms Python writes: datetime.now()
// .isoformat() (no zone: taken as UTC), with or without fractions, with a
// zone offset or Z.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999-0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date and time (e.g. 2015-06-05T11:13:59.535885)", clip(s, 40))
}
