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
type Offer struct {
	Addr netip.AddrPort
	// RTCP is where the peer takes RTCP when it says (a=rtcp, RFC 3605); otherwise zero,
	// meaning the port above Addr's.
	RTCP netip.AddrPort
	// Formats are the RTP payload types offered, in order.
	Formats []string
}

// ErrNoSDP is returned for an empty body.
var ErrNoSDP = errors.New("no session description")

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
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return o, fmt.Errorf("sdp: no audio media line (m=audio): %w", err)
	}
	if md.Port <= 0 || md.Port > 65535 {
		return o, fmt.Errorf("sdp: audio port %d is not a UDP port", md.Port)
	}
	if !strings.HasPrefix(md.Proto, "RTP/") {
		return o, fmt.Errorf("sdp: audio transport %q is not RTP", md.Proto)
	}
	if len(md.Formats) == 0 {
		return o, errors.New("sdp: audio line offers no payload formats")
	}
	c := sd.Value("c")
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
	for _, v := range audioAttrs(body, "rtcp:") {
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

// audioAttrs returns the values of the a=<name> attributes of the audio media section
// (the part after "name").
func audioAttrs(body []byte, name string) []string {
	var out []string
	inAudio := false
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, "m=") {
			inAudio = strings.HasPrefix(l, "m=audio ")
			continue
		}
		if v, ok := strings.CutPrefix(l, "a="+name); ok && inAudio {
			out = append(out, v)
		}
	}
	return out
}

// RewriteSDP returns body with every connection address set to ip and the audio port
// set to port, so the peer sends its media to the relay. Everything else is kept.
func RewriteSDP(body []byte, ip netip.Addr, port int) []byte {
	fam := "IP4"
	if ip.Is6() {
		fam = "IP6"
	}
	lines := strings.Split(strings.TrimRight(string(body), "\r\n"), "\n")
	var out strings.Builder
	for _, l := range lines {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.HasPrefix(l, "c="):
			l = "c=IN " + fam + " " + ip.String()
		case strings.HasPrefix(l, "o="):
			if f := strings.Fields(l); len(f) == 6 {
				f[4], f[5] = fam, ip.String()
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "m=audio "):
			if f := strings.Fields(l); len(f) >= 2 {
				f[1] = strconv.Itoa(port)
				l = strings.Join(f, " ")
			}
		case strings.HasPrefix(l, "a=rtcp:"):
			continue // the relay takes RTCP on the port above its RTP port, the default
		}
		out.WriteString(l)
		out.WriteString("\r\n")
	}
	return []byte(out.String())
}
