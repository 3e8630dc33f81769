package guard

import (
	"sync"
	"time"
)

// throttle slows password guessing: after limit wrong passwords from an address within
// window, the address is refused for block — unless the request names a phone that has
// already proved its password from that address (within knownFor). Without that exception
// anyone who can forge a phone's address could keep the phone from registering with five
// wrong guesses a minute; with it, guessing stays at limit a window for everyone who has
// not already got in, and a forger cannot even see whether a guess was right, the answers
// going to the forged address.
type throttle struct {
	limit         int
	window, block time.Duration
	knownFor      time.Duration

	mu      sync.Mutex
	sources map[string]*attempts
	known   map[phoneAt]time.Time // when each phone last proved its password from an address
}

type attempts struct {
	failures int
	first    time.Time
	until    time.Time
}

// phoneAt is a phone's user name at a source address.
type phoneAt struct{ src, user string }

// maxTracked bounds the throttle's memory; older entries go first.
const maxTracked = 10000

func newThrottle(limit int, window, block time.Duration) *throttle {
	return &throttle{limit: limit, window: window, block: block, knownFor: 24 * time.Hour,
		sources: map[string]*attempts{}, known: map[phoneAt]time.Time{}}
}

// refused says whether a request for user from src is refused without looking at its
// credentials, and for how long yet.
func (t *throttle) refused(src, user string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.sources[src]
	if a == nil || !now.Before(a.until) {
		return 0, false
	}
	if at, ok := t.known[phoneAt{src, user}]; ok && now.Sub(at) < t.knownFor {
		return 0, false
	}
	return a.until.Sub(now), true
}

func (t *throttle) failed(src string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.sources[src]
	if a == nil || now.Sub(a.first) > t.window {
		if len(t.sources) > maxTracked {
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

// succeeded records that user proved its password from src. An address that is blocked
// stays blocked for everyone else.
func (t *throttle) succeeded(src, user string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.sources[src]; a != nil && a.until.IsZero() {
		delete(t.sources, src)
	}
	if len(t.known) > maxTracked {
		t.prune(now)
	}
	t.known[phoneAt{src, user}] = now
}

func (t *throttle) prune(now time.Time) {
	for k, a := range t.sources {
		if now.Sub(a.first) > t.window && !now.Before(a.until) {
			delete(t.sources, k)
		}
	}
	for k, at := range t.known {
		if now.Sub(at) >= t.knownFor {
			delete(t.known, k)
		}
	}
}
