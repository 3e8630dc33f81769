package guard

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func parseInvite(t *testing.T, raw string) *sip.Request {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("test INVITE does not parse: %v", err)
	}
	return msg.(*sip.Request)
}

const inviteHead = "INVITE sip:kitchen@192.0.2.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-1\r\n" +
	"To: <sip:kitchen@192.0.2.1>\r\n" +
	"Call-ID: screening-1@203.0.113.10\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:203.0.113.10:5060>\r\n"

func TestScreeningCallFromInvite(t *testing.T) {
	tests := []struct {
		name          string
		headers       string
		number, dname string
		withheld      bool
	}{
		{"plain From", `From: "Jean Smith" <sip:+442085550123@203.0.113.10>;tag=1` + "\r\n", "+442085550123", "Jean Smith", false},
		{"spoofed 101", `From: "Police" <sip:101@203.0.113.10>;tag=1` + "\r\n", "101", "Police", false},
		{"P-Asserted-Identity wins", `From: <sip:+442085550123@203.0.113.10>;tag=1` + "\r\n" +
			`P-Asserted-Identity: "DS Miller" <sip:+441632960555@203.0.113.10>` + "\r\n", "+441632960555", "DS Miller", false},
		{"tel: identity", `From: <sip:+442085550123@203.0.113.10>;tag=1` + "\r\n" +
			"P-Asserted-Identity: <tel:+443457404404>\r\n", "+443457404404", "", false},
		{"anonymous From", `From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=1` + "\r\n", "anonymous", "Anonymous", true},
		{"Privacy: id hides the asserted number", `From: <sip:+442085550123@203.0.113.10>;tag=1` + "\r\n" +
			"P-Asserted-Identity: <sip:+442085550123@203.0.113.10>\r\nPrivacy: id\r\n", "+442085550123", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := parseInvite(t, inviteHead+tt.headers+"Content-Length: 0\r\n\r\n")
			c := screeningCall(req, time.Now())
			if c.Number != tt.number || c.DisplayName != tt.dname || c.Withheld != tt.withheld {
				t.Errorf("got number %q name %q withheld %v; want %q %q %v", c.Number, c.DisplayName, c.Withheld, tt.number, tt.dname, tt.withheld)
			}
		})
	}
}

func TestScreeningCallReadsIdentity(t *testing.T) {
	const identity = "eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.c2ln;info=<https://certs.provider.example/provider.pem>;alg=ES256;ppt=shaken"
	req := parseInvite(t, inviteHead+`From: <sip:+442085550123@203.0.113.10>;tag=1`+"\r\n"+
		"Identity: "+identity+"\r\nContent-Length: 0\r\n\r\n")
	if c := screeningCall(req, time.Now()); c.Identity != identity {
		t.Errorf("Identity = %q", c.Identity)
	}
}

func TestInfoDigit(t *testing.T) {
	for body, want := range map[string]byte{"Signal=1\r\nDuration=160\r\n": '1', "Signal= #\r\n": '#', "Duration=160\r\n": 0} {
		if got := infoDigit([]byte(body)); got != want {
			t.Errorf("%q: %q; want %q", body, got, want)
		}
	}
}
