package guard

import (
	"bytes"
	"slices"
	"testing"

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
