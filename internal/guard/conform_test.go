package guard

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzInbound runs whatever arrives from outside through the guard's reading of it: the
// SIP parser, the checks every request passes, and the answer to what does not parse,
// which must itself be a SIP response (or nothing). Seeded with RFC 4475's messages:
// go test -fuzz FuzzInbound ./internal/guard
func FuzzInbound(f *testing.F) {
	for _, m := range tortureMessagesFor(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			if res := answerUnparsed(data, err); res != nil {
				if _, err := sip.ParseMessage(res); err != nil {
					t.Fatalf("the answer to %q does not parse: %v\n%s", data, err, res)
				}
			}
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.IsAck() {
			return
		}
		if r := checkSyntax(req); r != nil {
			return
		}
		checkMethod(req)
		checkRequire(req)
		checkOffer(req)
		withDigestOnly(req)
	})
}
