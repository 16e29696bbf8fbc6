package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nmp-platform/nmp/client"
	"github.com/nmp-platform/nmp/identity"
)

// The commands for people (submit, jobs, job, log, download, quotas,
// requests) share how they find the server and the token.
const clientHelp = `
The server is -server, else $NMP_SERVER, else http://localhost:8080. The token
is $NMP_TOKEN, else the one 'nmp login' (or the local platform's first start)
saved in ~/.hbptoken: the entry of -user (default $NMP_USER), or the only entry.`

type clientFlags struct {
	server, user, tokenFile *string
	asJSON                  *bool
}

func addClientFlags(fs *flag.FlagSet, env *Env, withJSON bool) *clientFlags {
	server := env.Getenv("NMP_SERVER")
	if server == "" {
		server = "http://localhost:8080"
	}
	c := &clientFlags{
		server:    fs.String("server", server, "the job queue server's URL"),
		user:      fs.String("user", env.Getenv("NMP_USER"), "whose token to take from the token file"),
		tokenFile: fs.String("token-file", "", "file of saved tokens (default ~/.hbptoken)"),
	}
	if withJSON {
		c.asJSON = fs.Bool("json", false, "print JSON, for scripts")
	}
	return c
}

func (c *clientFlags) json() bool { return c.asJSON != nil && *c.asJSON }

// client returns a client with the token found as clientHelp says.
func (c *clientFlags) client(env *Env) (*client.Client, error) {
	if tok := env.Getenv("NMP_TOKEN"); tok != "" {
		return client.New(*c.server, tok), nil
	}
	path := *c.tokenFile
	if path == "" {
		home := env.Getenv("HOME")
		if home == "" {
			return nil, errors.New("no token: set $NMP_TOKEN, or $HOME for ~/.hbptoken")
		}
		path = filepath.Join(home, ".hbptoken")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no token: set $NMP_TOKEN, or log in with 'nmp login -server %s -user NAME' (no %s yet)", *c.server, path)
	}
	if err != nil {
		return nil, err
	}
	var saved map[string]struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("%s: not a token file: %v", path, err)
	}
	user := *c.user
	if user == "" {
		if len(saved) != 1 {
			var names []string
			for k := range saved {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%s holds tokens for %s: choose one with -user", path, strings.Join(names, ", "))
		}
		for k := range saved {
			user = k
		}
	}
	t, ok := saved[user]
	if !ok || t.AccessToken == "" {
		return nil, fmt.Errorf("%s has no token for %s: log in with 'nmp login -server %s -user %s'", path, user, *c.server, user)
	}
	return client.New(*c.server, t.AccessToken), nil
}

// defaultCollab is the collab to use when none is given: the only one the
// user may submit to (other than their private collab, which has no quota
// unless granted some, and the platform administrators' collab).
func defaultCollab(ctx context.Context, c *client.Client, env *Env) (string, error) {
	if v := env.Getenv("NMP_COLLAB"); v != "" {
		return v, nil
	}
	u, err := c.UserInfo(ctx)
	if err != nil {
		return "", err
	}
	var editable []string
	for name, role := range u.Collabs() {
		if role != "viewer" && name != "private-"+u.PreferredUsername && name != identity.AdminCollab {
			editable = append(editable, name)
		}
	}
	sort.Strings(editable)
	if len(editable) == 1 {
		return editable[0], nil
	}
	if len(editable) == 0 {
		return "", usagef("no collab given (-collab), and %s may submit only to private-%s", u.PreferredUsername, u.PreferredUsername)
	}
	return "", usagef("no collab given (-collab): %s may submit to %s", u.PreferredUsername, strings.Join(editable, ", "))
}

// printJSON writes v as indented JSON.
func printJSON(env *Env, v any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseJobID reads a job id given as 42, /jobs/42 or a job's URL.
func parseJobID(s string) (int64, error) {
	t := strings.TrimRight(s, "/")
	if i := strings.LastIndex(t, "/"); i >= 0 {
		t = t[i+1:]
	}
	var id int64
	if _, err := fmt.Sscan(t, &id); err != nil || id <= 0 || fmt.Sprint(id) != t {
		return 0, usagef("%q is not a job id", s)
	}
	return id, nil
}
