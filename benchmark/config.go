package benchmark

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// ConfigName is the file at the top of a benchmark repository that lists its
// models and tasks.
const ConfigName = "benchmarks.json"

// Bounds on what a benchmark repository may ask for: a benchmarks.json is
// read from anyone's repository, so it is small or refused.
const (
	MaxConfigBytes = 1 << 20
	MaxTasks       = 1000
	maxName        = 200
	maxCommand     = 4096
	maxDescription = 10000
)

// Suite is a parsed benchmarks.json: the guidebook's list of models, each
// with its tasks.
type Suite struct {
	Models []Model `json:"models"`
}

// Model is one model of a benchmark repository.
type Model struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Tasks       []Task `json:"tasks"`
}

// Task is one task of a model: a command line, normally a PyNN script run
// with the {system} placeholder.
type Task struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	// Target lists platforms the repository names for the task (the public
	// hardware-benchmarks repository's "target" key, which the guidebook
	// does not define). For a task without {system} it says where the
	// low-level task runs; for a PyNN task it is kept and shown, and
	// {system=...} is what restricts it.
	Target []string `json:"target,omitempty"`
}

// placeholder matches {system} and {system=a,b}, as the workers do.
var placeholder = regexp.MustCompile(`\{system(=[^{}]*)?\}`)

// Backends tells how the task's command uses the placeholder: pynn is false
// for a low-level task (no placeholder); restrict lists the backends of
// {system=a,b} (nil for a plain {system}).
func (t *Task) Backends() (pynn bool, restrict []string) {
	for _, m := range placeholder.FindAllStringSubmatch(t.Command, -1) {
		pynn = true
		if m[1] != "" {
			for _, b := range strings.Split(m[1][1:], ",") {
				if b = strings.TrimSpace(b); b != "" && !containsFold(restrict, b) {
					restrict = append(restrict, b)
				}
			}
		}
	}
	return pynn, restrict
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// rawModel and rawTask are the file's layout, with fields left raw so that
// a wrong type is reported with the entry's name.
type rawEntry struct {
	Model json.RawMessage   `json:"model"`
	Tasks []json.RawMessage `json:"tasks"`
}

// ParseSuite reads and checks a benchmarks.json. Errors name the entry
// (its position and model name), the task and the field.
func ParseSuite(data []byte) (*Suite, error) {
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a benchmarks file may have", ConfigName, len(data), MaxConfigBytes)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text", ConfigName)
	}
	var entries []json.RawMessage
	if err := decodeStrict(data, &entries); err != nil {
		return nil, fmt.Errorf("%s: must be a JSON list of models, each {\"model\": {\"name\", \"description\"}, \"tasks\": [{\"name\", \"command\"}]}: %w", ConfigName, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: lists no models", ConfigName)
	}
	cfg := &Suite{}
	models := map[string]int{}
	ntasks := 0
	for i, raw := range entries {
		where := fmt.Sprintf("%s: entry %d", ConfigName, i)
		var e rawEntry
		if err := decodeStrict(raw, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var m struct {
			Name        *string `json:"name"`
			Description string  `json:"description"`
		}
		if len(e.Model) == 0 || string(e.Model) == "null" {
			return nil, fmt.Errorf("%s: no \"model\" (an object with a name and a description)", where)
		}
		if err := decodeStrict(e.Model, &m); err != nil {
			return nil, fmt.Errorf("%s: model: %w", where, err)
		}
		if m.Name == nil {
			return nil, fmt.Errorf("%s: model: no name", where)
		}
		if err := checkName(*m.Name); err != nil {
			return nil, fmt.Errorf("%s: model name: %w", where, err)
		}
		where = fmt.Sprintf("%s: entry %d (model %q)", ConfigName, i, *m.Name)
		if j, dup := models[*m.Name]; dup {
			return nil, fmt.Errorf("%s: the model is listed twice (also entry %d)", where, j)
		}
		models[*m.Name] = i
		if len(m.Description) > maxDescription {
			return nil, fmt.Errorf("%s: description: more than %d bytes", where, maxDescription)
		}
		if len(e.Tasks) == 0 {
			return nil, fmt.Errorf("%s: no tasks", where)
		}
		model := Model{Name: *m.Name, Description: m.Description}
		names := map[string]bool{}
		for k, rt := range e.Tasks {
			ntasks++
			if ntasks > MaxTasks {
				return nil, fmt.Errorf("%s: more than %d tasks", ConfigName, MaxTasks)
			}
			var t Task
			if err := decodeStrict(rt, &t); err != nil {
				return nil, fmt.Errorf("%s: tasks[%d]: %w", where, k, err)
			}
			if err := checkName(t.Name); err != nil {
				return nil, fmt.Errorf("%s: tasks[%d]: name: %w", where, k, err)
			}
			tw := fmt.Sprintf("%s: task %q", where, t.Name)
			if names[t.Name] {
				return nil, fmt.Errorf("%s: listed twice", tw)
			}
			names[t.Name] = true
			if err := checkCommand(&t); err != nil {
				return nil, fmt.Errorf("%s: command: %w", tw, err)
			}
			for j, p := range t.Target {
				if err := checkName(p); err != nil {
					return nil, fmt.Errorf("%s: target[%d]: %w", tw, j, err)
				}
			}
			model.Tasks = append(model.Tasks, t)
		}
		cfg.Models = append(cfg.Models, model)
	}
	return cfg, nil
}

// decodeStrict decodes one JSON value, refusing trailing data. Unknown keys
// are allowed: repositories may carry their own.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// jsonError rephrases encoding/json's errors for people.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Errorf("%s: a JSON %s where a %s belongs", te.Field, te.Value, goKind(te.Type.String()))
		}
		return fmt.Errorf("a JSON %s where a %s belongs", te.Value, goKind(te.Type.String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
	}
	return err
}

func goKind(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "list"
	case t == "string", t == "*string":
		return "string"
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "*float"):
		return "number"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "struct"), strings.HasPrefix(t, "benchmark."):
		return "object"
	}
	return t
}

// checkName accepts names of models, tasks and platforms: printable, one
// line, not too long.
func checkName(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case len(s) > maxName:
		return fmt.Errorf("longer than %d bytes", maxName)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%q has leading or trailing spaces", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds a control character", s)
		}
	}
	return nil
}

// checkCommand checks the command line of a task.
func checkCommand(t *Task) error {
	c := t.Command
	switch {
	case strings.TrimSpace(c) == "":
		return errors.New("empty (a task is a command line such as \"run.py {system}\")")
	case len(c) > maxCommand:
		return fmt.Errorf("longer than %d bytes", maxCommand)
	case strings.ContainsAny(c, "\n\r\x00"):
		return errors.New("more than one line")
	}
	// Unbalanced or misspelt placeholders would reach the job as literal
	// text; say so here instead.
	rest := placeholder.ReplaceAllString(c, "")
	if i := strings.Index(rest, "{system"); i >= 0 {
		return fmt.Errorf("a malformed placeholder near %q: write {system} or {system=a,b}", clip(rest[i:], 30))
	}
	for _, m := range placeholder.FindAllStringSubmatch(c, -1) {
		if m[1] != "" && strings.Trim(m[1][1:], " ,") == "" {
			return fmt.Errorf("%s lists no backends", m[0])
		}
	}
	pynn, _ := t.Backends()
	if !pynn && len(t.Target) == 0 {
		return errors.New("no {system} placeholder, so it is a low-level task, and no \"target\" names the platform it runs on")
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Platform is a platform benchmarks may run on: its name in the queue and
// its PyNN backend (what {system} becomes).
type Platform struct {
	Name    string
	Backend string
	// System is the emulated system ("reference" is the one others are
	// compared with by the compare API).
	System string `json:",omitempty"`
}

// Planned is one (task, platform) run of a configuration.
type Planned struct {
	Model, Task, Command, Platform string
}

// Skipped is a task that runs on none of the platforms, and why.
type Skipped struct {
	Model, Task, Reason string
}

// Expand turns the tasks of cfg into runs on the platforms given (those
// that run here), by the guidebook's rules: {system} runs on every
// platform; {system=a,b} on the platforms whose backend (or name) is one of
// a, b; a task without a placeholder on the platforms its target names.
// only, when not empty, restricts the result to those platforms.
func Expand(cfg *Suite, platforms []Platform, only ...string) ([]Planned, []Skipped) {
	var out []Planned
	var skipped []Skipped
	ps := append([]Platform(nil), platforms...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	for _, m := range cfg.Models {
		for _, t := range m.Tasks {
			pynn, restrict := t.Backends()
			n := 0
			for _, p := range ps {
				ok := false
				switch {
				case !pynn:
					ok = containsFold(t.Target, p.Name)
				case restrict == nil:
					ok = true
				default:
					ok = containsFold(restrict, p.Backend) || containsFold(restrict, p.Name)
				}
				if !ok || (len(only) > 0 && !containsFold(only, p.Name)) {
					continue
				}
				out = append(out, Planned{Model: m.Name, Task: t.Name, Command: t.Command, Platform: p.Name})
				n++
			}
			if n > 0 || len(only) > 0 {
				continue
			}
			var why string
			names := make([]string, len(ps))
			for i, p := range ps {
				names[i] = fmt.Sprintf("%s (%s)", p.Name, p.Backend)
			}
			switch {
			case !pynn:
				why = fmt.Sprintf("a low-level task for %s, which do not run here", strings.Join(t.Target, ", "))
			default:
				why = fmt.Sprintf("restricted to the backends %s; the platforms here are %s", strings.Join(restrict, ", "), strings.Join(names, ", "))
			}
			skipped = append(skipped, Skipped{Model: m.Name, Task: t.Name, Reason: why})
		}
	}
	return out, skipped
}
