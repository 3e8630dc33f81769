package media

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
)

//go:embed prompts/*.ul
var prompts embed.FS

// Prompt returns a spoken prompt as 8 kHz mu-law samples (see scripts/prompts.sh).
func Prompt(name string) ([]byte, error) {
	b, err := prompts.ReadFile("prompts/" + name + ".ul")
	if err != nil {
		return nil, fmt.Errorf("media: no prompt %q", name)
	}
	return b, nil
}

// Payload types the player can send.
const (
	PCMU = 0
	PCMA = 8
)

// ChooseCodec picks the first G.711 format of an offer.
func ChooseCodec(formats []string) (int, bool) {
	for _, f := range formats {
		switch f {
		case "0":
			return PCMU, true
		case "8":
			return PCMA, true
		}
	}
	return 0, false
}

// AnswerSDP is the guard's own answer when it, not a phone, takes a call: sendonly to play a
// prompt, sendrecv to listen as well.
func AnswerSDP(ip string, port, pt int, mode string) []byte {
	return AnswerSDPKeys(ip, port, pt, -1, mode)
}

// AnswerSDPKeys is AnswerSDP taking key presses too, as RFC 4733 telephone events of payload
// type te (the caller's offer's); te -1 leaves them out.
func AnswerSDPKeys(ip string, port, pt, te int, mode string) []byte {
	name := "PCMU"
	if pt == PCMA {
		name = "PCMA"
	}
	formats, events := fmt.Sprint(pt), ""
	if te >= 0 {
		formats += fmt.Sprintf(" %d", te)
		events = fmt.Sprintf("a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", te, te)
	}
	return fmt.Appendf(nil, "v=0\r\no=clearline 1 1 IN IP4 %s\r\ns=clearline\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:%d %s/8000\r\n%sa=%s\r\n",
		ip, ip, port, formats, pt, name, events, mode)
}

// Play sends samples (mu-law) to side sd as RTP in 20 ms packets, in real time, from the
// relay's port facing that side. Meanwhile nothing is relayed to or from sd, so the other
// side hears none of the prompt, even echoed. It returns when the prompt ends or ctx does.
func (s *Session) Play(ctx context.Context, sd call.Side, ulaw []byte, pt int) error {
	e := s.side(sd)
	dst := e.remote.Load()
	if dst == nil {
		return fmt.Errorf("media: no address for the %s side", sd)
	}
	payload := ulaw
	if pt == PCMA {
		payload = g711.Ulaw2Alaw(ulaw)
	}
	e.playing.Store(true)
	defer e.playing.Store(false)
	var hdr [12]byte
	_, _ = rand.Read(hdr[2:12])          // random sequence start, timestamp and SSRC
	hdr[0], hdr[1] = 0x80, byte(pt)|0x80 // version 2; marker on the first packet
	seq := binary.BigEndian.Uint16(hdr[2:4])
	ts := binary.BigEndian.Uint32(hdr[4:8])
	pkt := make([]byte, 12+160)
	sealed := make([]byte, 12+160+16)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	addr := net.UDPAddrFromAddrPort(*dst)
	for off := 0; off < len(payload); off += 160 {
		frame := payload[off:min(off+160, len(payload))]
		copy(pkt, hdr[:])
		binary.BigEndian.PutUint16(pkt[2:4], seq)
		binary.BigEndian.PutUint32(pkt[4:8], ts)
		n := copy(pkt[12:], frame)
		out := pkt[:12+n]
		if sec := e.secure.Load(); sec != nil {
			var err error
			if out, err = sec.seal(sealed[:0], out); err != nil {
				return fmt.Errorf("media: play: %w", err)
			}
		}
		if _, err := e.conn.WriteToUDP(out, addr); err != nil {
			return fmt.Errorf("media: play: %w", err)
		}
		hdr[1] &^= 0x80
		seq++
		ts += 160
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
