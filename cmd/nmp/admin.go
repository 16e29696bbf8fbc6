package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nmp-platform/nmp/identity"
	"github.com/nmp-platform/nmp/queue"
	"github.com/nmp-platform/nmp/store"
)

const adminUsage = `usage: nmp admin [-db DB] [-data-dir DIR] <noun> <verb> [arguments]

Administers a job queue server's database directly (it may be running). nmp is
its own identity provider: people log in with tokens, hardware providers' runners
with API keys bound to their platforms.

	init [-password-stdin]              create the defaults: administrator "admin" with a
	                                    token, collab "demo" with test access, provider "local"
	user add NAME [-email E] [-given G] [-family F] [-admin] [-password-stdin]
	user list
	user set NAME [-admin=true|false] [-email E] [-password-stdin]
	collab add NAME [-public] [-title T]
	collab list
	collab member COLLAB USER ROLE      ROLE: viewer, editor, administrator, or none to remove
	collab members COLLAB
	grant COLLAB [-access test|preparatory]
	                                    an accepted resource request with the access's quotas
	quota list COLLAB                   the quotas of the collab's accepted requests, with their ids
	quota set ID LIMIT                  change a quota's limit; running jobs that no longer fit
	                                    are stopped by their workers and charged what they used
	token add USER [-ttl 720h] [-label L]   prints a new token (shown once)
	token list [USER]
	token revoke ID
	provider add NAME PLATFORM...       a hardware provider and the platforms it runs
	provider list
	key add PROVIDER [-ttl 0] [-label L]    prints a new API key (shown once; ttl 0: no expiry)
	key revoke ID

Example: give alice a token and editor rights in collab "lab":

	nmp admin user add alice -email alice@example.org
	nmp admin collab add lab
	nmp admin collab member lab alice editor
	nmp admin grant lab
	nmp admin token add alice

A running server trusts a checked token for up to 5 seconds, so a revocation
or a change of roles takes effect within that time.`

func runAdmin(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "admin", adminUsage)
	db := fs.String("db", "", "database: a SQLite file path, or a postgres:// URL (default $NMP_DATABASE_URL, else DATA-DIR/nmp.db)")
	dataDir := fs.String("data-dir", "nmp-data", "the server's data directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usagef("admin: missing command (run 'nmp admin -h')")
	}
	st, _, err := openStore(ctx, env, *db, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	a := &admin{ctx: ctx, env: env, st: st, dataDir: *dataDir, now: time.Now()}
	noun, verb := rest[0], ""
	if len(rest) > 1 {
		verb = rest[1]
	}
	switch noun + " " + verb {
	case "init " + verb:
		return a.init(rest[1:])
	case "grant " + verb:
		return a.grant(rest[1:])
	case "user add":
		return a.userAdd(rest[2:])
	case "user list":
		return a.userList()
	case "user set":
		return a.userSet(rest[2:])
	case "collab add":
		return a.collabAdd(rest[2:])
	case "collab list":
		return a.collabList()
	case "collab member":
		return a.collabMember(rest[2:])
	case "collab members":
		return a.collabMembers(rest[2:])
	case "token add":
		return a.tokenAdd(rest[2:])
	case "token list":
		return a.tokenList(rest[2:])
	case "token revoke":
		return a.tokenRevoke(rest[2:])
	case "provider add":
		return a.providerAdd(rest[2:])
	case "provider list":
		return a.providerList()
	case "key add":
		return a.keyAdd(rest[2:])
	case "key revoke":
		return a.keyRevoke(rest[2:])
	case "quota list":
		return a.quotaList(rest[2:])
	case "quota set":
		return a.quotaSet(rest[2:])
	}
	return usagef("admin: unknown command %q (run 'nmp admin -h')", strings.TrimSpace(noun+" "+verb))
}

type admin struct {
	ctx     context.Context
	env     *Env
	st      store.Store
	dataDir string
	now     time.Time
}

// parse parses flags that may come before or after the positional arguments.
func (a *admin) parse(fs *flag.FlagSet, args []string, npos int, what string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if npos >= 0 && len(pos) != npos {
		return nil, usagef("admin: %s", what)
	}
	return pos, nil
}

func (a *admin) sub(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nmp admin "+name, flag.ContinueOnError)
	fs.SetOutput(a.env.Stderr)
	return fs
}

func (a *admin) readPassword() (string, error) {
	line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (a *admin) init(args []string) error {
	fs := a.sub("init")
	pwStdin := fs.Bool("password-stdin", false, "read the administrator's password from standard input")
	if _, err := a.parse(fs, args, 0, "usage: init [-password-stdin]"); err != nil {
		return err
	}
	p := queue.BootstrapParams{Now: a.now, PlatformTable: platformTable}
	if *pwStdin {
		pw, err := a.readPassword()
		if err != nil {
			return err
		}
		if err := identity.CheckNewPassword("admin", pw); err != nil {
			return err
		}
		p.AdminPassword = pw
	}
	b, err := queue.Bootstrap(a.ctx, a.st, p)
	if err != nil {
		return err
	}
	if !b.Created {
		return fmt.Errorf("init: this database has an administrator %q already; nothing changed", b.Admin)
	}
	fmt.Fprintf(a.env.Stdout, "administrator: %s\ntoken:         %s\ncollab:        %s (test access, resource request %s)\nprovider:      %s\napi key:       %s\n",
		b.Admin, b.Token, b.Collab, b.ProjectID, b.Provider, b.APIKey)
	return nil
}

func (a *admin) grant(args []string) error {
	fs := a.sub("grant")
	access := fs.String("access", queue.AccessTest, "test or preparatory")
	pos, err := a.parse(fs, args, 1, "usage: grant COLLAB [-access test|preparatory]")
	if err != nil {
		return err
	}
	if *access != queue.AccessTest && *access != queue.AccessPreparatory {
		return usagef("admin grant: -access must be test or preparatory")
	}
	collab := pos[0]
	if _, err := a.st.CollabGet(a.ctx, collab); err != nil {
		return err
	}
	pr, err := a.st.ProjectCreate(a.ctx, &store.Project{ID: queue.NewProjectID(), Collab: collab, Owner: "admin", Title: *access + " access for collab " + collab,
		Abstract: "Granted with nmp admin grant.", Access: *access, CreatedAt: a.now})
	if err != nil {
		return err
	}
	yes := true
	pr, err = a.st.ProjectUpdate(a.ctx, &store.ProjectUpdateParams{ID: pr.ID, Decide: &yes, Grant: queue.Grant(platformTable, *access), Now: a.now})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "accepted resource request %s for collab %s:\n", pr.ID, collab)
	for _, q := range pr.Quotas {
		fmt.Fprintf(a.env.Stdout, "  %-16s %g %s\n", q.Platform, q.Limit, q.Units)
	}
	return nil
}

func (a *admin) userAdd(args []string) error {
	fs := a.sub("user add")
	email := fs.String("email", "", "e-mail address (for notifications)")
	given := fs.String("given", "", "given name")
	family := fs.String("family", "", "family name")
	isAdmin := fs.Bool("admin", false, "make the user a platform administrator")
	pwStdin := fs.Bool("password-stdin", false, "read a password from standard input (enables 'nmp login')")
	pos, err := a.parse(fs, args, 1, "usage: user add NAME [flags]")
	if err != nil {
		return err
	}
	if err := identity.CheckUsername(pos[0]); err != nil {
		return err
	}
	hash := ""
	if *pwStdin {
		pw, err := a.readPassword()
		if err != nil {
			return err
		}
		if err := identity.CheckNewPassword(pos[0], pw); err != nil {
			return err
		}
		if hash, err = identity.HashPassword(pw, 0); err != nil {
			return err
		}
	}
	u, err := a.st.UserCreate(a.ctx, &store.UserCreateParams{Username: pos[0], Email: *email, GivenName: *given, FamilyName: *family, PasswordHash: hash, Admin: *isAdmin, Now: a.now})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "created user %s\n", u.Username)
	return nil
}

func (a *admin) userList() error {
	us, err := a.st.UserList(a.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tADMIN\tPASSWORD\tEMAIL\tNAME")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%v\t%v\t%s\t%s\n", u.Username, u.Admin, u.PasswordHash != "", u.Email, strings.TrimSpace(u.GivenName+" "+u.FamilyName))
	}
	return tw.Flush()
}

func (a *admin) userSet(args []string) error {
	fs := a.sub("user set")
	email := fs.String("email", "", "new e-mail address")
	isAdmin := fs.String("admin", "", "true or false")
	pwStdin := fs.Bool("password-stdin", false, "read a new password from standard input")
	pos, err := a.parse(fs, args, 1, "usage: user set NAME [flags]")
	if err != nil {
		return err
	}
	up := &store.UserUpdateParams{Username: pos[0]}
	if *email != "" {
		up.Email = email
	}
	switch *isAdmin {
	case "":
	case "true", "false":
		v := *isAdmin == "true"
		up.Admin = &v
	default:
		return usagef("admin user set: -admin must be true or false")
	}
	if *pwStdin {
		pw, err := a.readPassword()
		if err != nil {
			return err
		}
		if err := identity.CheckNewPassword(pos[0], pw); err != nil {
			return err
		}
		h, err := identity.HashPassword(pw, 0)
		if err != nil {
			return err
		}
		up.PasswordHash = &h
	}
	u, err := a.st.UserUpdate(a.ctx, up)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "updated user %s (admin %v)\n", u.Username, u.Admin)
	return nil
}

func (a *admin) collabAdd(args []string) error {
	fs := a.sub("collab add")
	public := fs.Bool("public", false, "anyone logged in may view the collab's jobs and results")
	title := fs.String("title", "", "title")
	pos, err := a.parse(fs, args, 1, "usage: collab add NAME [-public] [-title T]")
	if err != nil {
		return err
	}
	c, err := a.st.CollabCreate(a.ctx, &store.CollabCreateParams{Name: pos[0], Title: *title, Public: *public, Now: a.now})
	if err != nil {
		return err
	}
	vis := "private"
	if c.Public {
		vis = "public"
	}
	fmt.Fprintf(a.env.Stdout, "created %s collab %s\n", vis, c.Name)
	return nil
}

func (a *admin) collabList() error {
	cs, err := a.st.CollabList(a.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLAB\tPUBLIC\tTITLE")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%v\t%s\n", c.Name, c.Public, c.Title)
	}
	return tw.Flush()
}

func (a *admin) collabMember(args []string) error {
	pos, err := a.parse(a.sub("collab member"), args, 3, "usage: collab member COLLAB USER viewer|editor|administrator|none")
	if err != nil {
		return err
	}
	collab, user, role := pos[0], pos[1], pos[2]
	switch role {
	case "none":
		if err := a.st.CollabMemberRemove(a.ctx, collab, user); err != nil {
			return err
		}
		fmt.Fprintf(a.env.Stdout, "removed %s from collab %s\n", user, collab)
		return nil
	case store.RoleViewer, store.RoleEditor, store.RoleAdministrator:
	default:
		return usagef("admin collab member: role %q is not viewer, editor, administrator or none", role)
	}
	if err := a.st.CollabMemberSet(a.ctx, &store.Member{Collab: collab, Username: user, Role: role}); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "%s is %s of collab %s\n", user, role, collab)
	return nil
}

func (a *admin) collabMembers(args []string) error {
	pos, err := a.parse(a.sub("collab members"), args, 1, "usage: collab members COLLAB")
	if err != nil {
		return err
	}
	ms, err := a.st.CollabMemberList(a.ctx, &store.CollabMemberListParams{Collab: pos[0]})
	if err != nil {
		return err
	}
	for _, m := range ms {
		fmt.Fprintf(a.env.Stdout, "%s\t%s\n", m.Username, m.Role)
	}
	return nil
}

func (a *admin) tokenAdd(args []string) error {
	fs := a.sub("token add")
	ttl := fs.Duration("ttl", 30*24*time.Hour, "lifetime")
	label := fs.String("label", "admin", "label, to recognise the token in lists")
	pos, err := a.parse(fs, args, 1, "usage: token add USER [-ttl 720h] [-label L]")
	if err != nil {
		return err
	}
	secret, t, err := identity.IssueToken(a.ctx, a.st, pos[0], *label, *ttl, a.now)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.env.Stdout, secret)
	fmt.Fprintf(a.env.Stderr, "token %s for %s, expires %s (the secret above is shown only once)\n", t.ID, t.Username, t.ExpiresAt.Format(time.RFC3339))
	return nil
}

func (a *admin) tokenList(args []string) error {
	pos, err := a.parse(a.sub("token list"), args, -1, "")
	if err != nil {
		return err
	}
	user := ""
	if len(pos) > 0 {
		user = pos[0]
	}
	ts, err := a.st.TokenList(a.ctx, user)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tLABEL\tEXPIRES\tSTATE")
	for _, t := range ts {
		state := "valid"
		switch {
		case t.RevokedAt != nil:
			state = "revoked"
		case !a.now.Before(t.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Username, t.Label, t.ExpiresAt.Format(time.RFC3339), state)
	}
	return tw.Flush()
}

func (a *admin) tokenRevoke(args []string) error {
	pos, err := a.parse(a.sub("token revoke"), args, 1, "usage: token revoke ID")
	if err != nil {
		return err
	}
	if err := a.st.TokenRevoke(a.ctx, pos[0], a.now); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "revoked token %s\n", pos[0])
	return nil
}

func (a *admin) providerAdd(args []string) error {
	pos, err := a.parse(a.sub("provider add"), args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("admin: usage: provider add NAME PLATFORM... (platforms: %s)", strings.Join(platformTable.Names(), ", "))
	}
	for _, p := range pos[1:] {
		if _, ok := platformTable.Lookup(p); !ok {
			return usagef("admin provider add: %q is not a platform (platforms: %s)", p, strings.Join(platformTable.Names(), ", "))
		}
	}
	if err := a.st.ProviderCreate(a.ctx, &store.Provider{Name: pos[0], Platforms: pos[1:], CreatedAt: a.now}); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "created provider %s running %s\n", pos[0], strings.Join(pos[1:], ", "))
	return nil
}

func (a *admin) providerList() error {
	ps, err := a.st.ProviderList(a.ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(a.env.Stdout, "%s\t%s\n", p.Name, strings.Join(p.Platforms, ", "))
	}
	return nil
}

func (a *admin) keyAdd(args []string) error {
	fs := a.sub("key add")
	ttl := fs.Duration("ttl", 0, "lifetime (0: does not expire)")
	label := fs.String("label", "admin", "label")
	pos, err := a.parse(fs, args, 1, "usage: key add PROVIDER [-ttl D] [-label L]")
	if err != nil {
		return err
	}
	secret, k, err := identity.IssueAPIKey(a.ctx, a.st, pos[0], *label, *ttl, a.now)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.env.Stdout, secret)
	fmt.Fprintf(a.env.Stderr, "API key %s for provider %s (the secret above is shown only once; send it as the header x-api-key)\n", k.ID, k.Provider)
	return nil
}

func (a *admin) keyRevoke(args []string) error {
	pos, err := a.parse(a.sub("key revoke"), args, 1, "usage: key revoke ID")
	if err != nil {
		return err
	}
	if err := a.st.APIKeyRevoke(a.ctx, pos[0], a.now); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "revoked API key %s\n", pos[0])
	return nil
}
