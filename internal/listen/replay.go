package listen

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/clearline/clearline/internal/call"
)

// FrameBytes is one 20 ms RTP packet's worth of G.711 audio.
const FrameBytes = 160

// Replay analyses a recording through the same tap a live call uses: the audio (G.711 of
// payload type pt, 8 kHz) is cut into 20 ms RTP packets and handed to a tap as the relay
// would, except that Replay waits for the analysis instead of dropping what it cannot take
// at once, so the whole recording is heard however fast the machine is. It returns the
// call's analysis as the guard would record it, or an error when the recogniser could not
// be started or failed.
func (l *Listener) Replay(callID string, pt byte, audio []byte, h Hooks) (*call.Risk, error) {
	t := l.tap(callID, h, 0) // unqueued: each send waits for the tap to take the packet
	if t.queue == nil {
		return t.Risk(), errors.New("no recogniser configured")
	}
	t.started.Store(true)
	t.gotAudio.Store(true)
	go t.start()
	hdr := make([]byte, 12)
	hdr[0], hdr[1] = 0x80, pt&0x7f
feed:
	for seq, off := 0, 0; off < len(audio); seq, off = seq+1, off+FrameBytes {
		binary.BigEndian.PutUint16(hdr[2:], uint16(seq))
		binary.BigEndian.PutUint32(hdr[4:], uint32(off))
		pkt := append(hdr[:12:12], audio[off:min(off+FrameBytes, len(audio))]...)
		select {
		case t.queue <- pkt:
		case <-t.exited: // the recogniser was busy or failed
			break feed
		}
	}
	// Every packet sent has been taken by the tap's goroutine, which finishes with it before
	// it looks at Close.
	t.Close()
	<-t.Done()
	t.mu.Lock()
	err := t.err
	t.mu.Unlock()
	if err != nil {
		return t.Risk(), fmt.Errorf("%s: %w", l.rec.Name(), err)
	}
	return t.Risk(), nil
}

// NoMetrics counts nothing: for tools that analyse recordings outside a guard.
type NoMetrics struct{}

func (NoMetrics) Stream(string)       {}
func (NoMetrics) AudioDropped(int)    {}
func (NoMetrics) Utterance()          {}
func (NoMetrics) Intervention(string) {}
