package media

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
)

// Tone is a 1 kHz beep of d as mu-law samples: "speak after the tone".
func Tone(d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	out := make([]byte, n)
	for i := range out {
		out[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000)))
	}
	return out
}

// capture collects the payloads a side sends while it is recorded.
type capture struct {
	mu  sync.Mutex
	buf []byte
}

// Record keeps what side sd says for d (its RTP payloads, in the codec it sends), with
// nothing relayed to or from sd meanwhile. It returns early if ctx ends.
func (s *Session) Record(ctx context.Context, sd call.Side, d time.Duration) []byte {
	e := s.side(sd)
	c := &capture{}
	e.playing.Store(true)
	e.capture.Store(c)
	defer func() {
		e.capture.Store(nil)
		e.playing.Store(false)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

func (c *capture) add(pkt []byte) {
	if off := rtpPayloadOffset(pkt); off > 0 && off < len(pkt) {
		c.mu.Lock()
		c.buf = append(c.buf, pkt[off:]...)
		c.mu.Unlock()
	}
}

// RTPPayload splits an RTP packet into its payload type and payload; ok is false for a
// packet that is not RTP version 2 or carries no payload.
func RTPPayload(pkt []byte) (pt byte, payload []byte, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return 0, nil, false
	}
	off := rtpPayloadOffset(pkt)
	if off < 0 || off >= len(pkt) {
		return 0, nil, false
	}
	return pkt[1] & 0x7f, pkt[off:], true
}

// rtpPayloadOffset skips the fixed header, CSRCs and any header extension.
func rtpPayloadOffset(pkt []byte) int {
	off := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 && len(pkt) >= off+4 {
		off += 4 + 4*(int(pkt[off+2])<<8|int(pkt[off+3]))
	}
	if off > len(pkt) {
		return -1
	}
	return off
}

// WatchDTMF reports the digits side sd sends as RFC 4733 telephone events of payload type
// pt, one per key press, on the returned channel until stop is called.
func (s *Session) WatchDTMF(sd call.Side, pt int) (digits <-chan byte, stop func()) {
	ch := make(chan byte, 8)
	e := s.side(sd)
	e.dtmf.Store(&dtmfWatch{pt: byte(pt), ch: ch})
	return ch, func() { e.dtmf.Store(nil) }
}

type dtmfWatch struct {
	pt   byte
	ch   chan byte
	last uint32 // timestamp of the last event reported: each press repeats its packets
	seen bool
}

// see reports a key press in pkt if it is a telephone event this watch is for.
func (w *dtmfWatch) see(pkt []byte) {
	off := rtpPayloadOffset(pkt)
	if pkt[1]&0x7f != w.pt || off < 0 || len(pkt) < off+4 {
		return
	}
	ts := uint32(pkt[4])<<24 | uint32(pkt[5])<<16 | uint32(pkt[6])<<8 | uint32(pkt[7])
	if w.seen && ts == w.last {
		return
	}
	w.seen, w.last = true, ts
	if d := eventDigit(pkt[off]); d != 0 {
		select {
		case w.ch <- d:
		default:
		}
	}
}

func eventDigit(ev byte) byte {
	switch {
	case ev <= 9:
		return '0' + ev
	case ev == 10:
		return '*'
	case ev == 11:
		return '#'
	}
	return 0
}

var telephoneEvent = regexp.MustCompile(`(?m)^a=rtpmap:(\d+) telephone-event/8000`)

// TelephoneEventType is the payload type an SDP gives RFC 4733 events, or -1.
func TelephoneEventType(sdp []byte) int {
	m := telephoneEvent.FindSubmatch(sdp)
	if m == nil {
		return -1
	}
	pt, _ := strconv.Atoi(string(m[1]))
	return pt
}
