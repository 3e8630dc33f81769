package site

import (
	"sync"
	"time"
)

// Limiter refuses a key (address and e-mail) after five wrong passwords (or Max, when set)
// within 15 minutes, for the rest of those 15 minutes. Its zero value is ready to use.
type Limiter struct {
	Max   int
	mu    sync.Mutex
	fails map[string][]time.Time
}

const (
	loginFails  = 5
	loginWindow = 15 * time.Minute
)

func (l *Limiter) recent(key string, now time.Time) []time.Time {
	var keep []time.Time
	for _, t := range l.fails[key] {
		if now.Sub(t) < loginWindow {
			keep = append(keep, t)
		}
	}
	if l.fails == nil {
		l.fails = map[string][]time.Time{}
	}
	l.fails[key] = keep
	return keep
}

// Blocked says how long key must still wait; 0 when it may try.
func (l *Limiter) Blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	limit := loginFails
	if l.Max > 0 {
		limit = l.Max
	}
	if f := l.recent(key, now); len(f) >= limit {
		return loginWindow - now.Sub(f[0])
	}
	return 0
}

// Fail counts a wrong attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recent(key, time.Now()) // makes the map
	l.fails[key] = append(f, time.Now())
}

// Reset forgets key's wrong attempts.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
