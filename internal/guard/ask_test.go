package guard

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/media"
)

// The claim an asked caller made is the fact the call's detector starts with, of the kind
// the detector has for it.
func TestKnownFromClaim(t *testing.T) {
	for _, tc := range []struct {
		claim *call.Claim
		want  []detect.Finding
	}{
		{&call.Claim{Kind: "police", Organisation: "Metropolitan Police"}, []detect.Finding{{Kind: detect.AuthorityClaim, Evidence: "metropolitan police"}}},
		{&call.Claim{Kind: "bank"}, []detect.Finding{{Kind: detect.AuthorityClaim, Evidence: "bank"}}},
		{&call.Claim{Kind: "government", Organisation: "HMRC"}, []detect.Finding{{Kind: detect.AuthorityClaim, Evidence: "hmrc"}}},
		{&call.Claim{Kind: "company", Organisation: "Amazon"}, []detect.Finding{{Kind: detect.CompanyClaim, Evidence: "amazon"}}},
		{&call.Claim{Kind: "family", Organisation: "Grandson"}, []detect.Finding{{Kind: detect.RelativeClaim, Evidence: "grandson"}}},
		{&call.Claim{Kind: "unknown"}, nil},
		{nil, nil},
	} {
		if got := known(tc.claim); !slices.Equal(got, tc.want) {
			t.Errorf("known(%+v) = %+v; want %+v", tc.claim, got, tc.want)
		}
	}
}

// What the resident hears is the prompts, the caller's own words and the digits read out
// one by one, with a breath between them.
func TestTell(t *testing.T) {
	said := []byte("caller's words")
	cl := claim.Claim{Kind: claim.Police, Organisation: "Kent Police", IDNumber: "41", Answered: true}
	got := tell(cl.Telling(false), said)
	p := func(name string) []byte {
		b, err := media.Prompt(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var want []byte
	for _, part := range [][]byte{p("claim_police"), said, p("claim_id"), p("digit_4"), silence(digitGap), p("digit_1"), silence(digitGap), p("advice_police"), p("choice_police")} {
		want = append(want, part...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("told %d bytes; want %d", len(got), len(want))
	}
}

type noStats struct{}

func (noStats) SessionOpened()        {}
func (noStats) SessionClosed()        {}
func (noStats) Packet(from call.Side) {}

// The fresh call the guard places for a resident who chose to have the police rung has no
// received dialog (the phone's leg is the guard's own): the provider's early media on it
// (a 183 with SDP, as many UK trunks send) is not relayed, and must not be read through
// that missing dialog — it ran in sipgo's response callback, where a panic ends the process.
func TestEarlyMediaOnFreshCallFromAskedCall(t *testing.T) {
	relay := media.NewRelay(netip.MustParseAddr("127.0.0.1"), 46000, 46100, noStats{})
	ms, err := relay.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	b := &bridge{g: &Guard{relay: relay}, inSide: call.Household, ms: ms}
	res := sip.NewResponse(sip.StatusSessionInProgress, "Session Progress")
	res.SetBody(media.AnswerSDP("127.0.0.2", 40000, media.PCMU, "sendrecv"))
	b.onProvisional(res) // panicked before
	if b.early.Load() {
		t.Error("early media relayed to a phone whose leg is already answered")
	}
}
