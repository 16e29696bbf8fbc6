package httperr

import "testing"

func TestDetail(t *testing.T) {
	cases := map[string]string{
		`{"detail":"No such job: 3"}`:                                   "No such job: 3",
		`{"detail":[{"loc":["body","collab"],"msg":"field required"}]}`: `[{"loc":["body","collab"],"msg":"field required"}]`,
		`{"error":"down for maintenance"}`:                              "down for maintenance",
		"plain text\n":                                                  "plain text",
		"":                                                              "503 Service Unavailable",
	}
	for body, want := range cases {
		if got := Detail("503 Service Unavailable", []byte(body)); got != want {
			t.Errorf("Detail(%q) = %q, want %q", body, got, want)
		}
	}
}
