package store

import (
	"context"
	"errors"
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
	in    chan queued
	stop  chan struct{} // closed by Close; in is never closed, so a late Record cannot panic
	// closing is held shared while an event is queued and exclusively while Close stops
	// the writer, so every event queued before Close is written and none after is left behind.
	closing sync.RWMutex
	done    chan struct{}
	once    sync.Once
	retry   time.Duration
	evs     []call.Event // the batch being written, reused
}

// queued is an event in the recorder's queue, with whom to tell when it is committed
// (nil for Record's).
type queued struct {
	ev      call.Event
	durable chan error
}

// ErrDropped is what RecordDurable's channel carries for an event there was no room for.
var ErrDropped = errors.New("store queue full: event dropped")

const (
	linger   = 20 * time.Millisecond
	maxBatch = 2000
)

// NewRecorder starts a recorder with room for size queued events.
func NewRecorder(st Store, size int, log *slog.Logger, stats RecorderStats) *Recorder {
	r := &Recorder{st: st, log: log, stats: stats, in: make(chan queued, size), stop: make(chan struct{}), done: make(chan struct{}), retry: time.Second}
	go r.loop()
	return r
}

// Record queues an event (with its call snapshot) for writing. After Close (a call
// still winding down as the guard stops) the event is dropped and counted.
func (r *Recorder) Record(ev call.Event) {
	r.closing.RLock()
	defer r.closing.RUnlock()
	if r.closed() {
		r.stats.Dropped()
		return
	}
	select {
	case r.in <- queued{ev: ev}:
	default:
		r.stats.Dropped()
	}
}

func (r *Recorder) closed() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// RecordDurable queues an event like Record, and never blocks either. The channel it
// returns is closed once the batch holding the event has committed; it carries an error
// (and is then closed) when the event was dropped or its batch's first commit failed — the
// event is then still retried, as every event is, but whoever waits need not wait longer.
// Batches still gather for up to linger, so waiting costs a commit only once per batch.
func (r *Recorder) RecordDurable(ev call.Event) <-chan error {
	ch := make(chan error, 1)
	r.closing.RLock()
	defer r.closing.RUnlock()
	if r.closed() {
		r.stats.Dropped()
		ch <- ErrDropped
		close(ch)
		return ch
	}
	select {
	case r.in <- queued{ev: ev, durable: ch}:
	default:
		r.stats.Dropped()
		ch <- ErrDropped
		close(ch)
	}
	return ch
}

// Close writes what is queued (trying once) and stops the writer.
func (r *Recorder) Close() {
	r.once.Do(func() {
		r.closing.Lock()
		close(r.stop)
		r.closing.Unlock()
	})
	<-r.done
}

func (r *Recorder) loop() {
	defer close(r.done)
	var pending []queued
	max := cap(r.in)
	for {
		var retry <-chan time.Time
		if len(pending) > 0 {
			retry = time.After(r.retry)
		}
		select {
		case q := <-r.in:
			pending = append(pending, q)
			pending = r.gather(pending)
		case <-r.stop:
			for len(r.in) > 0 { // what was queued before Close
				pending = append(pending, <-r.in)
			}
			r.flush(pending)
			return
		case <-retry:
		}
		pending = r.flush(pending)
		if len(pending) > max {
			for _, q := range pending[:len(pending)-max] {
				r.stats.Dropped()
				q.tell(ErrDropped)
			}
			pending = append([]queued(nil), pending[len(pending)-max:]...)
		}
	}
}

// gather takes what else arrives within linger, up to maxBatch, so one transaction covers it.
func (r *Recorder) gather(pending []queued) []queued {
	t := time.NewTimer(linger)
	defer t.Stop()
	for len(pending) < maxBatch {
		select {
		case q := <-r.in:
			pending = append(pending, q)
		case <-r.stop:
			return pending
		case <-t.C:
			return pending
		}
	}
	return pending
}

// flush writes pending and returns what is left to retry.
func (r *Recorder) flush(pending []queued) []queued {
	if len(pending) == 0 {
		return nil
	}
	r.evs = r.evs[:0]
	for _, q := range pending {
		r.evs = append(r.evs, q.ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.st.Write(ctx, Batch{Events: r.evs})
	clear(r.evs) // the batch's calls are not kept alive by the buffer
	if err != nil {
		r.stats.WriteFailed()
		r.log.Error("store write failed; will retry", "events", len(pending), "err", err)
		for i := range pending {
			pending[i].tell(err)
			pending[i].durable = nil // told once: the retry goes on unwatched
		}
		return pending
	}
	r.stats.Written(len(pending))
	for _, q := range pending {
		q.tell(nil)
	}
	clear(pending)
	return pending[:0]
}

// tell closes the event's channel, with err in it when there is one.
func (q queued) tell(err error) {
	if q.durable == nil {
		return
	}
	if err != nil {
		q.durable <- err
	}
	close(q.durable)
}
