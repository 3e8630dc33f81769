package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/clearline/clearline/internal/call"
)

// RecorderStats counts what the recorder did, for /metrics.
type RecorderStats interface {
	Written(n int)
	WriteFailed()
	Dropped()
}

// Recorder queues call events and writes them to a Store from one goroutine. Record never
// blocks: if the queue is full the event is dropped and counted, because a call in progress
// matters more than its record. Events are gathered for up to linger (or maxBatch of them)
// and committed together, so a busy guard pays for one commit per batch, and a call whose
// start, answer and end fall in one batch is written once. Batches that fail are kept and
// retried, up to the queue's size, so a store that comes back loses nothing.
type Recorder struct {
	st    Store
	log   *slog.Logger
	stats RecorderStats
	in    chan call.Event
	done  chan struct{}
	once  sync.Once
	retry time.Duration
}

const (
	linger   = 20 * time.Millisecond
	maxBatch = 2000
)

// NewRecorder starts a recorder with room for size queued events.
func NewRecorder(st Store, size int, log *slog.Logger, stats RecorderStats) *Recorder {
	r := &Recorder{st: st, log: log, stats: stats, in: make(chan call.Event, size), done: make(chan struct{}), retry: time.Second}
	go r.loop()
	return r
}

// Record queues an event (with its call snapshot) for writing.
func (r *Recorder) Record(ev call.Event) {
	select {
	case r.in <- ev:
	default:
		r.stats.Dropped()
	}
}

// Close writes what is queued (trying once) and stops the writer.
func (r *Recorder) Close() {
	r.once.Do(func() { close(r.in) })
	<-r.done
}

func (r *Recorder) loop() {
	defer close(r.done)
	var pending []call.Event
	max := cap(r.in)
	for {
		var retry <-chan time.Time
		if len(pending) > 0 {
			retry = time.After(r.retry)
		}
		select {
		case ev, ok := <-r.in:
			if !ok {
				r.flush(pending)
				return
			}
			pending = append(pending, ev)
			pending = r.gather(pending)
		case <-retry:
		}
		pending = r.flush(pending)
		if len(pending) > max {
			for range len(pending) - max {
				r.stats.Dropped()
			}
			pending = append([]call.Event(nil), pending[len(pending)-max:]...)
		}
	}
}

// gather takes what else arrives within linger, up to maxBatch, so one transaction covers it.
func (r *Recorder) gather(pending []call.Event) []call.Event {
	t := time.NewTimer(linger)
	defer t.Stop()
	for len(pending) < maxBatch {
		select {
		case ev, ok := <-r.in:
			if !ok {
				return pending
			}
			pending = append(pending, ev)
		case <-t.C:
			return pending
		}
	}
	return pending
}

// flush writes pending and returns what is left to retry.
func (r *Recorder) flush(pending []call.Event) []call.Event {
	if len(pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.st.Write(ctx, Batch{Events: pending}); err != nil {
		r.stats.WriteFailed()
		r.log.Error("store write failed; will retry", "events", len(pending), "err", err)
		return pending
	}
	r.stats.Written(len(pending))
	return pending[:0]
}
