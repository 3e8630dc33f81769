package store

import (
	"context"
	"fmt"

	"github.com/clearline/clearline/internal/call"
)

// Unavailable stands in for a store that could not be opened: every operation fails
// with the reason, so the guard can run without one.
type Unavailable struct{ Err error }

func (u Unavailable) fail() error { return fmt.Errorf("%w: %v", ErrUnavailable, u.Err) }

// Write fails.
func (u Unavailable) Write(context.Context, Batch) error { return u.fail() }

// Calls fails.
func (u Unavailable) Calls(context.Context, Query) ([]call.Call, error) { return nil, u.fail() }

// Call fails.
func (u Unavailable) Call(context.Context, string) (call.Call, error) { return call.Call{}, u.fail() }

// Events fails.
func (u Unavailable) Events(context.Context, int64, int) ([]call.Event, error) { return nil, u.fail() }

// Ping fails.
func (u Unavailable) Ping(context.Context) error { return u.fail() }

// Close does nothing.
func (u Unavailable) Close() error { return nil }
