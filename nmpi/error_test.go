package nmpi

import "testing"

func TestReadError(t *testing.T) {
	cases := map[string]string{
		`{"detail":"No such job: 3"}`:                                   "No such job: 3",
		`{"detail":[{"loc":["body","collab"],"msg":"field required"}]}`: `[{"loc":["body","collab"],"msg":"field required"}]`,
		`{"error":"down for maintenance"}`:                              "down for maintenance",
		"plain text\n":                                                  "plain text",
		"":                                                              "503 Service Unavailable",
	}
	for body, want := range cases {
		if got := ReadError(503, "503 Service Unavailable", []byte(body)); got.Detail != want || got.Status != 503 {
			t.Errorf("ReadError(%q) = %d %q, want 503 %q", body, got.Status, got.Detail, want)
		}
	}
}
