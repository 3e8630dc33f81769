// Package screen gives every inbound call a verdict before the household's phones ring:
// allow, screen, warn or block, with reasons a carer understands.
//
// A call's signalling (caller number, display name, privacy) goes through a chain of rules.
// Each rule answers with a verdict and its reasons, or passes the call on; the first answer
// stands. The chain's order is declared in one place, Chain in chain.go. Rules are pure:
// they take the call and the time, and read lists loaded beforehand.
package screen

import (
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Action is what the guard does with a call. Stored: new values only at the end.
type Action int

const (
	// Allow rings the household's phones.
	Allow Action = iota
	// Screen asks the caller who they are before the phones ring (announce-and-screen).
	Screen
	// Warn rings through, and the resident hears a spoken warning first.
	Warn
	// Block releases the caller; the phones never ring.
	Block
)

var actionNames = [...]string{"allow", "screen", "warn", "block"}

func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q (want allow, screen, warn or block)", b)
}

// Verdict is a rule's judgement of a call.
type Verdict struct {
	Action Action `json:"action"`
	// Rule names the rule that decided.
	Rule string `json:"rule"`
	// Reasons say why, in plain words.
	Reasons []string `json:"reasons"`
	// Claimed is who the caller's number or name claimed to be, when a rule saw a claim.
	Claimed Authority `json:"claimed,omitempty"`
}

// Risky says whether the call drew anything but Allow: the household's next calls to the
// police or its bank are then announced as fresh calls.
func (v Verdict) Risky() bool { return v.Action != Allow }

// An Authority is who a caller claimed to be by the number or the name they presented.
type Authority string

const (
	// ClaimsPolice: a police name, or a police number (101, Action Fraud) faked.
	ClaimsPolice Authority = "police"
	// ClaimsBank: a bank's name, or the number on the back of its cards faked.
	ClaimsBank Authority = "bank"
	// ClaimsTax: HMRC or the tax office by name.
	ClaimsTax Authority = "tax"
	// ClaimsFraudTeam: a "fraud department" or "security team" by name.
	ClaimsFraudTeam Authority = "fraud-team"
	// ClaimsGovernment: a government number faked.
	ClaimsGovernment Authority = "government"
)

// Call is what the guard knows of an inbound call before answering it.
type Call struct {
	// Number is the caller's number as presented (From or P-Asserted-Identity user part).
	Number string
	// DisplayName is the caller's name as presented.
	DisplayName string
	// Withheld is true when the caller asked for privacy or presented no number.
	Withheld bool
	// Identity is the STIR/SHAKEN Identity header, if any.
	Identity string
	// At is when the call arrived.
	At time.Time
	// EmergencyAt is when the household last rang an emergency number (zero: not since
	// the guard started).
	EmergencyAt time.Time

	// canon is Number in canonical form, worked out once per verdict; parsed is kept for
	// the numbering-plan check, which only some calls reach.
	canon    string
	canonErr error
	parsed   *phonenumbers.PhoneNumber
}

// prepare reads the number once for every rule.
func (c *Call) prepare() {
	if c.Withheld {
		return
	}
	c.canon, c.parsed, c.canonErr = canonical(c.Number)
}

// Rule judges a call, or passes it on (ok false).
type Rule interface {
	Name() string
	Check(Call) (Verdict, bool)
}

// Chain is rules in order; the first to answer decides.
type Chain []Rule

// Verdict runs the chain. A call no rule objects to is allowed.
func (ch Chain) Verdict(c Call) Verdict {
	c.prepare()
	for _, r := range ch {
		if v, ok := r.Check(c); ok {
			v.Rule = r.Name()
			return v
		}
	}
	return Verdict{Action: Allow, Rule: "default", Reasons: []string{"no rule found anything wrong with this caller"}}
}

func verdict(a Action, format string, args ...any) Verdict {
	return Verdict{Action: a, Reasons: []string{fmt.Sprintf(format, args...)}}
}

// withheldUsers are user parts that mean "no number".
var withheldUsers = map[string]bool{"": true, "anonymous": true, "unavailable": true, "unknown": true, "restricted": true, "withheld": true, "private": true}

// IsWithheld says whether a presented user part stands for no number.
func IsWithheld(user string) bool { return withheldUsers[strings.ToLower(strings.TrimSpace(user))] }
