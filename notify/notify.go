// Package notify sends the job queue's e-mail: to a job's owner when the job
// starts and when it ends (with the last lines of its log), and to the
// administrators when a resource request is submitted for review. Mail goes
// out over SMTP from a background queue, so a slow mail server never slows the API.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/store"
)

// Config describes the SMTP server and the messages. Addr is required.
type Config struct {
	Addr     string // host:port of the SMTP server
	From     string // sender address
	Username string // for PLAIN authentication; empty: none
	Password string
	// BaseURL is the job server's public URL, for links in messages.
	BaseURL string
	// LogLines is how many of the last log lines go into the end-of-job message (default 20).
	LogLines int
	// Queue is how many messages may wait (default 1000); beyond it messages are dropped and logged.
	Queue  int
	Logger *slog.Logger
}

// Message is one e-mail.
type Message struct {
	To      []string
	Subject string
	Body    string
}

// Mailer queues and sends messages. It implements api.Notifier.
type Mailer struct {
	cfg   Config
	log   *slog.Logger
	queue chan Message

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a mailer; call Start before use.
func New(cfg Config) (*Mailer, error) {
	if cfg.Addr == "" {
		return nil, errors.New("notify: no SMTP server address")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("notify: SMTP address %q: %w", cfg.Addr, err)
	}
	if cfg.From == "" {
		cfg.From = "nmp@localhost"
	}
	if cfg.LogLines <= 0 {
		cfg.LogLines = 20
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mailer{cfg: cfg, log: cfg.Logger, queue: make(chan Message, cfg.Queue)}, nil
}

// Start sends queued messages in the background until Stop.
func (m *Mailer) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return errors.New("notify: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	m.cancel, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		for {
			select {
			case <-ctx.Done():
				// Send what is queued already, then stop.
				for {
					select {
					case msg := <-m.queue:
						m.sendLogged(msg)
					default:
						return
					}
				}
			case msg := <-m.queue:
				m.sendLogged(msg)
			}
		}
	}()
	return nil
}

// Stop sends the messages already queued and stops.
func (m *Mailer) Stop() {
	m.mu.Lock()
	cancel, done := m.cancel, m.done
	m.cancel = nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (m *Mailer) sendLogged(msg Message) {
	if err := m.Send(msg); err != nil {
		m.log.Error("notify: cannot send mail", slog.String("to", strings.Join(msg.To, ",")), slog.String("subject", msg.Subject), slog.String("error", err.Error()))
	}
}

// Enqueue queues a message; it never blocks.
func (m *Mailer) Enqueue(msg Message) {
	if len(msg.To) == 0 {
		return
	}
	select {
	case m.queue <- msg:
	default:
		m.log.Error("notify: queue full, message dropped", slog.String("subject", msg.Subject))
	}
}

// Send sends one message now.
func (m *Mailer) Send(msg Message) error {
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	var auth smtp.Auth
	if m.cfg.Username != "" {
		auth = smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, host)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", m.cfg.From)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(msg.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", headerSafe(msg.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	for _, line := range strings.Split(msg.Body, "\n") {
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteString("\r\n")
	}
	if err := smtp.SendMail(m.cfg.Addr, auth, m.cfg.From, msg.To, []byte(b.String())); err != nil {
		return fmt.Errorf("send mail to %s: %w", strings.Join(msg.To, ", "), err)
	}
	return nil
}

func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// Tail returns the last n lines of a log.
func Tail(log string, n int) string {
	log = strings.TrimRight(log, "\n")
	if log == "" {
		return ""
	}
	lines := strings.Split(log, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (m *Mailer) jobLink(j *store.Job) string {
	if m.cfg.BaseURL == "" {
		return fmt.Sprintf("/jobs/%d", j.ID)
	}
	return fmt.Sprintf("%s/jobs/%d", strings.TrimRight(m.cfg.BaseURL, "/"), j.ID)
}

// JobStarted tells the job's owner that it is running.
func (m *Mailer) JobStarted(ctx context.Context, j *store.Job, u *store.User) {
	if u == nil || u.Email == "" {
		return
	}
	m.Enqueue(Message{To: []string{u.Email}, Subject: fmt.Sprintf("[nmp] job %d started on %s", j.ID, j.HardwarePlatform),
		Body: fmt.Sprintf("Your job %d in collab %s started running on %s.\n\n%s\n", j.ID, j.Collab, j.HardwarePlatform, m.jobLink(j))})
}

// JobEnded tells the job's owner how it ended, with the last lines of its log.
func (m *Mailer) JobEnded(ctx context.Context, j *store.Job, u *store.User, log string) {
	if u == nil || u.Email == "" {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your job %d in collab %s on %s ended with status %s.\n\n%s\n", j.ID, j.Collab, j.HardwarePlatform, j.Status, m.jobLink(j))
	if t := Tail(log, m.cfg.LogLines); t != "" {
		fmt.Fprintf(&b, "\nThe last lines of its log:\n\n%s\n", t)
	}
	m.Enqueue(Message{To: []string{u.Email}, Subject: fmt.Sprintf("[nmp] job %d %s", j.ID, j.Status), Body: b.String()})
}

// ProjectSubmitted tells the administrators that a resource request awaits review.
func (m *Mailer) ProjectSubmitted(ctx context.Context, p *store.Project, admins []store.User) {
	var to []string
	for _, a := range admins {
		if a.Email != "" {
			to = append(to, a.Email)
		}
	}
	m.Enqueue(Message{To: to, Subject: fmt.Sprintf("[nmp] resource request for collab %s awaits review", p.Collab),
		Body: fmt.Sprintf("%s submitted the resource request %q (%s access) for collab %s.\n\nAbstract:\n%s\n\nReview it: /projects/%s\n",
			p.Owner, p.Title, p.Access, p.Collab, p.Abstract, p.ID)})
}
