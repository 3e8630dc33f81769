package speech_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// countingGrammar counts loads and closes; its answers hear nothing. The real grammar
// (pocketsphinx) is exercised through OnDemand by the guard's end-to-end tests.
type countingGrammar struct{ closed *atomic.Int32 }

func (g countingGrammar) Hear(string) (speech.Answer, error) { return nopAnswer{}, nil }
func (g countingGrammar) Close() error                       { g.closed.Add(1); return nil }

type nopAnswer struct{}

func (nopAnswer) Write([]int16) (bool, error) { return false, nil }
func (nopAnswer) End() (speech.Heard, error)  { return speech.Heard{Words: "kent police"}, nil }

// Loaded on the first answer (or Warm), once however many answers; freed after idle with no
// answer in progress, never while one is; loaded again for the next; a failed load is
// tried again by the next answer; nothing after Close.
func TestOnDemand(t *testing.T) {
	var loads, closed atomic.Int32
	fail := atomic.Bool{}
	o := speech.NewOnDemand(func() (speech.Grammar, error) {
		loads.Add(1)
		if fail.Load() {
			return nil, errors.New("no model")
		}
		return countingGrammar{&closed}, nil
	}, 200*time.Millisecond)
	if o.Loaded() || loads.Load() != 0 {
		t.Fatal("loaded before it was needed")
	}
	a, err := o.Hear("who")
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Hear("who")
	if err != nil || loads.Load() != 1 {
		t.Fatalf("two answers: %d loads, %v", loads.Load(), err)
	}
	a.End()
	time.Sleep(500 * time.Millisecond)
	if !o.Loaded() || closed.Load() != 0 {
		t.Error("freed while an answer was being heard")
	}
	if h, _ := b.End(); h.Words != "kent police" {
		t.Errorf("the answer's words: %q", h.Words)
	}
	b.End() // twice: counted once
	deadline := time.Now().Add(3 * time.Second)
	for o.Loaded() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if o.Loaded() || closed.Load() != 1 {
		t.Fatalf("not freed after idle: loaded %v, closed %d", o.Loaded(), closed.Load())
	}
	o.Warm()
	for !o.Loaded() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if loads.Load() != 2 {
		t.Errorf("Warm after freeing: %d loads", loads.Load())
	}
	o.Close()
	fail.Store(true)
	if _, err := o.Hear("who"); err == nil || loads.Load() != 2 {
		t.Errorf("after Close: %v, %d loads", err, loads.Load())
	}

	var n atomic.Int32
	f := speech.NewOnDemand(func() (speech.Grammar, error) {
		if n.Add(1) == 1 {
			return nil, errors.New("no model")
		}
		return countingGrammar{&closed}, nil
	}, time.Minute)
	defer f.Close()
	if _, err := f.Hear("who"); err == nil || err.Error() != "no model" {
		t.Errorf("a failed load: %v", err)
	}
	if _, err := f.Hear("who"); err != nil || n.Load() != 2 {
		t.Errorf("the next answer after a failed load: %v after %d loads", err, n.Load())
	}
}
