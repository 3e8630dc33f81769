package claim

import (
	"context"
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// Limits bound how long the guard waits for one answer.
type Limits struct {
	// Start is how long the caller has to begin answering.
	Start time.Duration
	// Longest is the most an answer may take; a caller still speaking then is taken for a
	// recording that does not stop to listen.
	Longest time.Duration
	// Pause ends the answer: this long without speech once the caller has spoken (on top of
	// the recogniser's own 0.3 s to decide speech has stopped).
	Pause time.Duration
}

// DefaultLimits are the guard's: an answer begins within 4 s, is over 0.8 s after the last
// word, and takes at most 6 s.
var DefaultLimits = Limits{Start: 4 * time.Second, Longest: 6 * time.Second, Pause: 500 * time.Millisecond}

// Heard is one answer as the guard heard it.
type Heard struct {
	speech.Heard
	// Spoke says the caller began to speak (or key) within Start; Finished that they
	// stopped within Longest.
	Spoke, Finished bool
	// Keyed are the keys the caller pressed instead of speaking (an ID number keyed in).
	Keyed string
}

// keyPause ends keyed digits: this long after the last key, unless # ends them first.
const keyPause = 2 * time.Second

// Answered says the caller answered: they spoke, and stopped to be answered in turn.
func (h Heard) Answered() bool { return h.Spoke && h.Finished }

// Frame is one RTP packet's audio: its payload type and payload.
type Frame struct {
	PT      byte
	Payload []byte
}

// Hear hears one answer: the caller's audio (G.711 frames) fed to the named grammar until the
// caller has spoken and paused, or the limits pass, or ctx ends. The relay hands packets on
// without waiting, so a decoder that falls behind loses audio rather than holding the call.
// A caller may key the answer in instead (keys, nil when not offered): digits until #, or
// until a pause after the last, within Longest.
func Hear(ctx context.Context, g speech.Grammar, grammar string, frames <-chan Frame, keys <-chan byte, lim Limits) (Heard, error) {
	a, err := g.Hear(grammar)
	if err != nil {
		return Heard{}, err
	}
	var h Heard
	var dec speech.Decoder
	start := time.Now()
	var lastSpeech, lastKey time.Time
	speaking := false
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case f := <-frames:
			samples := dec.Decode(f.PT, f.Payload)
			if samples == nil {
				continue // not G.711: a telephone event, comfort noise
			}
			if speaking, err = a.Write(samples); err != nil {
				a.End()
				return h, err
			}
			if speaking {
				h.Spoke, lastSpeech = true, time.Now()
			}
		case k := <-keys:
			if k == '#' && h.Keyed != "" {
				h.Spoke, h.Finished = true, true
				heard, err := a.End()
				h.Heard = heard
				return h, err
			}
			if k >= '0' && k <= '9' {
				h.Keyed += string(k)
				lastKey = time.Now()
			}
		case <-tick.C:
		case <-ctx.Done():
			heard, err := a.End()
			h.Heard = heard
			return h, err
		}
		now := time.Now()
		done := false
		switch {
		case h.Keyed != "" && (now.Sub(lastKey) >= keyPause || len(h.Keyed) >= MaxIDDigits || now.Sub(start) >= lim.Start+lim.Longest):
			// Keying ends at a pause, at the longest ID number, or when the time for
			// starting and giving an answer is up: a caller pressing a key now and then
			// cannot hold the decoder.
			done, h.Spoke, h.Finished = true, true, true
		case h.Keyed != "":
			// keying: the speech heard meanwhile is not the answer
		case !h.Spoke && now.Sub(start) >= lim.Start:
			done = true
		case h.Spoke && !speaking && now.Sub(lastSpeech) >= lim.Pause:
			done, h.Finished = true, true
		case now.Sub(start) >= lim.Longest:
			done = true
		}
		if done {
			heard, err := a.End()
			h.Heard = heard
			return h, err
		}
	}
}
