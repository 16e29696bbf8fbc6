package apiclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nmp-platform/nmp/nmpi"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"method":"` + r.Method + `","key":"` + r.Header.Get("X-Api-Key") + `","type":"` + r.Header.Get("Content-Type") +
				`","query":"` + r.URL.RawQuery + `","body":` + string(body) + `}`))
		case "/text":
			_, _ = w.Write([]byte("a log\n"))
		case "/garbled":
			_, _ = w.Write([]byte("<html>"))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"no such thing"}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	var got struct {
		Method, Key, Type, Query string
		Body                     map[string]int
	}
	h := http.Header{}
	h.Set("x-api-key", "k1")
	err := Do(ctx, srv.Client(), srv.URL, &Request{Method: http.MethodPut, Path: "/echo?a=1", Header: h, JSON: map[string]int{"n": 3}}, &got)
	if err != nil || got.Method != "PUT" || got.Key != "k1" || got.Type != "application/json" || got.Query != "a=1" || got.Body["n"] != 3 {
		t.Fatalf("JSON call: %+v, %v", got, err)
	}

	var text string
	if err := Do(ctx, srv.Client(), srv.URL, &Request{Method: http.MethodGet, Path: "/text"}, &text); err != nil || text != "a log\n" {
		t.Fatalf("text answer: %q, %v", text, err)
	}

	err = Do(ctx, srv.Client(), srv.URL, &Request{Method: http.MethodGet, Path: "/missing"}, nil)
	var e *nmpi.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Detail != "no such thing" || err.Error() != "no such thing" {
		t.Fatalf("error answer: %#v", err)
	}

	if err := Do(ctx, srv.Client(), srv.URL, &Request{Method: http.MethodGet, Path: "/garbled"}, &got); err == nil || errors.As(err, &e) {
		t.Fatalf("a non-JSON answer: %v, want a decoding error", err)
	}
}
