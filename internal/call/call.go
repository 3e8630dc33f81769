// Package call defines the nouns every part of clearline shares: a call, its two legs,
// who ended it and the events a call's life produces. The guard fills them in, the store
// keeps them, and the web API shows them; nothing here does I/O.
package call

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Direction says which way a call was placed, seen from the household.
type Direction int

const (
	// Inbound calls come from the provider's trunk and ring the household's phones.
	Inbound Direction = iota + 1
	// Outbound calls are placed by a household phone and go out through the trunk.
	Outbound
)

var directionNames = map[Direction]string{Inbound: "inbound", Outbound: "outbound"}

func (d Direction) String() string { return enumString(directionNames, d) }

// MarshalText writes the direction's name.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a direction's name.
func (d *Direction) UnmarshalText(b []byte) error {
	return enumParse(directionNames, d, b, "direction")
}

// Side names one of a call's two legs.
type Side int

const (
	// Trunk is the leg to the provider: the caller on inbound calls, the called party on outbound ones.
	Trunk Side = iota + 1
	// Household is the leg to the household's phone.
	Household
	// Guardian is the leg the guard places on the trunk to a guardian's phone for Carer
	// Check: the guardian decides whether the caller is put through, and may join the call.
	Guardian
)

var sideNames = map[Side]string{Trunk: "trunk", Household: "household", Guardian: "guardian"}

func (s Side) String() string { return enumString(sideNames, s) }

// MarshalText writes the side's name.
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a side's name.
func (s *Side) UnmarshalText(b []byte) error { return enumParse(sideNames, s, b, "side") }

// EndedBy says who ended a call.
type EndedBy int

const (
	// NotEnded is the zero value: the call is still going.
	NotEnded EndedBy = iota
	// ByHousehold means the household's phone hung up, cancelled or refused the call.
	ByHousehold
	// ByCaller means the party on the trunk side hung up or cancelled (on outbound
	// calls, the party the household rang).
	ByCaller
	// ByGuard means the guard ended the call itself (no phone answered, an error, shutdown).
	ByGuard
	// ByTimeout means no media flowed for longer than the configured RTP timeout.
	ByTimeout
	// ByGuardian means one of the household's guardians ended the call: from the dashboard
	// or the API (Call.EndedByUser names them), or by refusing the caller when the guard
	// rang them for Carer Check.
	ByGuardian
)

var endedByNames = map[EndedBy]string{NotEnded: "", ByHousehold: "household", ByCaller: "caller", ByGuard: "guard", ByTimeout: "timeout",
	ByGuardian: "guardian"}

func (e EndedBy) String() string { return enumString(endedByNames, e) }

// MarshalText writes who ended the call; empty while it is going.
func (e EndedBy) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText reads who ended the call.
func (e *EndedBy) UnmarshalText(b []byte) error { return enumParse(endedByNames, e, b, "ended_by") }

// Outcome is how a call finished.
type Outcome int

const (
	// Ongoing is the zero value: no outcome yet.
	Ongoing Outcome = iota
	// Completed calls were answered and then hung up.
	Completed
	// Cancelled calls were abandoned by the caller before anyone answered.
	Cancelled
	// Busy calls were refused with busy by the called side.
	Busy
	// NoAnswer calls rang until the guard's ring timeout.
	NoAnswer
	// Failed calls could not be set up (no phone reachable, trunk error, bad offer).
	Failed
	// Blocked calls were refused by screening; the household's phones never rang.
	Blocked
)

var outcomeNames = map[Outcome]string{Ongoing: "", Completed: "completed", Cancelled: "cancelled", Busy: "busy", NoAnswer: "no_answer", Failed: "failed", Blocked: "blocked"}

func (o Outcome) String() string { return enumString(outcomeNames, o) }

// MarshalText writes the outcome's name; empty while the call is going.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error { return enumParse(outcomeNames, o, b, "outcome") }

// Leg is one of the two SIP dialogs a call is made of.
type Leg struct {
	Side Side `json:"side"`
	// Peer is the address the guard talks to on this leg (the trunk or a phone).
	Peer string `json:"peer"`
	// ReleasedAt is when the leg was released: the BYE/CANCEL received on it, or the BYE
	// or final answer the guard sent on it. Zero while the leg is up.
	ReleasedAt time.Time `json:"released_at,omitzero"`
}

// Call is one call through the guard, from the first INVITE to the release of both legs.
type Call struct {
	ID string `json:"id"`
	// Household is the home the call was for (the guard's household ID).
	Household string    `json:"household"`
	Direction Direction `json:"direction"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	// Emergency marks calls to an emergency number, routed before anything else.
	Emergency  bool      `json:"emergency"`
	StartedAt  time.Time `json:"started_at"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	EndedBy    EndedBy   `json:"ended_by"`
	// EndedByUser names the guardian who ended the call when EndedBy is guardian.
	EndedByUser string  `json:"ended_by_user,omitempty"`
	Outcome     Outcome `json:"outcome"`
	// Reason says in words why the call ended as it did (for example "no phone answered").
	Reason string `json:"reason,omitempty"`
	// Verdict is the screening verdict for an inbound call (allow, screen, warn, block) and
	// Reasons say why, in plain words.
	Verdict string `json:"verdict,omitempty"`
	// Rule names the screening rule that decided (community-block-list, do-not-originate...).
	Rule    string   `json:"rule,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	Legs    []Leg    `json:"legs"`
	// Risk is what listening to the call found; nil for calls that were not listened to.
	Risk *Risk `json:"risk,omitempty"`
	// Claim is who the caller said they were when the guard asked them; nil for calls the
	// guard did not ask.
	Claim *Claim `json:"claim,omitempty"`
	// Carer is what happened when the guard rang a guardian about the call (Carer Check);
	// nil for calls no guardian was asked about.
	Carer *CarerCheck `json:"carer,omitempty"`
}

// CarerCheck is a guardian's part in a call: who was rung, when, and what they decided.
type CarerCheck struct {
	// Guardian is the name of the guardian rung, Number the number they were rung on.
	Guardian string `json:"guardian"`
	Number   string `json:"number"`
	// RangAt is when the guard's INVITE to the guardian left; AnsweredAt when they answered.
	RangAt     time.Time `json:"rang_at,omitzero"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// Choice is what the guardian chose: through (1, the phones rang), refused (2), joined
	// (3, they were in the call with the resident and the caller), or none — they did not
	// answer or choose in time, and the call went on as Fallback says.
	Choice string `json:"choice"`
	// Fallback is what happened instead when the guardian made no choice: screen (the
	// resident heard the caller's name first) or ring (the phones rang); empty otherwise.
	Fallback string `json:"fallback,omitempty"`
	// Why says in words why there was no choice, when there was none.
	Why string `json:"why,omitempty"`
	// LeftAt is when a guardian who joined the call left it (# or hanging up).
	LeftAt time.Time `json:"left_at,omitzero"`
}

// Claim is who an asked caller said they were, heard against the guard's grammars.
type Claim struct {
	// Kind is police, bank, government, company, family or unknown.
	Kind string `json:"kind"`
	// Organisation is the organisation's name ("Metropolitan Police"), empty if none.
	Organisation string `json:"organisation"`
	// IDNumber is the ID or collar number the caller gave, as digits, empty if none.
	IDNumber string `json:"id_number"`
	// NameAudio says the caller's answers were recorded (and played to the resident).
	NameAudio bool `json:"name_audio"`
	// Answered says the caller answered the question; false for silence or a recording
	// that did not stop to listen.
	Answered bool `json:"answered"`
	// Words are what the grammars heard, the answers separated by " | ".
	Words string `json:"words,omitempty"`
	// Choice is what the resident chose: talk, ring_police, ring_bank, refuse, or none.
	Choice string `json:"choice,omitempty"`
}

// Risk is the running analysis of what the caller says: the detector's risk after each
// utterance, the indicators found, and the interventions made.
type Risk struct {
	// Analyser names the recogniser, or says why the call went unanalysed.
	Analyser      string         `json:"analyser"`
	Level         float64        `json:"level"`   // the highest risk so far
	Verdict       string         `json:"verdict"` // ok, suspicious or scam, at the highest risk
	Timeline      []RiskPoint    `json:"timeline"`
	Indicators    []Finding      `json:"indicators"`
	Interventions []Intervention `json:"interventions"`
	// Dictated are numbers the caller gave to ring back on, in canonical form.
	Dictated []string `json:"dictated,omitempty"`
}

// RiskPoint is the risk after one utterance, T seconds into the call's audio.
type RiskPoint struct {
	T    float64 `json:"t"`
	Risk float64 `json:"risk"`
	Text string  `json:"text"`
}

// Finding is one scam indicator with the words that gave it away.
type Finding struct {
	Kind     string  `json:"kind"`
	Evidence string  `json:"evidence"`
	T        float64 `json:"t"`
}

// Intervention is something the guard did because of the risk: a spoken warning to the
// resident, or an alert to the household's guardians.
type Intervention struct {
	Kind   string    `json:"kind"` // "warning" or "alert"
	At     time.Time `json:"at"`
	T      float64   `json:"t"`
	Risk   float64   `json:"risk"`
	Reason string    `json:"reason"`
}

// Clone copies the risk so that a snapshot does not share slices with the running analysis.
func (r *Risk) Clone() *Risk {
	if r == nil {
		return nil
	}
	c := *r
	c.Timeline = append([]RiskPoint(nil), r.Timeline...)
	c.Indicators = append([]Finding(nil), r.Indicators...)
	c.Interventions = append([]Intervention(nil), r.Interventions...)
	c.Dictated = append([]string(nil), r.Dictated...)
	return &c
}

// Party is the user part of a SIP or tel URI: the number or name in it
// ("sip:+441632960123@trunk;user=phone" → "+441632960123").
func Party(uri string) string {
	u := uri
	for _, p := range []string{"sip:", "sips:", "tel:"} {
		u = strings.TrimPrefix(u, p)
	}
	u, _, _ = strings.Cut(u, "@")
	u, _, _ = strings.Cut(u, ";")
	return u
}

// Leg returns the leg on side s, or a zero Leg if the call has none there.
func (c *Call) Leg(s Side) Leg {
	for _, l := range c.Legs {
		if l.Side == s {
			return l
		}
	}
	return Leg{Side: s}
}

// SetLeg replaces or adds the leg on l.Side.
func (c *Call) SetLeg(l Leg) {
	for i := range c.Legs {
		if c.Legs[i].Side == l.Side {
			c.Legs[i] = l
			return
		}
	}
	c.Legs = append(c.Legs, l)
}

// EventKind names a change in a call's life. Stored: new kinds only at the end.
type EventKind int

const (
	// CallStarted: an INVITE was accepted for routing.
	CallStarted EventKind = iota + 1
	// CallAnswered: both legs are up and media is relayed.
	CallAnswered
	// CallEnded: both legs are released.
	CallEnded
	// CallAssessed: listening found the risk changed.
	CallAssessed
	// CallWarned: the resident was warned, in the call, that it has signs of a scam.
	CallWarned
	// CallAlert: the call's risk crossed the alert threshold; the household's guardians
	// are to be told.
	CallAlert
	// CallReported: the resident reported the call as a scam from their phone (the
	// handset's report code); the hub link sends it to the regional hub.
	CallReported
)

var eventKindNames = map[EventKind]string{CallStarted: "call.started", CallAnswered: "call.answered", CallEnded: "call.ended",
	CallAssessed: "call.assessed", CallWarned: "call.warned", CallAlert: "call.alert", CallReported: "call.reported"}

func (k EventKind) String() string { return enumString(eventKindNames, k) }

// MarshalText writes the kind's name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *EventKind) UnmarshalText(b []byte) error {
	return enumParse(eventKindNames, k, b, "event kind")
}

// Event is one row of the durable outbox: a state change of a call, for the consumers
// (alerts, hub) that read the outbox later.
type Event struct {
	// Seq is the outbox position, assigned by the store.
	Seq    int64     `json:"seq"`
	CallID string    `json:"call_id"`
	Kind   EventKind `json:"kind"`
	At     time.Time `json:"at"`
	// Call is the call as it was when the event happened.
	Call Call `json:"call"`
}

// Payload is the event's JSON body as stored in the outbox.
func (e Event) Payload() ([]byte, error) { return json.Marshal(e.Call) }

func enumString[T comparable](names map[T]string, v T) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf("unknown(%d)", any(v)) // %d: %v would call String again
}

func enumParse[T comparable](names map[T]string, v *T, b []byte, what string) error {
	for k, s := range names {
		if s == string(b) {
			*v = k
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q", what, b)
}
