package media

import (
	"context"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
)

func TestTelephoneEventType(t *testing.T) {
	for sdp, want := range map[string]int{
		"v=0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n": 101,
		"v=0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n":   96,
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\n":                                          -1,
	} {
		if got := TelephoneEventType([]byte(sdp)); got != want {
			t.Errorf("%q: %d; want %d", sdp, got, want)
		}
	}
}

func event(pt byte, digit byte, ts uint32, seq uint16) []byte {
	p := make([]byte, 16)
	p[0], p[1] = 0x80, pt
	p[2], p[3] = byte(seq>>8), byte(seq)
	p[4], p[5], p[6], p[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	p[12] = digit
	return p
}

// Key presses arrive once each, however many packets repeat them; recording keeps what a
// side says and relays none of it.
func TestDTMFAndRecord(t *testing.T) {
	rg := newRig(t, 41700)
	s, caller, phone, trunk, house := rg.s, rg.caller, rg.phone, rg.trunk, rg.house

	digits, stop := s.WatchDTMF(call.Household, 101)
	for i := range 4 { // one press of 1, sent four times as RFC 4733 does
		phone.WriteToUDP(event(101, 1, 8000, uint16(i)), house)
	}
	phone.WriteToUDP(event(101, 2, 9600, 9), house)
	for _, want := range []byte{'1', '2'} {
		select {
		case d := <-digits:
			if d != want {
				t.Errorf("digit %c; want %c", d, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("digit %c not seen", want)
		}
	}
	select {
	case d := <-digits:
		t.Errorf("extra digit %c from repeated packets", d)
	case <-time.After(100 * time.Millisecond):
	}
	stop()

	done := make(chan []byte)
	go func() { done <- s.Record(context.Background(), call.Trunk, 300*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond)
	for i := range 3 {
		p := rtp(byte(i))
		p[12] = 0x55
		caller.WriteToUDP(p, trunk)
	}
	got := <-done
	if len(got) != 3*160 || got[0] != 0x55 {
		t.Errorf("recorded %d bytes (first %#x); want 480 of the caller's payload", len(got), got[0])
	}
	phone.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, 2000)
	if _, _, err := phone.ReadFromUDP(buf); err == nil {
		t.Error("the phone heard the caller while the caller was being recorded")
	}
}

func TestTone(t *testing.T) {
	if got := len(Tone(400 * time.Millisecond)); got != 3200 {
		t.Errorf("400 ms tone has %d samples; want 3200", got)
	}
}
