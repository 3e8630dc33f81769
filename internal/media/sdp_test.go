package media

import (
	"net/netip"
	"strings"
	"testing"
)

const offer = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:49171\r\na=sendrecv\r\n"

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // address, or the error's words
	}{
		{"good", offer, "192.0.2.10:49170"},
		{"unterminated last line", strings.TrimSuffix(offer, "\r\n"), "192.0.2.10:49170"},
		{"lf only", strings.ReplaceAll(offer, "\r\n", "\n"), "192.0.2.10:49170"},
		{"empty", "", "no session description"},
		{"not sdp", "hello", "does not start with v=0"},
		{"no audio", "v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 5000 RTP/AVP 96\r\n", "no audio media line"},
		{"port zero", strings.Replace(offer, "49170", "0", 1), "not a UDP port"},
		{"port too big", strings.Replace(offer, "49170", "70000", 1), "not a UDP port"},
		{"not rtp", strings.Replace(offer, "RTP/AVP", "udp/BFCP", 1), "is not RTP"},
		{"no connection", strings.Replace(offer, "c=IN IP4 192.0.2.10\r\n", "", 1), "c=IN IP4"},
		{"bad address", strings.Replace(offer, "c=IN IP4 192.0.2.10", "c=IN IP4 example.org", 1), "not an IP address"},
		{"line without equals", offer + "garbage\r\n", "type=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseSDP([]byte(tt.body))
			got := o.Addr.String()
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestRewriteSDPPointsMediaAtRelay(t *testing.T) {
	out := RewriteSDP([]byte(offer), netip.MustParseAddr("127.0.0.1"), 20002)
	o, err := ParseSDP(out)
	if err != nil {
		t.Fatalf("rewritten SDP does not parse: %v\n%s", err, out)
	}
	if o.Addr.String() != "127.0.0.1:20002" {
		t.Errorf("rewritten to %s", o.Addr)
	}
	s := string(out)
	for _, keep := range []string{"m=audio 20002 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=sendrecv", "o=alice 1 1 IN IP4 127.0.0.1"} {
		if !strings.Contains(s, keep) {
			t.Errorf("missing %q in\n%s", keep, s)
		}
	}
	if strings.Contains(s, "192.0.2.10") || strings.Contains(s, "a=rtcp:") {
		t.Errorf("peer's address or RTCP port leaked through:\n%s", s)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(offer))
	f.Add([]byte("v=0\nc=IN IP4 1.2.3.4\nm=audio 1 RTP/AVP 0"))
	f.Add([]byte("v=0\r\nm=audio"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseSDP(b)
		if err != nil {
			return
		}
		// Whatever is accepted must survive a rewrite with the same audio line.
		r, err := ParseSDP(RewriteSDP(b, netip.MustParseAddr("127.0.0.1"), 20000))
		if err != nil || r.Addr.Port() != 20000 || len(r.Formats) != len(o.Formats) {
			t.Fatalf("accepted %q but its rewrite gives %+v, %v", b, r, err)
		}
	})
}

const videoOffer = "v=0\r\no=ann 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=video 6402 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" +
	"m=audio 6400 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=candidate:0 1 UDP 2130706431 192.0.2.10 6400 typ host\r\na=rtcp-mux\r\n" +
	"m=audio 6404 RTP/AVP 0\r\n" +
	"m=application 6406 UDP/BFCP *\r\n"

// RFC 3264: the relay carries the first audio stream; every other stream of the offer is
// refused with port 0, in the offer's order, in what the guard sends on and answers.
func TestSeveralStreams(t *testing.T) {
	o, err := ParseSDP([]byte(videoOffer))
	if err != nil {
		t.Fatal(err)
	}
	if o.Audio != 1 || o.Addr.String() != "192.0.2.10:6400" || len(o.Streams) != 4 {
		t.Fatalf("parsed %+v", o)
	}
	fwd := string(RewriteSDP([]byte(videoOffer), netip.MustParseAddr("127.0.0.1"), 20000))
	for _, want := range []string{"m=video 0 RTP/AVP 96", "m=audio 20000 RTP/AVP 0 8 101", "m=audio 0 RTP/AVP 0", "m=application 0 UDP/BFCP *"} {
		if !strings.Contains(fwd, want) {
			t.Errorf("forwarded offer lacks %q:\n%s", want, fwd)
		}
	}
	if strings.Contains(fwd, "a=candidate") || strings.Contains(fwd, "rtcp-mux") || strings.Contains(fwd, "192.0.2.10") {
		t.Errorf("the peer's own transport leaked through:\n%s", fwd)
	}
	// A phone answering with audio alone; the answer to the caller has all four lines.
	phone := "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=sendrecv\r\n"
	ans := string(AnswerLike([]byte(videoOffer), RewriteSDP([]byte(phone), netip.MustParseAddr("127.0.0.1"), 20002)))
	var ms []string
	for _, l := range strings.Split(ans, "\r\n") {
		if strings.HasPrefix(l, "m=") {
			ms = append(ms, l)
		}
	}
	want := []string{"m=video 0 RTP/AVP 96", "m=audio 20002 RTP/AVP 0", "m=audio 0 RTP/AVP 0", "m=application 0 UDP/BFCP *"}
	if strings.Join(ms, "|") != strings.Join(want, "|") {
		t.Errorf("answer's streams %q; want %q", ms, want)
	}
	if a, err := ParseSDP([]byte(ans)); err != nil || a.Addr.String() != "127.0.0.1:20002" {
		t.Errorf("the answer does not parse as relayed audio: %+v %v", a, err)
	}
	// Every audio stream refused: the offer is not one the relay can take.
	if _, err := ParseSDP([]byte(strings.ReplaceAll(videoOffer, "m=audio 640", "m=audio 0 "))); err == nil {
		t.Error("an offer with every audio stream refused was taken")
	}
}

// A description without telephone events gets them on its audio stream, once.
func TestWithTelephoneEvent(t *testing.T) {
	plain := strings.Replace(offer, " 0 8 101", " 0 8", 1)
	got := WithTelephoneEvent([]byte(plain))
	if pt := TelephoneEventType(got); pt != 101 || !strings.Contains(string(got), "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000") {
		t.Errorf("telephone events at %d:\n%s", pt, got)
	}
	if again := WithTelephoneEvent(got); string(again) != string(got) {
		t.Errorf("added twice:\n%s", again)
	}
}
