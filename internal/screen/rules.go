package screen

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// listRule answers for numbers on a list.
type listRule struct {
	name   string
	list   List
	action Action
	why    func(e Entry, number string) string
	claims func(e Entry) Authority // nil: a listed number claims no one
}

func (r listRule) Name() string { return r.name }

func (r listRule) Check(c Call) (Verdict, bool) {
	if c.Withheld || c.canonErr != nil {
		return Verdict{}, false
	}
	e, ok := r.list.Contains(c.canon)
	if !ok {
		return Verdict{}, false
	}
	v := verdict(r.action, "%s", r.why(e, c.Number))
	if r.claims != nil {
		v.Claimed = r.claims(e)
	}
	return v, true
}

// AllowList lets the household's trusted contacts ring straight through.
func AllowList(l List) Rule {
	return listRule{name: "allow-list", list: l, action: Allow, why: func(e Entry, n string) string {
		return fmt.Sprintf("%s is one of the household's trusted contacts", n)
	}}
}

// BlockList blocks numbers the household or the community has listed.
func BlockList(name string, l List, whose string) Rule {
	return listRule{name: name, list: l, action: Block, why: func(e Entry, n string) string {
		if e.Name != "" {
			return fmt.Sprintf("%s is on %s block-list: %s", n, whose, e.Name)
		}
		return fmt.Sprintf("%s is on %s block-list", n, whose)
	}}
}

// DoNotOriginate catches calls presenting numbers that never make calls: 101, 999, the
// banks' card-back numbers. The caller has faked the number.
func DoNotOriginate(l List, action Action) Rule {
	return listRule{name: "do-not-originate", list: l, action: action, claims: numberClaims, why: func(e Entry, n string) string {
		switch e.Kind {
		case "service":
			return fmt.Sprintf("the caller's number shows %s (%s), which never makes calls: the number is faked; the police never call from 101", n, e.Name)
		case "bank":
			return fmt.Sprintf("the caller's number shows %s, the number on the back of %s cards, which only takes calls: the number is faked", n, e.Name)
		default:
			return fmt.Sprintf("the caller's number shows %s (%s), which only takes calls: the number is faked", n, e.Name)
		}
	}}
}

// numberClaims is who a faked do-not-originate number claims to be.
func numberClaims(e Entry) Authority {
	switch {
	case e.Kind == "police" || e.Number == "101":
		return ClaimsPolice
	case e.Kind == "bank":
		return ClaimsBank
	case e.Kind == "government":
		return ClaimsGovernment
	}
	return ""
}

// NumberingPlan blocks caller IDs that are not valid, diallable numbers, as Ofcom asks
// providers to. Two cases pass to the rules after this one: a caller ID that is a SIP name
// with no digits at all ("alice", SIPp's "sipp"), which no trunk presents as a number and
// which SIP test tools use, and Ofcom's ranges reserved for TV and radio drama (well-formed,
// used in tests and demonstrations).
type NumberingPlan struct{}

func (NumberingPlan) Name() string { return "numbering-plan" }

// dramaRanges are Ofcom's numbers for TV and radio drama, in E.164; all are ten national digits.
var dramaRanges = []string{
	"+441632960", "+441134960", "+441144960", "+441154960", "+441164960", "+441174960", "+441184960",
	"+441214960", "+441314960", "+441414960", "+441514960", "+441614960", "+441914980", "+442079460",
	"+442896496", "+442920180", "+447700900", "+448081570", "+449098790", "+443069990",
}

func (NumberingPlan) Check(c Call) (Verdict, bool) {
	if c.Withheld {
		return Verdict{}, false
	}
	if c.canonErr != nil {
		if strings.IndexFunc(c.Number, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
			return Verdict{}, false
		}
		return verdict(Block, "the caller's number %q is not a phone number at all", c.Number), true
	}
	for _, p := range dramaRanges {
		if len(c.canon) == len("+44")+10 && strings.HasPrefix(c.canon, p) {
			return Verdict{}, false
		}
	}
	if !diallable(c.parsed) {
		return verdict(Block, "the caller's number %s is not a number anyone can have (wrong length or never allocated), so it is faked", c.canon), true
	}
	return Verdict{}, false
}

// Withheld asks callers who hide their number to say who they are.
type Withheld struct{}

func (Withheld) Name() string { return "withheld" }

func (Withheld) Check(c Call) (Verdict, bool) {
	if !c.Withheld {
		return Verdict{}, false
	}
	return verdict(Screen, "the caller has withheld their number"), true
}

// impersonation matches display names that claim an institution.
var impersonation = []struct {
	re     *regexp.Regexp
	what   string
	claims Authority
}{
	{regexp.MustCompile(`(?i)\b(police|detective|constable|sergeant|inspector|cid|scotland yard|met\b|metropolitan)`), "the police", ClaimsPolice},
	{regexp.MustCompile(`(?i)\b(hmrc|tax office|revenue)`), "HMRC", ClaimsTax},
	{regexp.MustCompile(`(?i)\b(fraud|security team|financial crime)`), "a fraud department", ClaimsFraudTeam},
	{regexp.MustCompile(`(?i)\b(bank|barclays|lloyds|halifax|natwest|hsbc|santander|nationwide|tsb|co-?op|first direct|monzo|starling)`), "a bank", ClaimsBank},
}

// DisplayName warns about a caller whose name claims the police, a bank or HMRC on a
// number that is not theirs (their own numbers never call and are caught earlier).
type DisplayName struct{}

func (DisplayName) Name() string { return "display-name" }

func (DisplayName) Check(c Call) (Verdict, bool) {
	name := strings.TrimSpace(c.DisplayName)
	if name == "" {
		return Verdict{}, false
	}
	for _, im := range impersonation {
		if im.re.MatchString(name) {
			v := verdict(Warn, "the caller's name says %q, as if from %s, but %s is not their number; the police and banks never ask you to move or hand over money", name, im.what, c.Number)
			v.Claimed = im.claims
			return v, true
		}
	}
	return Verdict{}, false
}

// QuietHours keeps unknown callers from ringing at night. Trusted contacts are allowed
// earlier in the chain and still ring.
type QuietHours struct {
	From, To time.Duration // since midnight, local time
	Loc      *time.Location
}

func (QuietHours) Name() string { return "quiet-hours" }

func (q QuietHours) Check(c Call) (Verdict, bool) {
	t := c.At.In(q.Loc)
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	in := since >= q.From && since < q.To
	if q.From > q.To { // across midnight
		in = since >= q.From || since < q.To
	}
	if !in {
		return Verdict{}, false
	}
	return verdict(Block, "it is quiet hours (%s to %s) and the caller is not a trusted contact", clock(q.From), clock(q.To)), true
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// ParseQuietHours reads "22:00-07:00".
func ParseQuietHours(s string, loc *time.Location) (QuietHours, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("%q is not a range like 22:00-07:00", s)
	}
	from, err1 := time.Parse("15:04", strings.TrimSpace(a))
	to, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return QuietHours{}, fmt.Errorf("%q is not a range like 22:00-07:00", s)
	}
	since := func(t time.Time) time.Duration {
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return QuietHours{From: since(from), To: since(to), Loc: loc}, nil
}

// UnknownCallers screens every caller no earlier rule allowed, when the household asks for it.
type UnknownCallers struct{}

func (UnknownCallers) Name() string { return "unknown-callers" }

func (UnknownCallers) Check(c Call) (Verdict, bool) {
	return verdict(Screen, "the caller is not one of the household's trusted contacts, and the household has unknown callers announced"), true
}

// EmergencyRingBack lets every caller ring straight through for a while after the
// household rang an emergency number: the ambulance service, the police or the operator may
// ring back from any number, withheld too, at any hour, and must never be screened, asked
// who they are, held for a carer or kept out by quiet hours. Only the household's own
// block-list, earlier in the chain, still applies.
type EmergencyRingBack struct {
	Within time.Duration
}

// EmergencyRingBackRule is the rule's name, which the guard's other checks (asking the
// caller, Carer Check) read as "ring through".
const EmergencyRingBackRule = "emergency-ring-back"

// RingBackWithin is how long after an emergency call every caller rings through.
const RingBackWithin = 2 * time.Hour

func (EmergencyRingBack) Name() string { return EmergencyRingBackRule }

func (e EmergencyRingBack) Check(c Call) (Verdict, bool) {
	if c.EmergencyAt.IsZero() || c.At.Before(c.EmergencyAt) || c.At.Sub(c.EmergencyAt) >= e.Within {
		return Verdict{}, false
	}
	return verdict(Allow, "the household rang an emergency number %s ago: every caller rings straight through for %s after it, as the emergency services may ring back",
		c.At.Sub(c.EmergencyAt).Round(time.Minute), e.Within), true
}
