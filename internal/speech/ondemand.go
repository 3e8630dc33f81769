package speech

import (
	"errors"
	"sync"
	"time"
)

// OnDemand is a Grammar loaded when it is needed and freed when it has not been for a
// while: a box that asks a caller who they are a few times a day need not hold the
// recogniser's decoders in memory between calls. Warm starts loading ahead of the first
// answer (while the question plays); Hear waits for the load.
type OnDemand struct {
	load func() (Grammar, error)
	idle time.Duration

	mu     sync.Mutex
	g      Grammar
	ready  chan struct{} // closed once the load in progress ends; nil when none is loaded or loading
	err    error         // the last load's
	busy   int           // answers being heard
	last   time.Time     // when the last answer ended
	timer  *time.Timer
	closed bool
}

// NewOnDemand returns a grammar that load makes when first needed and that is closed once
// no answer has been heard for idle.
func NewOnDemand(load func() (Grammar, error), idle time.Duration) *OnDemand {
	return &OnDemand{load: load, idle: idle}
}

// Warm starts loading the grammar in the background unless it is loaded or loading.
func (o *OnDemand) Warm() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.warmLocked()
}

func (o *OnDemand) warmLocked() chan struct{} {
	if o.closed || o.ready != nil {
		return o.ready
	}
	ready := make(chan struct{})
	o.ready = ready
	go func() {
		g, err := o.load()
		o.mu.Lock()
		defer o.mu.Unlock()
		o.g, o.err = g, err
		close(ready)
		if err != nil {
			o.ready = nil // the next answer tries again
			return
		}
		if o.closed {
			g.Close()
			o.g = nil
			return
		}
		o.last = time.Now()
		o.armLocked()
	}()
	return ready
}

// Loaded says whether the grammar is in memory now.
func (o *OnDemand) Loaded() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.g != nil
}

// Hear loads the grammar if it must, then starts hearing an answer with it.
func (o *OnDemand) Hear(grammar string) (Answer, error) {
	for {
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return nil, errors.New("speech: recogniser closed")
		}
		ready := o.warmLocked()
		o.mu.Unlock()
		<-ready
		o.mu.Lock()
		if o.g == nil { // the load failed, or the grammar was freed meanwhile
			err := o.err
			o.mu.Unlock()
			if err != nil {
				return nil, err
			}
			continue
		}
		a, err := o.g.Hear(grammar)
		if err == nil {
			o.busy++
		}
		o.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return &onDemandAnswer{Answer: a, o: o}, nil
	}
}

// Close frees the grammar; it cannot be loaded again.
func (o *OnDemand) Close() error {
	o.mu.Lock()
	o.closed = true
	if o.timer != nil {
		o.timer.Stop()
	}
	g := o.g
	o.g = nil
	o.mu.Unlock()
	if g != nil {
		return g.Close() // answers being heard keep their decoders until they end
	}
	return nil
}

func (o *OnDemand) armLocked() {
	if o.timer == nil {
		o.timer = time.AfterFunc(o.idle, o.reap)
		return
	}
	o.timer.Reset(o.idle)
}

// reap frees the grammar when no answer has been heard for idle.
func (o *OnDemand) reap() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.g == nil || o.closed {
		return
	}
	if wait := o.idle - time.Since(o.last); o.busy > 0 || wait > 0 {
		o.timer.Reset(max(wait, time.Second))
		return
	}
	o.g.Close()
	o.g, o.ready = nil, nil
}

type onDemandAnswer struct {
	Answer
	o    *OnDemand
	done bool
}

func (a *onDemandAnswer) End() (Heard, error) {
	h, err := a.Answer.End()
	if !a.done {
		a.done = true
		a.o.mu.Lock()
		a.o.busy--
		a.o.last = time.Now()
		a.o.mu.Unlock()
	}
	return h, err
}
