// Package httperr reads the message out of a job queue server's error
// answer, for nmp's Go clients (the user's and the hardware provider's).
package httperr

import (
	"encoding/json"
	"strings"
)

// Detail returns the message of an error answer with the given body:
// FastAPI's "detail" (a string, or JSON such as a validation error list),
// else the service-status middleware's "error", else the body itself, else
// the HTTP status line.
func Detail(status string, body []byte) string {
	var e struct {
		Detail json.RawMessage `json:"detail"`
		Error  string          `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Error
	var s string
	if json.Unmarshal(e.Detail, &s) == nil && s != "" {
		msg = s
	} else if len(e.Detail) > 0 && string(e.Detail) != "null" {
		msg = string(e.Detail)
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = status
	}
	return msg
}
