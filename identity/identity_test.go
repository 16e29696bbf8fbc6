package identity

import (
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/store"
)

func TestPasswords(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$1000$") || !CheckPassword(h, "correct horse battery") {
		t.Fatalf("hash %q does not check", h)
	}
	h2, _ := HashPassword("correct horse battery", 1000)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "x", "pbkdf2-sha256$0$a$b", "pbkdf2-sha256$10$!!$b", "md5$1$a$b"} {
		if CheckPassword(bad, "correct horse battery") {
			t.Fatalf("malformed hash %q checks", bad)
		}
	}
	if CheckPassword(h, "correct horse batterY") {
		t.Fatal("a wrong password checks")
	}
	if _, err := HashPassword("short", 1000); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
}

func TestPrincipal(t *testing.T) {
	t.Parallel()
	p := &Principal{User: &store.User{Username: "alice"}, Roles: map[string]string{"lab": "editor", "pub": "viewer", AdminCollab: "viewer"}}
	switch {
	case !p.CanEdit("lab"), p.CanEdit("pub"), !p.IsMember("pub"), p.IsMember("other"), !p.CanEdit("private-alice"), p.CanEdit("private-bob"), p.Admin():
		t.Fatalf("roles wrong for %+v", p)
	}
	p.Roles[AdminCollab] = "editor"
	if !p.Admin() {
		t.Fatal("an editor of the admin collab is an administrator")
	}
	if got := strings.Join(p.Teams(), ","); got != "collab-lab-editor,collab-neuromorphic-platform-admin-editor,collab-pub-viewer" {
		t.Fatalf("teams %s", got)
	}
	k := &Principal{Provider: &store.Provider{Name: "uhei", Platforms: []string{"BrainScaleS"}}}
	if !k.Serves("BrainScaleS") || k.Serves("SpiNNaker") || k.Admin() || k.CanEdit("lab") || k.Name() != "provider:uhei" {
		t.Fatalf("provider principal wrong")
	}
	if Hash("a") == Hash("b") || len(Hash("a")) != 64 {
		t.Fatal("Hash")
	}
}
