package api_test

import (
	"strings"
	"testing"

	"github.com/nmp-platform/nmp/store/storetest"
)

// TestTokenRevokeAndDecisionReason covers the API's two additions for the
// web interface: DELETE /token (sign-out) and a decision's reason.
func TestTokenRevokeAndDecisionReason(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		b := setup(t, d)
		b.want(b.do("DELETE", "/token", "alice", nil), 200, "revoke alice's token")
		b.want(b.do("GET", "/userinfo", "alice", nil), 401, "a revoked token")
		b.want(b.do("DELETE", "/token", "", nil), 401, "revoke without a token")

		var p struct {
			ID             string `json:"id"`
			DecisionReason string `json:"decision_reason"`
			Status         string `json:"status"`
		}
		b.want(b.do("POST", "/projects", "dave", map[string]any{"collab": "lab", "title": "T", "abstract": "A", "status": "under review"}), 201, "request").json(t, &p)
		if r := b.want(b.do("PUT", "/projects/"+p.ID+"?as_admin=true", "admin", map[string]any{"title": "U", "decision_reason": "why"}), 422, "a reason without a decision"); !strings.Contains(string(r.body), "decision_reason") {
			t.Errorf("the error does not name the field: %s", r.body)
		}
		b.want(b.do("PUT", "/projects/"+p.ID+"?as_admin=true", "admin", map[string]any{"status": "rejected", "decision_reason": strings.Repeat("r", 2001)}), 422, "a reason too long")
		b.want(b.do("PUT", "/projects/"+p.ID+"?as_admin=true", "admin", map[string]any{"status": "rejected", "decision_reason": "no plan given"}), 200, "reject").json(t, &p)
		if p.Status != "rejected" || p.DecisionReason != "no plan given" {
			t.Fatalf("rejected: %+v", p)
		}
		b.want(b.do("GET", "/projects/"+p.ID, "dave", nil), 200, "read").json(t, &p)
		if p.DecisionReason != "no plan given" {
			t.Fatalf("the reason was not kept: %+v", p)
		}
	})
}
