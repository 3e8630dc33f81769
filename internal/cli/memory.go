package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/store"
)

// What a household's calls taught the guard is held in memory; a guard that starts (after a
// restart, or on a service, any guard that was not the one handling the call) learns it again
// from the record: that the household rang 999 or 112 within the last two hours (whoever rings
// back rings straight through), that a warned, screened or blocked call came in within the
// last half hour (calls to the police or the bank are placed as safe call-backs), and the
// numbers scam callers gave within the last day (calls to them are not placed).

// memoryLookBack is how far back the record is read: the longest any memory lasts.
const memoryLookBack = 24 * time.Hour

// memoryCalls caps the calls read; the newest come first.
const memoryCalls = 50000

// callReader is the part of the store the memory is read from.
type callReader interface {
	Calls(ctx context.Context, q store.Query) ([]call.Call, error)
}

// warmMemory tells g what the recorded calls since now-memoryLookBack taught it.
func warmMemory(ctx context.Context, db callReader, g *guard.Guard, now time.Time, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cs, err := db.Calls(ctx, store.Query{Since: now.Add(-memoryLookBack), Limit: memoryCalls})
	if err != nil {
		log.Warn("household memory not read from the record; it starts empty", "err", err)
		return
	}
	n := 0
	for _, ev := range memoryOf(cs, now) {
		g.Remember(ev)
		n++
	}
	if n > 0 {
		log.Info("household memory read from the record", "calls", len(cs), "facts", n)
	}
}

// memoryOf is what calls taught the guard that still holds at now.
func memoryOf(cs []call.Call, now time.Time) []guard.MemoryEvent {
	var out []guard.MemoryEvent
	for _, c := range cs {
		if c.Household == "" || c.StartedAt.IsZero() {
			continue
		}
		at := c.StartedAt
		if c.Emergency && now.Sub(at) < screen.RingBackWithin {
			out = append(out, guard.MemoryEvent{Household: c.Household, Kind: guard.MemoryEmergency, At: at})
		}
		if c.Direction == call.Inbound && (c.Verdict == "warn" || c.Verdict == "screen" || c.Verdict == "block") && now.Sub(at) < guard.RiskyWindow {
			out = append(out, guard.MemoryEvent{Household: c.Household, Kind: guard.MemoryRisky, At: at})
		}
		if r := c.Risk; r != nil && (r.Verdict == "suspicious" || r.Verdict == "scam") {
			for _, num := range r.Dictated {
				out = append(out, guard.MemoryEvent{Household: c.Household, Kind: guard.MemoryDictated, Number: num, At: at})
			}
		}
	}
	return out
}
