package guard

import (
	"sync"
	"time"
)

// throttle refuses a source for a while after too many wrong passwords in a window.
type throttle struct {
	limit         int
	window, block time.Duration

	mu      sync.Mutex
	sources map[string]*attempts
}

type attempts struct {
	failures int
	first    time.Time
	until    time.Time
}

func newThrottle(limit int, window, block time.Duration) *throttle {
	return &throttle{limit: limit, window: window, block: block, sources: map[string]*attempts{}}
}

// blocked says whether src is refused now, and for how long yet.
func (t *throttle) blocked(src string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.sources[src]
	if a == nil || !now.Before(a.until) {
		return 0, false
	}
	return a.until.Sub(now), true
}

func (t *throttle) failed(src string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.sources[src]
	if a == nil || now.Sub(a.first) > t.window {
		if len(t.sources) > 10000 {
			t.prune(now)
		}
		a = &attempts{first: now}
		t.sources[src] = a
	}
	a.failures++
	if a.failures >= t.limit {
		a.until = now.Add(t.block)
		a.failures = 0
		a.first = now
	}
}

func (t *throttle) succeeded(src string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.sources[src]; a != nil && a.until.IsZero() {
		delete(t.sources, src)
	}
}

func (t *throttle) prune(now time.Time) {
	for k, a := range t.sources {
		if now.Sub(a.first) > t.window && !now.Before(a.until) {
			delete(t.sources, k)
		}
	}
}
