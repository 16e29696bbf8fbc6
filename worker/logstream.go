package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nmp-platform/nmp/provider"
)

// logStream sends a job's output to the server as it comes: writes only
// buffer (a job never waits for the network), and a goroutine appends what
// is new every LogFlush. Output past MaxLogBytes is counted and dropped, and
// the log says so at the end. While the server is away the buffer keeps the
// output; a lost lease stops the stream and the job.
type logStream struct {
	w      *Worker
	job    *provider.Job
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	pending bytes.Buffer
	total   int64 // bytes of the job's output taken
	dropped int64
	midLine bool // the last byte written was not a newline
	ring    []byte
	stopped bool

	// flushing serialises flushes, so that a flush that returns has sent
	// everything written before it was called (the SLURM executor counts on it).
	flushing sync.Mutex

	quit chan struct{}
	wg   sync.WaitGroup
}

const tailBytes = 4096

func newLogStream(ctx context.Context, w *Worker, job *provider.Job, cancel context.CancelCauseFunc) *logStream {
	l := &logStream{w: w, job: job, cancel: cancel, quit: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(w.cfg.LogFlush)
		defer t.Stop()
		for {
			select {
			case <-l.quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				l.flush(ctx)
			}
		}
	}()
	return l
}

// Write takes output of the job.
func (l *logStream) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keepTail(p)
	room := l.w.cfg.MaxLogBytes - l.total
	take := int64(len(p))
	if take > room {
		take = max(room, 0)
	}
	l.pending.Write(p[:take])
	l.total += take
	l.dropped += int64(len(p)) - take
	if take > 0 {
		l.midLine = p[take-1] != '\n'
	}
	return len(p), nil
}

// printf adds a line of the worker's own to the log.
func (l *logStream) printf(format string, args ...any) {
	line := fmt.Sprintf("[nmp worker] "+format+"\n", args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.midLine {
		line = "\n" + line
		l.midLine = false
	}
	l.keepTail([]byte(line))
	l.pending.WriteString(line)
}

func (l *logStream) keepTail(p []byte) {
	if len(p) >= tailBytes {
		l.ring = append(l.ring[:0], p[len(p)-tailBytes:]...)
		return
	}
	l.ring = append(l.ring, p...)
	if len(l.ring) > tailBytes {
		l.ring = l.ring[len(l.ring)-tailBytes:]
	}
}

// tail returns the end of the log.
func (l *logStream) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(bytes.ToValidUTF8(l.ring, []byte("?")))
}

// flush sends what is new.
func (l *logStream) flush(ctx context.Context) error {
	l.flushing.Lock()
	defer l.flushing.Unlock()
	l.mu.Lock()
	if l.stopped || l.pending.Len() == 0 {
		l.mu.Unlock()
		return nil
	}
	text := string(bytes.ToValidUTF8(l.pending.Bytes(), []byte("?")))
	l.pending.Reset()
	l.mu.Unlock()
	err := l.w.client.AppendLog(ctx, l.job, text)
	if err == nil {
		return nil
	}
	if errors.Is(err, provider.ErrLeaseLost) {
		// The job is no longer ours; the background loop ends with the job's context.
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		l.cancel(err)
		return err
	}
	if retryable(err) || ctx.Err() != nil {
		// (A flush cut short by the job's end keeps its text for close.)
		// Keep it for the next flush, before whatever came since.
		l.mu.Lock()
		rest := l.pending.String()
		l.pending.Reset()
		l.pending.WriteString(text)
		l.pending.WriteString(rest)
		l.mu.Unlock()
		return err
	}
	l.w.log.Warn("worker: the server refused part of a job's log", "job", l.job.ID, "error", err)
	return nil
}

// stop ends the stream without sending more (the job is no longer ours).
func (l *logStream) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.halt()
}

func (l *logStream) halt() {
	l.mu.Lock()
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// close stops the background flushes and sends the rest, retrying while
// the server is away until ctx ends.
func (l *logStream) close(ctx context.Context) {
	l.halt()
	l.mu.Lock()
	dropped := l.dropped
	l.dropped = 0
	l.mu.Unlock()
	if dropped > 0 {
		l.printf("%s more of the job's output was not kept: the log is limited to %s", Bytes(dropped), Bytes(l.w.cfg.MaxLogBytes))
	}
	_ = l.w.retry(ctx, "send the job's log", l.flush)
}
