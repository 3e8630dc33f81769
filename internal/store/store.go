// Package store keeps calls, their legs and the durable event outbox. Store is the
// interface every backend satisfies (package sqlite: SQLite embedded, or PostgreSQL);
// Recorder sits in front of it so that the guard never waits on a disk: call changes go
// into a bounded queue and one writer goroutine commits them in batches.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/clearline/clearline/internal/call"
)

// ErrUnavailable wraps every failure to reach the backend, so callers can answer 503.
var ErrUnavailable = errors.New("store unavailable")

// Batch is written in one transaction: each event's call snapshot replaces the stored
// call, and the event is appended to the outbox.
type Batch struct {
	Events []call.Event
}

// Query selects calls for the API, newest first.
type Query struct {
	// Limit caps the number of calls; zero means 100.
	Limit int
	// Before, when set, returns only calls started before it (for paging).
	Before time.Time
	// Since, when set, returns only calls started at or after it.
	Since time.Time
	// Households, when not nil, returns only calls for these households.
	Households []string
	// Verdict, when set, returns only calls screening judged so (allow, warn, screen, block).
	Verdict string
	// Risky returns only calls that were warned about, blocked, screened or that listening
	// found risky (level 0.5 and above).
	Risky bool
}

// Store is a backend for calls and the outbox.
type Store interface {
	// Write commits a batch atomically.
	Write(ctx context.Context, b Batch) error
	// Calls returns calls with their legs, newest first.
	Calls(ctx context.Context, q Query) ([]call.Call, error)
	// Call returns one call, or ErrNotFound.
	Call(ctx context.Context, id string) (call.Call, error)
	// Events returns outbox events with Seq > after, oldest first.
	Events(ctx context.Context, after int64, limit int) ([]call.Event, error)
	// Ping reports whether the backend can be read and written.
	Ping(ctx context.Context) error
	Close() error
}

// ErrNotFound is returned for a call ID the store does not hold.
var ErrNotFound = errors.New("not found")
