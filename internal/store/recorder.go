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
// matters more than its record. Batches that fail are kept and retried, up to the queue's
// size, so a store that comes back loses nothing.
type Recorder struct {
	st    Store
	log   *slog.Logger
	stats RecorderStats
	in    chan call.Event
	done  chan struct{}
	once  sync.Once
	retry time.Duration
}

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
			pending = r.drain(pending, max)
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

// drain takes whatever else is queued without waiting, so one transaction covers it all.
func (r *Recorder) drain(pending []call.Event, max int) []call.Event {
	for len(pending) < max {
		select {
		case ev, ok := <-r.in:
			if !ok {
				return pending
			}
			pending = append(pending, ev)
		default:
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
