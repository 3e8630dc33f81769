// Package claim is who a caller says they are, heard reliably. The guard asks an unknown or
// warned caller who they are and which organisation they are calling from, and — when they
// claim to be the police, a bank or the government — their ID number, as the police advise
// everyone to ask. The answers are heard against grammars (JSGF) built from a catalogue of
// the organisations callers claim (organisations.txt): choosing among a few hundred names,
// or hearing a few digits, is something a small recogniser does well, where open-vocabulary
// recognition of the same call does not.
//
//	caller's answer ─▶ Hear (RTP → 16 kHz → grammar decoder, ends at the pause) ─▶ words
//	words ─▶ Read / ReadID ─▶ Claim{Kind, Organisation, IDNumber}
//	household's setting + screening verdict ─▶ ShouldAsk;  Claim ─▶ Offer (what the resident hears)
//
// Everything here but Hear's decoder is pure: words, settings and verdicts in, decisions out.
package claim

import (
	"fmt"
)

// Kind is what sort of organisation a caller claims to be from. Stored with the call and
// sent to the hub: new values only at the end.
type Kind int

const (
	// Unknown: the caller said nothing the grammar knows, or nothing at all.
	Unknown Kind = iota
	// Police: a police force, Action Fraud / Report Fraud, the National Crime Agency, the
	// Serious Fraud Office.
	Police
	// Bank: a bank, building society or card company, or "your bank's fraud team".
	Bank
	// Government: HMRC, DWP, the NHS and the surgery, the DVLA, the council, the courts.
	Government
	// Company: a retailer or platform, a broadband, phone or energy supplier, a courier.
	Company
	// Family: a relative ("it's your grandson", "it's me, Nan").
	Family
)

var kindNames = [...]string{"unknown", "police", "bank", "government", "company", "family"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown claim kind %q (want one of unknown, police, bank, government, company, family)", b)
}

// Authority says whether a claim of this kind gets the ID check: the police, a bank or the
// government, the callers whose word a person is most likely to act on.
func (k Kind) Authority() bool { return k == Police || k == Bank || k == Government }

// Claim is what a caller said they were, as heard.
type Claim struct {
	Kind Kind
	// Organisation is the organisation's name as the catalogue records it ("Metropolitan
	// Police"); empty when none was heard.
	Organisation string
	// IDNumber is the ID or collar number they gave, as digits; empty when none.
	IDNumber string
	// Words are what the grammar heard, both answers.
	Words string
	// Answered says the caller answered the first question: speech the guard heard stop
	// within the time it gives an answer.
	Answered bool
}
