package api_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nmp-platform/nmp/api"
	"github.com/nmp-platform/nmp/notify"
	"github.com/nmp-platform/nmp/provider"
	"github.com/nmp-platform/nmp/store/storetest"
)

// smtpSink is a minimal SMTP server that keeps what it is sent.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []sunk
	got  chan struct{}
}

type sunk struct {
	from string
	to   []string
	data string
}

func newSMTPSink(t *testing.T) *smtpSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	s := &smtpSink{ln: ln, got: make(chan struct{}, 100)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say("220 sink ESMTP")
	var m sunk
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = sunk{from: strings.Trim(strings.TrimSpace(line)[10:], "<>")}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = append(m.to, strings.Trim(strings.TrimSpace(line)[8:], "<>"))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.data = b.String()
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			s.got <- struct{}{}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpSink) wait(t *testing.T, n int) []sunk {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-s.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d messages arrived", i, n)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.mail...)
}

// TestNotifications: e-mail when a job starts and ends (with its log's last
// lines), and to the administrators when a resource request is submitted.
func TestNotifications(t *testing.T) {
	forEach(t, func(t *testing.T, d storetest.Driver) {
		sink := newSMTPSink(t)
		m, err := notify.New(notify.Config{Addr: sink.ln.Addr().String(), From: "queue@nmp.test", LogLines: 3, BaseURL: "http://nmp.test"})
		noErr(t, err)
		noErr(t, m.Start(ctx))
		t.Cleanup(m.Stop)
		b := setup(t, d, func(c *api.Config) { c.Notifier = m })
		id := b.submit("alice", "lab", "Demo")
		c := provider.New(b.srv.URL, b.key["local"])
		j, err := c.Claim(ctx, "Demo")
		noErr(t, err)
		start := sink.wait(t, 1)[0]
		if start.from != "queue@nmp.test" || start.to[0] != "alice@example.org" || !strings.Contains(start.data, fmt.Sprintf("Subject: [nmp] job %d started on Demo", id)) {
			t.Fatalf("start mail %+v", start)
		}
		noErr(t, c.AppendLog(ctx, j, "line 1\nline 2\nline 3\nline 4\nline 5\n"))
		noErr(t, c.Finish(ctx, j, provider.Finished, &provider.Usage{Value: 0.01, Units: "hours"}))
		end := sink.wait(t, 1)[1]
		if !strings.Contains(end.data, fmt.Sprintf("Subject: [nmp] job %d finished", id)) || !strings.Contains(end.data, "line 3\r\nline 4\r\nline 5") ||
			strings.Contains(end.data, "line 2") || !strings.Contains(end.data, fmt.Sprintf("http://nmp.test/jobs/%d", id)) {
			t.Fatalf("end mail %q", end.data)
		}
		b.want(b.do("POST", "/projects/", "alice", map[string]any{"collab": "lab", "title": "Big plans", "abstract": "lots of wafers", "status": "under review"}), 201, "submit request")
		review := sink.wait(t, 1)[2]
		if review.to[0] != "admin@example.org" || !strings.Contains(review.data, "Big plans") {
			t.Fatalf("review mail %+v", review)
		}
	})
}
