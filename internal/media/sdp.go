package media

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/diago/media/sdp"
)

// Offer is what the relay needs from a session description: where the peer wants audio.
// A description may carry several streams (m= lines: audio, video, ...); the relay carries
// the first audio stream that is not refused, and every other stream is refused in what
// the guard sends on (RFC 3264 §6: port 0, in the offer's order).
type Offer struct {
	Addr netip.AddrPort
	// RTCP is where the peer takes RTCP when it says (a=rtcp, RFC 3605); otherwise zero,
	// meaning the port above Addr's.
	RTCP netip.AddrPort
	// Formats are the RTP payload types offered for the audio stream, in order.
	Formats []string
	// Streams are every m= line, in order; Audio is the index of the one relayed.
	Streams []Stream
	Audio   int
	// Secure says the audio stream is SRTP (RTP/SAVP, RTP/SAVPF), with the keys offered
	// for it (RFC 4568).
	Secure bool
	Crypto []Crypto
}

// Stream is one m= line.
type Stream struct {
	Media   string // audio, video, application...
	Port    int
	Proto   string
	Formats []string
}

// ErrNoSDP is returned for an empty body.
var ErrNoSDP = errors.New("no session description")

// section is one part of a description: the session part (before the first m=) or one
// media part, as lines without their line ends.
type section []string

// sections splits a description into its session part and its media parts.
func sections(body []byte) []section {
	out := []section{nil}
	for _, l := range strings.Split(strings.TrimRight(string(body), "\r\n"), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, "m=") {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], l)
	}
	return out
}

// value is the value of the first line of type t= in s ("" if none).
func (s section) value(t string) string {
	for _, l := range s {
		if v, ok := strings.CutPrefix(l, t+"="); ok {
			return v
		}
	}
	return ""
}

// ParseSDP checks a session description and returns its audio address. It names what is
// wrong with a broken one.
func ParseSDP(body []byte) (Offer, error) {
	var o Offer
	if len(bytes.TrimSpace(body)) == 0 {
		return o, ErrNoSDP
	}
	if !bytes.HasPrefix(body, []byte("v=0")) {
		return o, errors.New("sdp: does not start with v=0")
	}
	sd := sdp.SessionDescription{}
	if !bytes.HasSuffix(body, []byte("\n")) {
		body = append(body[:len(body):len(body)], '\n') // the parser drops an unterminated last line
	}
	if err := sdp.Unmarshal(body, &sd); err != nil {
		return o, fmt.Errorf("sdp: %w", err)
	}
	secs := sections(body)
	o.Audio = -1
	refused := false
	for i, sec := range secs[1:] {
		f := strings.Fields(strings.TrimPrefix(sec[0], "m="))
		if len(f) < 3 {
			return o, fmt.Errorf("sdp: media line %q needs a media type, port and transport", sec[0])
		}
		port, err := strconv.Atoi(strings.Split(f[1], "/")[0])
		if err != nil {
			return o, fmt.Errorf("sdp: media line %q has no port", sec[0])
		}
		st := Stream{Media: f[0], Port: port, Proto: f[2], Formats: f[3:]}
		o.Streams = append(o.Streams, st)
		if st.Media == "audio" && o.Audio < 0 {
			if port == 0 {
				refused = true
				continue
			}
			o.Audio = i
		}
	}
	if o.Audio < 0 {
		if refused {
			return o, errors.New("sdp: audio port 0 is not a UDP port: the audio stream is refused")
		}
		return o, errors.New("sdp: no audio media line (m=audio)")
	}
	md := o.Streams[o.Audio]
	if md.Port <= 0 || md.Port > 65535 {
		return o, fmt.Errorf("sdp: audio port %d is not a UDP port", md.Port)
	}
	if !strings.HasPrefix(md.Proto, "RTP/") {
		return o, fmt.Errorf("sdp: audio transport %q is not RTP", md.Proto)
	}
	if len(md.Formats) == 0 {
		return o, errors.New("sdp: audio line offers no payload formats")
	}
	audio := secs[o.Audio+1]
	c := audio.value("c")
	if c == "" {
		c = secs[0].value("c")
	}
	f := strings.Fields(c)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return o, fmt.Errorf("sdp: connection line %q is not c=IN IP4 <address>", c)
	}
	ip, err := netip.ParseAddr(f[2])
	if err != nil {
		return o, fmt.Errorf("sdp: connection address %q is not an IP address", f[2])
	}
	o.Addr = netip.AddrPortFrom(ip, uint16(md.Port))
	o.Formats = md.Formats
	o.Secure = strings.Contains(md.Proto, "/SAVP")
	for _, l := range audio {
		if v, ok := strings.CutPrefix(l, "a=crypto:"); ok {
			c, err := parseCrypto(v)
			if err != nil {
				return o, err
			}
			o.Crypto = append(o.Crypto, c)
		}
	}
	if o.Secure && len(o.Crypto) == 0 {
		return o, fmt.Errorf("sdp: %s audio without a=crypto: keys by DTLS are not supported, only SDES (RFC 4568)", md.Proto)
	}
	for _, l := range audio {
		v, ok := strings.CutPrefix(l, "a=rtcp:")
		if !ok {
			continue
		}
		f := strings.Fields(v) // "53020" or "53020 IN IP4 126.16.64.4"
		if len(f) == 0 {
			return o, fmt.Errorf("sdp: a=rtcp:%s has no port", v)
		}
		port, err := strconv.Atoi(f[0])
		if err != nil || port <= 0 || port > 65535 {
			return o, fmt.Errorf("sdp: a=rtcp:%s has no port", v)
		}
		at := ip
		if len(f) == 4 {
			if at, err = netip.ParseAddr(f[3]); err != nil {
				return o, fmt.Errorf("sdp: a=rtcp address %q is not an IP address", f[3])
			}
		}
		o.RTCP = netip.AddrPortFrom(at, uint16(port))
	}
	return o, nil
}

// relayOnly are attributes that describe the peer's own transport, which the relay
// replaces: they must not reach the other side, which would try them instead of the relay.
func relayOnly(l string) bool {
	for _, p := range []string{"a=rtcp:", "a=rtcp-mux", "a=candidate:", "a=ice-", "a=remote-candidates", "a=end-of-candidates"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// RewriteSDP returns body with every connection address set to ip, the relayed audio
// stream's port set to port and every other stream refused (port 0), so the peer sends
// its media to the relay and nothing elsewhere. The peer's own transport details (a=rtcp,
// ICE candidates, rtcp-mux) are dropped; everything else is kept. A body ParseSDP refuses
// is only readdressed.
func RewriteSDP(body []byte, ip netip.Addr, port int) []byte {
	o, _ := ParseSDP(body)
	audio := -1
	if len(o.Streams) > 0 {
		audio = o.Audio
	}
	var out strings.Builder
	for i, sec := range sections(body) {
		for j, l := range sec {
			switch {
			case j == 0 && i > 0:
				if f := strings.Fields(l); len(f) >= 2 {
					f[1] = "0"
					if i-1 == audio || (audio < 0 && f[0] == "m=audio") {
						f[1] = strconv.Itoa(port)
					}
					l = strings.Join(f, " ")
				}
			case strings.HasPrefix(l, "c="):
				l = "c=IN " + family(ip) + " " + ip.String()
			case strings.HasPrefix(l, "o="):
				if f := strings.Fields(l); len(f) == 6 {
					f[4], f[5] = family(ip), ip.String()
					l = strings.Join(f, " ")
				}
			case relayOnly(l):
				continue // the relay takes RTCP on the port above its RTP port, the default
			}
			out.WriteString(l)
			out.WriteString("\r\n")
		}
	}
	return []byte(out.String())
}

func family(ip netip.Addr) string {
	if ip.Is6() {
		return "IP6"
	}
	return "IP4"
}

// AnswerLike shapes answer, a session description for the offer's relayed audio stream, to
// the offer: one m= line for each of the offer's, in its order, the audio one from the
// answer and every other refused with port 0 (RFC 3264 §6). The answer's own other streams
// are dropped, whatever they were.
func AnswerLike(offer, answer []byte) []byte {
	o, err := ParseSDP(offer)
	a, aerr := ParseSDP(answer)
	if err != nil || aerr != nil {
		return answer
	}
	secs := sections(answer)
	var out strings.Builder
	for _, l := range secs[0] {
		out.WriteString(l)
		out.WriteString("\r\n")
	}
	for i, st := range o.Streams {
		if i == o.Audio {
			for _, l := range secs[a.Audio+1] {
				out.WriteString(l)
				out.WriteString("\r\n")
			}
			continue
		}
		format := "0"
		if len(st.Formats) > 0 {
			format = st.Formats[0]
		}
		fmt.Fprintf(&out, "m=%s 0 %s %s\r\n", st.Media, st.Proto, format)
	}
	return []byte(out.String())
}
