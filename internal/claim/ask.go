package claim

import (
	"fmt"

	"github.com/clearline/clearline/internal/screen"
)

// Asking is a household's choice of which callers the guard asks who they are
// (screening.ask).
type Asking int

const (
	// AskWarned asks the callers screening warned about (the default).
	AskWarned Asking = iota
	// AskNever asks no one: calls go as they did before asking existed.
	AskNever
	// AskUnknown asks every caller who is not a trusted contact and whom the household has
	// not rung itself lately.
	AskUnknown
	// AskAlways asks every caller who is not a trusted contact.
	AskAlways
)

var askingNames = [...]string{"warned", "never", "unknown", "always"}

func (a Asking) String() string {
	if a >= 0 && int(a) < len(askingNames) {
		return askingNames[a]
	}
	return fmt.Sprintf("asking(%d)", int(a))
}

// ParseAsking reads never, unknown, warned or always.
func ParseAsking(s string) (Asking, error) {
	for i, n := range askingNames {
		if n == s {
			return Asking(i), nil
		}
	}
	return 0, fmt.Errorf("must be never, unknown, warned or always, not %q", s)
}

// Caller is what the decision to ask needs to know of an inbound call.
type Caller struct {
	// Verdict is screening's.
	Verdict screen.Verdict
	// Rang says the household's phones rang this number themselves lately.
	Rang bool
}

// AllowListRule is the screening rule that lets trusted contacts through.
const AllowListRule = "allow-list"

// ShouldAsk says whether the guard asks this caller who they are before the phones ring.
// Trusted contacts and anyone ringing back soon after an emergency call are never asked,
// and blocked callers never get that far. A call screening
// would announce (a withheld number) is asked instead whenever the household asks more than
// the warned: the question records the caller's words as announce-and-screen does, and more.
func (a Asking) ShouldAsk(c Caller) bool {
	v := c.Verdict
	if v.Rule == AllowListRule || v.Rule == screen.EmergencyRingBackRule || v.Action == screen.Block {
		return false
	}
	switch a {
	case AskWarned:
		return v.Action == screen.Warn
	case AskUnknown:
		return v.Action != screen.Allow || !c.Rang
	case AskAlways:
		return true
	}
	return false
}
