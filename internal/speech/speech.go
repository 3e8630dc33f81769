// Package speech turns a call's audio into words, on the machine. A Recognizer starts one
// Stream per call direction; the stream takes 16 kHz, 16-bit mono samples and returns each
// utterance as it ends. Three kinds are built in: pocketsphinx through cgo (package
// speech/sphinx, the default), an external recogniser process or server speaking the
// protocol of package speech/external, and none, which leaves calls unanalysed.
package speech

import (
	"errors"
	"time"
)

// Rate is the sample rate every recogniser is fed, in Hz.
const Rate = 16000

// Utterance is one stretch of speech the recogniser has finished with.
type Utterance struct {
	Text string `json:"text"`
	// Start and End are offsets into the stream (by samples written, not wall clock).
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	// Alternatives are the recogniser's next-best readings of the same speech, best first,
	// when it gives them: a word that came second still reaches the detector.
	Alternatives []string `json:"alternatives,omitempty"`
}

// Recognizer starts streams. Implementations are safe for concurrent use.
type Recognizer interface {
	// Start begins a stream for one direction of one call. It returns ErrBusy when every
	// decoder is in use: the call goes on unanalysed.
	Start(callID string) (Stream, error)
	// Name says which recogniser this is, for logs and /metrics.
	Name() string
	Close() error
}

// Stream recognises one direction of one call. It is used by one goroutine at a time.
type Stream interface {
	// Write adds samples at Rate and returns the utterances that ended within them.
	Write(samples []int16) ([]Utterance, error)
	// Close ends the stream and returns any utterance still open.
	Close() ([]Utterance, error)
}

// ErrBusy means the recogniser has no capacity for another stream now.
var ErrBusy = errors.New("speech: every decoder is busy")

// None is the recogniser that hears nothing: calls go unanalysed.
type None struct{}

// Start always fails: there is nothing to analyse with.
func (None) Start(string) (Stream, error) { return nil, errors.New("speech: no recogniser configured") }

// Name is "none".
func (None) Name() string { return "none" }

// Close does nothing.
func (None) Close() error { return nil }

// SampleTime is how long n samples at Rate last.
func SampleTime(n int64) time.Duration { return time.Duration(n) * time.Second / Rate }
