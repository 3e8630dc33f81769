package screen

import (
	"bytes"
	_ "embed"
)

//go:embed data/do-not-originate.csv
var doNotOriginateCSV []byte

// DoNotOriginateList is the list shipped with clearline.
func DoNotOriginateList() List {
	l, err := ReadList(bytes.NewReader(doNotOriginateCSV), "data/do-not-originate.csv")
	if err != nil {
		panic("screen: shipped data: " + err.Error())
	}
	return l
}

// Settings are a household's screening choices.
type Settings struct {
	Allow, Block List
	// Community is the shared block-list (a file now; the hub feeds it later).
	Community List
	// DoNotOriginate is Block (default) or Warn.
	DoNotOriginate Action
	// Quiet hours, if set, block unknown callers at night.
	Quiet *QuietHours
	// Stir, if set, checks STIR/SHAKEN signatures.
	Stir *TrustStore
	// ScreenUnknown announces-and-screens every caller not allowed by an earlier rule.
	ScreenUnknown bool
}

// NewChain builds the household's chain. The order is the policy: trusted contacts first,
// then the household's own block-list, then anyone ringing back soon after an emergency
// call, then the shared lists and what the signalling itself gives away.
func NewChain(s Settings) Chain {
	ch := Chain{
		AllowList(s.Allow),
		BlockList("household-block-list", s.Block, "the household's"),
		EmergencyRingBack{Within: RingBackWithin},
		BlockList("community-block-list", s.Community, "the community"),
		StirShaken{Store: s.Stir},
		DoNotOriginate(DoNotOriginateList(), s.DoNotOriginate),
		NumberingPlan{},
		Withheld{},
		DisplayName{},
	}
	if s.Quiet != nil {
		ch = append(ch, *s.Quiet)
	}
	if s.ScreenUnknown {
		ch = append(ch, UnknownCallers{})
	}
	return ch
}

// Trusted says whether number is on the chain's allow-list.
func (ch Chain) Trusted(number string) bool {
	n, err := Canonical(number)
	if err != nil {
		return false
	}
	for _, r := range ch {
		if lr, ok := r.(listRule); ok && lr.action == Allow {
			if _, found := lr.list.Contains(n); found {
				return true
			}
		}
	}
	return false
}

// Names lists the chain's rules in order, for the log.
func (ch Chain) Names() []string {
	names := make([]string, len(ch))
	for i, r := range ch {
		names[i] = r.Name()
	}
	return names
}
