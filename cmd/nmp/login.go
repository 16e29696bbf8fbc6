package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const loginUsage = `usage: nmp login [-server URL] [-user NAME] [-password-stdin]

Logs in to an nmp job queue server with a username and password, and saves
the token in ~/.hbptoken, where the nmpi Python client looks for it:

	nmp login -server http://localhost:8080 -user alice

	import nmpi
	c = nmpi.Client(username="alice", job_service="http://localhost:8080",
	                user_info_endpoint="http://localhost:8080/userinfo")

The password is asked on the terminal (or read from standard input with
-password-stdin). An administrator sets it with 'nmp admin user set NAME
-password-stdin'.`

func runLogin(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "login", loginUsage)
	server := fs.String("server", "http://localhost:8080", "the job queue server's URL")
	user := fs.String("user", env.Getenv("USER"), "username")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	tokenFile := fs.String("token-file", "", "where to save the token (default ~/.hbptoken)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return usagef("login: -user is required")
	}
	path := *tokenFile
	if path == "" {
		home := env.Getenv("HOME")
		if home == "" {
			return errors.New("login: $HOME is not set; give -token-file")
		}
		path = filepath.Join(home, ".hbptoken")
	}
	if !*pwStdin {
		fmt.Fprintf(env.Stderr, "Password for %s at %s: ", *user, *server)
	}
	password, err := readSecret(env, !*pwStdin)
	if err != nil {
		return err
	}
	if !*pwStdin {
		fmt.Fprintln(env.Stderr)
	}
	form := url.Values{"grant_type": {"password"}, "username": {*user}, "password": {password}, "label": {"nmp login"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*server, "/")+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var tok struct {
		AccessToken  string `json:"access_token"`
		TokenExpires string `json:"token_expires"`
		Detail       string `json:"detail"`
	}
	_ = json.Unmarshal(body, &tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		msg := tok.Detail
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return fmt.Errorf("login: %s answered %s: %s", *server, resp.Status, msg)
	}
	// ~/.hbptoken maps usernames to {"access_token": ...}; keep other users' entries.
	saved := map[string]map[string]any{}
	if old, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(old, &saved)
	}
	saved[*user] = map[string]any{"access_token": tok.AccessToken}
	data, _ := json.MarshalIndent(saved, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("login: save token: %w", err)
	}
	fmt.Fprintf(env.Stdout, "logged in as %s; token saved in %s (valid until %s)\n", *user, path, tok.TokenExpires)
	return nil
}

// readSecret reads one line; on a terminal it turns echo off meanwhile.
func readSecret(env *Env, prompt bool) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && prompt {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			cmd := exec.Command("stty", "-echo")
			cmd.Stdin = f
			if cmd.Run() == nil {
				defer func() {
					c := exec.Command("stty", "echo")
					c.Stdin = f
					_ = c.Run()
				}()
			}
		}
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("login: empty password")
	}
	return line, nil
}
