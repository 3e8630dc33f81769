// Package detect reads a telephone conversation as it unfolds and says how likely it is to
// be a police- or bank-impersonation scam, and why.
//
// Feed a call's transcript segments one by one to a Call; after each one it returns an
// Assessment: a risk in [0,1], a verdict (ok, suspicious, scam) and the indicators found so
// far, each with the words that gave it away and when they were said. Two parts make the
// risk: explicit rules that find the indicators (an authority claim, a request for cash, a
// courier, secrecy...) in speech-recogniser text, and a logistic model, trained on the
// labelled corpus in testdata/detect, that weighs the indicators, their combinations and the
// words of the call. A scam verdict always has indicators behind it: without any, the risk is
// held below the scam threshold whatever the words.
package detect

import (
	"fmt"
	"math"
	"strings"
)

// Indicator is one sign of a scam script. Stored and shown: new values only at the end.
type Indicator int

const (
	// AuthorityClaim: the caller says they are police, the bank's fraud team, HMRC or similar.
	AuthorityClaim Indicator = iota + 1
	// CashWithdrawal: the person is asked to withdraw cash ("as evidence", "to check the notes").
	CashWithdrawal
	// CourierCollection: someone will come to the house to collect cash, cards or valuables.
	CourierCollection
	// CardOrPINRequest: the caller asks for a PIN, card details, or for the card itself.
	CardOrPINRequest
	// SafeAccountTransfer: money is to be moved to a "safe" or new account.
	SafeAccountTransfer
	// HighValuePurchase: the person is asked to buy gold, a watch, gift cards or crypto.
	HighValuePurchase
	// Secrecy: do not tell the bank, family or anyone; bank staff are "under investigation";
	// a cover story for the cashier.
	Secrecy
	// UrgencyOrThreat: pressure to act now, or threats of arrest, prosecution or losing everything.
	UrgencyOrThreat
	// CallbackTrick: "hang up and ring 101 to check, I'll stay on the line".
	CallbackTrick
	// DictatedNumber: the caller gives a number to ring back on.
	DictatedNumber
	// RemoteAccess: the caller wants software installed or control of a computer or phone.
	RemoteAccess
	// PersonalDetails: passwords, one-time codes, account numbers or security answers asked for.
	PersonalDetails
	// CompanyClaim: the caller says they are from a company the person deals with — a retailer
	// or online platform (Amazon, Apple, eBay), a software company (Microsoft), a broadband,
	// phone or energy supplier, a delivery firm. (Police, government, courts and banks are
	// AuthorityClaim.)
	CompanyClaim
	// RelativeClaim: the caller says they are, or speak for, a relative ("grandma it's me",
	// "it's your grandson", "I'm calling about your son").
	RelativeClaim
	// UnexpectedProblem: news the person did not know of and did not ask for — an order or a
	// charge they did not make, a breach, a virus, a suspended number or a case against them,
	// a relative in trouble — or a windfall: a refund owed, a prize, a lower rate, a grant.
	UnexpectedProblem
	// CallToAction: an instruction to act within the call — "press 1", "speak to an officer
	// now", "call us back on", "do not hang up".
	CallToAction
	// UnusualPayment: payment asked for by means no genuine organisation uses — gift cards,
	// vouchers, crypto, a wire or money transfer service, cash by post or courier.
	UnusualPayment
)

var indicatorNames = [...]string{"", "authority_claim", "cash_withdrawal", "courier_collection", "card_or_pin_request",
	"safe_account_transfer", "high_value_purchase", "secrecy", "urgency_or_threat", "callback_trick",
	"dictated_number", "remote_access", "personal_details",
	"company_claim", "relative_claim", "unexpected_problem", "call_to_action", "unusual_payment"}

// Indicators lists every indicator in order.
func Indicators() []Indicator {
	out := make([]Indicator, 0, len(indicatorNames)-1)
	for i := 1; i < len(indicatorNames); i++ {
		out = append(out, Indicator(i))
	}
	return out
}

func (k Indicator) String() string {
	if k > 0 && int(k) < len(indicatorNames) {
		return indicatorNames[k]
	}
	return fmt.Sprintf("indicator(%d)", int(k))
}

// MarshalText writes the indicator's name.
func (k Indicator) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads an indicator's name.
func (k *Indicator) UnmarshalText(b []byte) error {
	for i, n := range indicatorNames {
		if i > 0 && n == string(b) {
			*k = Indicator(i)
			return nil
		}
	}
	return fmt.Errorf("unknown indicator %q", b)
}

// Verdict is the detector's judgement of a call so far.
type Verdict int

const (
	// OK: nothing that suggests a scam.
	OK Verdict = iota
	// Suspicious: some signs; worth a warning but not yet a scam script.
	Suspicious
	// Scam: the signs together make a scam script.
	Scam
)

var verdictNames = [...]string{"ok", "suspicious", "scam"}

func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// MarshalText writes the verdict's name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a verdict's name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, n := range verdictNames {
		if n == string(b) {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q", b)
}

// Thresholds on the risk.
const (
	SuspiciousAt = 0.5
	ScamAt       = 0.8
	// noIndicatorCap bounds the risk of a call in which no indicator was found.
	noIndicatorCap = 0.6
)

// Segment is one stretch of speech.
type Segment struct {
	Speaker string `json:"speaker,omitempty"`
	Text    string `json:"text"`
	// Alternatives are other readings of the same speech, as a recogniser's n-best list
	// gives them. A sign found in one counts as a sign heard, but only Text adds to the
	// learned part's words, and no phrase is matched across two readings.
	Alternatives []string `json:"alternatives,omitempty"`
	T            float64  `json:"t,omitempty"`
}

// Finding is one indicator found, with the words that showed it and when.
type Finding struct {
	Kind     Indicator `json:"kind"`
	Evidence string    `json:"evidence"`
	T        float64   `json:"t"`
}

// Assessment is the detector's view of a call after a segment.
type Assessment struct {
	Risk       float64   `json:"risk"`
	Verdict    Verdict   `json:"verdict"`
	Indicators []Finding `json:"indicators"`
}

// Detector holds the rules and the model; it is safe for concurrent use by many calls.
type Detector struct {
	model *Model
}

// New returns a detector using the model built into the binary.
func New() *Detector { return &Detector{model: builtinModel()} }

// WithModel returns a detector using m.
func WithModel(m *Model) *Detector { return &Detector{model: m} }

// Call is the running assessment of one call. It is not safe for concurrent use.
type Call struct {
	d        *Detector
	found    [len(indicatorNames)]bool
	strong   [len(indicatorNames)]bool // found in a wording that counts toward a scam's shape
	never    bool                      // a request no genuine caller makes was found
	problem  bool                      // bad news was heard (an unexpected problem that is no windfall)
	windfall bool                      // good news was heard: a refund, a prize, a lower rate
	peak     float64                   // the highest risk so far
	findings []Finding
	words    map[string]struct{} // n-grams of the call so far
	ngramZ   float64             // the model's log-odds from those n-grams
	window   []token             // the previous segment's last words, then this segment's
	spare    []token             // room to keep the window in while alternatives are read
}

// NewCall starts assessing a call.
func (d *Detector) NewCall() *Call {
	return &Call{d: d, words: make(map[string]struct{}, 256)}
}

// carryWords is how many of a segment's last words are read again with the next one: a
// negation said just before the cut still counts, and a phrase the recogniser cut in two is
// found across the cut. The last joinWords of them are normalised again together with the
// next segment, so that "gift | cards" and "0207 | 946 0123" are read as one.
const (
	carryWords = 15
	joinWords  = 4
)

// Feed adds a segment and returns the updated assessment. The detector judges what the
// caller says: a segment the resident said (speaker "resident") changes nothing, as the
// guard hears only the caller.
func (c *Call) Feed(s Segment) Assessment {
	if s.Speaker == "resident" {
		return c.Assessment()
	}
	text := normalize(s.Text)
	var before []token // the words carried from the last segment, read again with each alternative
	if len(s.Alternatives) > 0 {
		before = append(c.spare[:0], c.window...)
	}
	c.read(text, s.T)
	if len(s.Alternatives) > 0 {
		best := c.window
		alt := make([]token, 0, len(before)+32)
		for _, a := range s.Alternatives {
			c.window = append(alt[:0], before...)
			c.read(normalize(a), s.T)
			alt = c.window
		}
		c.window, c.spare = best, before
	}
	addNgrams(c.words, text, func(g string) { c.ngramZ += c.d.model.ngram(g) })
	return c.Assessment()
}

// read adds a reading of a segment to the window and finds the signs it shows.
func (c *Call) read(text string, t float64) {
	from := max(0, len(c.window)-joinWords)
	carried := len(c.window) - from
	if carried > 0 {
		// Only the words near the cut can change when read together.
		head, rest := cutWords(text, joinWords*2)
		joined := normalize(joinTokens(c.window[from:]) + head)
		c.window = tokenize(tokenize(c.window[:from], joined), rest)
	} else {
		c.window = tokenize(c.window, text)
	}
	// A match must take in a word of this segment: one that ends within the carried words
	// was looked for with the previous segment. Words merged across the cut ("gift | cards")
	// belong to both.
	merged := carried + countWords(text) - (len(c.window) - from)
	c.find(from+carried-max(merged, 0), t)
	keep := c.window[max(from, len(c.window)-carryWords):]
	c.window = append(c.window[:0], keep...)
}

// Know adds a finding established outside the transcript — what the caller said they were
// when the guard asked them, heard against a grammar — as if it had been heard at f.T. It
// counts like any finding of its kind, toward the shape of a scam too; a kind already found
// keeps its first finding.
func (c *Call) Know(f Finding) Assessment {
	if f.Kind > 0 && int(f.Kind) < len(indicatorNames) {
		c.strong[f.Kind] = true
		if !c.found[f.Kind] {
			c.found[f.Kind] = true
			c.findings = append(c.findings, f)
		}
	}
	return c.Assessment()
}

// Assessment returns the current assessment without adding anything.
func (c *Call) Assessment() Assessment {
	risk := math.Max(sigmoid(c.d.model.ruleZ(c.found[:], c.strong[:])+c.ngramZ), floor(c.found[:], c.strong[:], c.never, c.problem, c.windfall))
	if len(c.findings) == 0 {
		risk = math.Min(risk, noIndicatorCap)
	}
	// A call's risk is the highest it has reached: signs heard are not unheard, and the
	// warning it drew stays drawn.
	c.peak = math.Max(c.peak, risk)
	risk = c.peak
	v := OK
	switch {
	case risk >= ScamAt:
		v = Scam
	case risk >= SuspiciousAt:
		v = Suspicious
	}
	return Assessment{Risk: risk, Verdict: v, Indicators: append([]Finding(nil), c.findings...)}
}

// floor is the explicit part of the risk: combinations no genuine caller makes set a
// minimum, whatever the model says. The shape of a scam, in any family: a claim to be an
// organisation or a relative; a threat, a problem the person did not know of, or a demand
// for secrecy; and an instruction to act in the call, or a request for money, credentials
// or the computer. A robocall often says only the last two: a threat or a windfall, and
// "press 1".
func floor(found, strong []bool, neverAsked, problem, windfall bool) float64 {
	claim, hook, prompt, ask := anyOf(strong, claims), anyOf(strong, hooks), anyOf(strong, prompts), anyOf(strong, asks)
	money := 0
	for _, k := range moneyAsks {
		if found[k] {
			money++
		}
	}
	pressure := anyOf(found, pressures)
	authority := found[AuthorityClaim]
	switch {
	case claim && hook && prompt && ask, authority && money >= 2, authority && money >= 1 && pressure:
		return 0.9 // "police", "the bank" or "Amazon" with a problem, a way to act on it now, and a request
	case claim && hook && (prompt || ask), hook && prompt, strong[UnexpectedProblem] && ask, claim && neverAsked, money >= 2 && pressure,
		found[CourierCollection] && money >= 2:
		return 0.85 // … or a courier sent for the cash, the card or the gold the person was told to get
	case windfall && anyOf(found, prompts), strong[CompanyClaim] && found[UnexpectedProblem] && found[CallToAction]:
		return 0.85 // an automated call: a prize or a company's order alert, with "press 1"
	case strong[CompanyClaim] && (problem || strong[UrgencyOrThreat]):
		return 0.8 // "Microsoft" or "Amazon" ringing about a virus, a breach or an order the person did not make, or a supplier threatening to cut them off
	case authority && money >= 1:
		return 0.6
	}
	return 0
}

// The parts of a scam's shape.
var (
	claims  = []Indicator{AuthorityClaim, CompanyClaim, RelativeClaim}
	hooks   = []Indicator{UrgencyOrThreat, UnexpectedProblem, Secrecy}
	prompts = []Indicator{CallToAction, CallbackTrick, DictatedNumber}
	asks    = []Indicator{CashWithdrawal, CourierCollection, CardOrPINRequest, SafeAccountTransfer, HighValuePurchase, RemoteAccess, PersonalDetails, UnusualPayment}
)

// find records the first occurrence of every indicator in the window whose match takes in
// at least one word from `from` on (the words before it were searched with the previous
// segment; a match that ends there again is left alone).
func (c *Call) find(from int, t float64) {
	w := c.window
	for j := range w {
		if w[j].id >= 0 {
			c.try(startsAt[w[j].id], j, from, t)
		}
		if w[j].alike >= 0 {
			c.try(startsAt[w[j].alike], j, from, t)
		}
		if w[j].near >= 0 {
			for _, id := range nearLists[w[j].near] {
				c.try(startsAt[id], j, from, t)
			}
		}
		c.try(startsAny, j, from, t)
	}
}

// try matches rules at window position j, each beginning as its start says.
func (c *Call) try(starts []start, j, from int, t float64) {
	for _, st := range starts {
		r := &rulesTable[st.rule]
		if c.found[r.kind] && (c.never || r.flags&never == 0) && (c.strong[r.kind] || r.flags&weak != 0) && (c.problem || r.flags&(weak|windfall) != 0 || r.kind != UnexpectedProblem) && (c.windfall || r.flags&windfall == 0) {
			continue // nothing this rule could add
		}
		end, ok := r.p.matchFrom(st, c.window, j)
		if !ok || end <= from || (r.flags&neg != 0 && negated(c.window, j)) || (r.u != nil && said(r.u, c.window, j, end+adviceReach)) {
			continue
		}
		c.never = c.never || r.flags&never != 0
		c.strong[r.kind] = c.strong[r.kind] || r.flags&weak == 0
		c.problem = c.problem || (r.kind == UnexpectedProblem && r.flags&(weak|windfall) == 0)
		c.windfall = c.windfall || r.flags&windfall != 0
		if c.found[r.kind] {
			continue // a second finding of a kind only adds what it says about the shape
		}
		c.found[r.kind] = true
		c.findings = append(c.findings, Finding{Kind: r.kind, Evidence: strings.TrimSpace(joinTokens(c.window[j:end])), T: t})
	}
}

// adviceReach is how far after a match a rule's "unless" phrase is looked for.
const adviceReach = 8

// said says whether p matches starting anywhere in w[from:to].
func said(p *pattern, w []token, from, to int) bool {
	for k := from; k < min(to, len(w)); k++ {
		if _, ok := p.matchAt(w, k); ok {
			return true
		}
	}
	return false
}

// negated says whether a negator ends within negationReach words before position j ("we
// will never ask you to ... move money to a safe account").
func negated(w []token, j int) bool {
	for k := max(0, j-negationReach-1); k < j; k++ {
		for _, seq := range negatorSeq {
			if k+len(seq) > j || j-(k+len(seq)) >= negationReach {
				continue
			}
			match := true
			for i, id := range seq {
				if w[k+i].id != id {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}

// joinTokens writes the words of toks separated by spaces, with a space at each end.
func joinTokens(toks []token) string {
	var b strings.Builder
	b.WriteByte(' ')
	for _, t := range toks {
		b.WriteString(t.w)
		b.WriteByte(' ')
	}
	return b.String()
}

// countWords counts the words of normalised text (single spaces, one at each end).
func countWords(text string) int { return max(0, strings.Count(text, " ")-1) }

// cutWords cuts normalised text after its first n words.
func cutWords(text string, n int) (head, rest string) {
	seen := 0
	for i := 1; i < len(text); i++ {
		if text[i] == ' ' {
			if seen++; seen == n {
				return text[:i+1], text[i:]
			}
		}
	}
	return text, ""
}

// tokenize appends the words of normalised text to toks, looked up in the rules' vocabulary;
// a word no rule names, or a pair of words, that sounds like a rule word stands for it.
func tokenize(toks []token, text string) []token {
	words := strings.Fields(text)
	for i := 0; i < len(words); i++ {
		w := words[i]
		t := token{w: w, id: -1, alike: -1, near: -1}
		if i+1 < len(words) {
			var buf [64]byte
			pair := append(append(append(buf[:0], w...), ' '), words[i+1]...)
			if id, ok := alikePair[string(pair)]; ok {
				toks = append(toks, token{w: string(pair), id: -1, alike: id, near: -1})
				i++
				continue
			}
		}
		if id, ok := rulesVocab.ids[w]; ok {
			t.id = id
		} else if id, ok := alikeWord[w]; ok {
			t.alike = id
		}
		if n, ok := nearWord[w]; ok {
			t.near = n
		}
		if isDigits(w) {
			t.digits = len(w)
		}
		toks = append(toks, t)
	}
	return toks
}
