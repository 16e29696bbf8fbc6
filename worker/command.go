package worker

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// DefaultCommand is the command of a job that names none (the guidebook's default).
const DefaultCommand = "run.py {system}"

// splitCommand splits a job's command into words, as a shell would without
// its expansions: words are separated by blanks; single quotes keep
// everything, double quotes keep blanks and take \" and \\; a backslash
// outside quotes escapes the next character. There are no pipes,
// redirections, variables or globs: the command names one program.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("command: unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("command: unterminated double quote")
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("command: empty")
	}
	return words, nil
}

var placeholder = regexp.MustCompile(`\{system(=[^{}]*)?\}`)

// substituteSystem replaces {system} with the backend, and {system=a,b} with
// the backend if it is one of a, b (the benchmark format's restriction);
// otherwise the job cannot run on this platform and an error says why.
func substituteSystem(word, backend, platform string) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(word, func(m string) string {
		if m == "{system}" {
			return backend
		}
		allowed := strings.Split(strings.TrimSuffix(strings.TrimPrefix(m, "{system="), "}"), ",")
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSpace(a), backend) {
				return backend
			}
		}
		if err == nil {
			err = fmt.Errorf("command: %s restricts the job to the backends %s, and %s's backend is %s",
				m, strings.Join(allowed, ", "), platform, backend)
		}
		return m
	})
	return out, err
}

// buildCommand turns a job's command into the program and arguments to run:
// {system} placeholders are replaced, and a Python script (a first word
// ending in .py) is run with the worker's Python interpreter, as are
// commands that start with python or python3.
func buildCommand(command, backend, platform, python string) ([]string, error) {
	if strings.TrimSpace(command) == "" {
		command = DefaultCommand
	}
	words, err := splitCommand(command)
	if err != nil {
		return nil, err
	}
	for i, w := range words {
		if words[i], err = substituteSystem(w, backend, platform); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.HasSuffix(words[0], ".py"):
		return append([]string{python}, words...), nil
	case words[0] == "python" || words[0] == "python3":
		words[0] = python
	}
	return words, nil
}

// scriptName is the file a job's pasted script is saved as: the script its
// command runs, or run.py.
func scriptName(command string) string {
	if strings.TrimSpace(command) == "" {
		return "run.py"
	}
	words, err := splitCommand(command)
	if err != nil {
		return "run.py"
	}
	w := words[0]
	if (w == "python" || w == "python3") && len(words) > 1 {
		w = words[1]
	}
	if strings.HasSuffix(w, ".py") && !strings.Contains(w, "/") && !strings.HasPrefix(w, ".") && !strings.ContainsAny(w, "{}") {
		return w
	}
	return "run.py"
}
