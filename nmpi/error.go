package nmpi

import (
	"encoding/json"
	"strings"
)

// ErrorBody is the body of an error answer: FastAPI's {"detail": message},
// which the nmpi client shows.
type ErrorBody struct {
	Detail string `json:"detail"`
}

// Error is an error answer of a server.
type Error struct {
	// Status is the HTTP status code.
	Status int
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// ReadError returns the error answer with the given status code, status line
// and body. Its Detail is FastAPI's "detail" (a string, or JSON such as a
// validation error list), else the service-status middleware's "error", else
// the body itself, else the status line.
func ReadError(code int, status string, body []byte) *Error {
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
	return &Error{Status: code, Detail: msg}
}
