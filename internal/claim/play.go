package claim

import (
	"context"
	"time"

	"github.com/clearline/clearline/internal/speech"
)

// Play sends recorded µ-law audio as a call's RTP brings it, a 20 ms frame at a time in real
// time, then silence, until ctx ends: an answer for Hear to hear, in tests and claimeval.
func Play(ctx context.Context, ulaw []byte) <-chan Frame {
	frames := make(chan Frame, 100)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		silence := make([]byte, 160)
		for i := range silence {
			silence[i] = 0xff
		}
		for off := 0; ; off += 160 {
			f := silence
			if off < len(ulaw) {
				f = ulaw[off:min(off+160, len(ulaw))]
			}
			select {
			case frames <- Frame{PT: speech.PCMU, Payload: f}:
			case <-ctx.Done():
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return frames
}
