// Package hub is clearline's regional hub: guards and people send it reports of scam calls
// and doorstep visits, it groups them into campaigns an analyst can watch spreading, sends
// community alerts to the families in the districts being hit, and shares a block-list that
// every guard applies to its next call.
//
// # Protocol clearline-hub/1
//
// Guards and the hub talk over NATS with JetStream. Every message body is JSON with a "v"
// field holding the protocol version, 1; a receiver refuses a version it does not know.
//
//	subject                          stream / bucket         from → to     body
//	clearline.v1.reports.guard       CLEARLINE_REPORTS       guard → hub   Report
//	clearline.v1.reports.person      CLEARLINE_REPORTS       hub web → hub Report
//	clearline.v1.alerts.<district>   CLEARLINE_ALERTS        hub → guards  CommunityAlert
//	clearline.v1.receipts            CLEARLINE_RECEIPTS      guard → hub   Receipt
//	key <digits of the number>       KV clearline-blocklist  hub → guards  Block
//
// Reports are published with the JetStream header Nats-Msg-Id set to the report's ID, so
// the stream drops a resend within its two-minute duplicate window; the hub's store keeps
// each report ID once whatever the window, so a report sent again an hour later is still
// stored once. A guard publishes from its durable outbox and moves its cursor only when
// JetStream has acknowledged, so a guard whose hub is down keeps its reports and sends
// them later.
//
// <district> is the district's token: lower case, every run of other characters than
// letters and digits written as one "-" ("Test Valley" → "test-valley"). A guard keeps a
// durable consumer on its own district's subject and answers each alert with a Receipt
// saying how many guardians it told, which the hub counts as the alert's reach.
//
// The block-list is a key-value bucket: a guard watches every key, applies the list to the
// next call as soon as it changes, and a deleted key unblocks the number.
//
// Reports never carry the resident's identity: no name, household ID, address or phone
// number of theirs; only the district. The words of a call travel only when the household
// has opted in (hub.share_words).
package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/screen"
)

// Version is the protocol version this package speaks.
const Version = 1

// Subjects, streams and buckets of clearline-hub/1.
const (
	ReportsStream   = "CLEARLINE_REPORTS"
	AlertsStream    = "CLEARLINE_ALERTS"
	ReceiptsStream  = "CLEARLINE_RECEIPTS"
	BlocklistBucket = "clearline-blocklist"

	GuardReports    = "clearline.v1.reports.guard"
	PersonReports   = "clearline.v1.reports.person"
	reportsSubjects = "clearline.v1.reports.*"
	alertsPrefix    = "clearline.v1.alerts."
	ReceiptsSubject = "clearline.v1.receipts"
)

// AlertSubject is the subject community alerts for district are published on.
func AlertSubject(district string) string { return alertsPrefix + DistrictToken(district) }

// DistrictToken writes a district name as a subject token ("Test Valley" → "test-valley").
func DistrictToken(d string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(d)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// Report sources.
const (
	FromGuard  = "guard"
	FromPerson = "person"
)

// Report is one scam call or doorstep visit, from a guard or a person.
type Report struct {
	V  int    `json:"v"`
	ID string `json:"id"`
	// Source is "guard" or "person"; Reporter says who, for people: resident, relative,
	// call-handler (a 101 call handler) or other; for a guard, "resident" when the resident
	// reported the call from their phone (the handset's report code).
	Source   string    `json:"source"`
	Reporter string    `json:"reporter,omitempty"`
	At       time.Time `json:"at"`
	District string    `json:"district"`
	// Contact is "call" or "doorstep".
	Contact string `json:"contact"`
	// Number is the caller's number; empty when withheld or at the door.
	Number string `json:"number,omitempty"`
	// Verdict is what the guard decided or found (block, warn, screen, suspicious, scam) or
	// "reported" for people, and for calls the resident reported from their phone.
	Verdict    string   `json:"verdict"`
	Reasons    []string `json:"reasons,omitempty"`
	Indicators []string `json:"indicators,omitempty"`
	// Claimed is who the caller said they were: police, bank, or a force's name.
	Claimed string `json:"claimed,omitempty"`
	// ClaimKind, from guards that asked the caller who they were, is what sort of
	// organisation they named: police, bank, government, company, family or unknown.
	ClaimKind string `json:"claim_kind,omitempty"`
	// Officer, Force and BadgeNumber are the name, force and ID number the caller gave.
	Officer     string `json:"officer,omitempty"`
	Force       string `json:"force,omitempty"`
	BadgeNumber string `json:"badge_number,omitempty"`
	// AskedFor is what the caller asked for, in words (cash, cards, a transfer...).
	AskedFor string `json:"asked_for,omitempty"`
	// LossPence is money lost, in pence.
	LossPence int64 `json:"loss_pence,omitempty"`
	// Words are the call's words (guards: only when the household opted in) or the
	// person's account of what happened.
	Words string `json:"words,omitempty"`
}

// Limits on a report's fields.
const (
	maxID         = 128
	maxShort      = 100
	maxReasons    = 10
	maxIndicators = 20
	maxWords      = 4000
	maxBody       = 16 << 10 // a report's JSON
	maxLoss       = 100_000_000_00
	maxAge        = 366 * 24 * time.Hour
	maxAhead      = time.Hour
)

var (
	sources   = []string{FromGuard, FromPerson}
	reporters = []string{"resident", "relative", "call-handler", "other"}
	contacts  = []string{"call", "doorstep"}
	verdicts  = []string{"block", "warn", "screen", "suspicious", "scam", "reported"}
)

// FieldError names a field of a report and what is wrong with it.
type FieldError struct {
	Field, Problem string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// ParseReport reads and checks a report's JSON. Every problem is named, field by field.
func ParseReport(body []byte, now time.Time) (Report, error) {
	var r Report
	err := DecodeReport(body, &r, now)
	return r, err
}

// DecodeReport is ParseReport over r: fields the JSON leaves out keep r's values, so a
// caller can give defaults.
func DecodeReport(body []byte, r *Report, now time.Time) error {
	if len(body) > maxBody {
		return FieldError{"report", fmt.Sprintf("is %d bytes; at most %d", len(body), maxBody)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return jsonProblem(err)
	}
	if dec.More() {
		return FieldError{"report", "has more than one JSON value"}
	}
	return r.Check(now)
}

// jsonProblem words a decoding error, naming the field when it is one.
func jsonProblem(err error) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		want := map[string]string{"int": "a whole number", "int64": "a whole number", "string": "text",
			"[]string": "a list of text", "time.Time": "a time like 2026-11-20T14:05:00Z"}[te.Type.String()]
		if want == "" {
			want = te.Type.String()
		}
		return FieldError{te.Field, fmt.Sprintf("must be %s, not %s", want, te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return FieldError{"report", fmt.Sprintf("is not valid JSON at byte %d: %v", se.Offset, err)}
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return FieldError{"report", "has a field this protocol does not know: " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
	}
	return FieldError{"report", "is not valid: " + err.Error()}
}

// Check validates r in place: trims text, writes the number in E.164 and the district as
// given; on any problem it returns every problem found, joined.
func (r *Report) Check(now time.Time) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	text := func(field string, s *string, max int, required bool) {
		*s = strings.TrimSpace(*s)
		switch {
		case *s == "" && required:
			bad(field, "is required")
		case !utf8.ValidString(*s):
			bad(field, "is not UTF-8 text")
		case utf8.RuneCountInString(*s) > max:
			bad(field, "is %d characters; at most %d", utf8.RuneCountInString(*s), max)
		}
	}
	oneOf := func(field, s string, allowed []string) {
		if s != "" && !slices.Contains(allowed, s) {
			bad(field, "%q is not one of %s", s, strings.Join(allowed, ", "))
		}
	}
	if r.V != Version {
		bad("v", "protocol version %d; this hub speaks %d", r.V, Version)
	}
	text("id", &r.ID, maxID, true)
	if strings.Trim(r.ID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != "" {
		bad("id", "%q may hold only letters, digits and . _ : -", r.ID)
	}
	text("source", &r.Source, maxShort, true)
	oneOf("source", r.Source, sources)
	text("reporter", &r.Reporter, maxShort, false)
	oneOf("reporter", r.Reporter, reporters)
	text("district", &r.District, maxShort, true)
	if r.District != "" && DistrictToken(r.District) == "" {
		bad("district", "%q has no letters or digits", r.District)
	}
	text("contact", &r.Contact, maxShort, true)
	oneOf("contact", r.Contact, contacts)
	text("verdict", &r.Verdict, maxShort, true)
	oneOf("verdict", r.Verdict, verdicts)
	switch {
	case r.At.IsZero():
		bad("at", "is required (RFC 3339 time, like 2026-11-20T14:05:00Z)")
	case r.At.After(now.Add(maxAhead)):
		bad("at", "%s is in the future", r.At.Format(time.RFC3339))
	case r.At.Before(now.Add(-maxAge)):
		bad("at", "%s is more than a year ago", r.At.Format(time.RFC3339))
	}
	if r.Number = strings.TrimSpace(r.Number); r.Number != "" {
		if n, err := screen.Canonical(r.Number); err != nil {
			bad("number", "%v", err)
		} else {
			r.Number = n
		}
	}
	if r.Contact == "doorstep" && r.Number != "" {
		bad("number", "a doorstep visit has no caller number; put a number they gave in words")
	}
	if len(r.Reasons) > maxReasons {
		bad("reasons", "%d reasons; at most %d", len(r.Reasons), maxReasons)
	}
	for i := range r.Reasons {
		text(fmt.Sprintf("reasons[%d]", i), &r.Reasons[i], 500, true)
	}
	if len(r.Indicators) > maxIndicators {
		bad("indicators", "%d indicators; at most %d", len(r.Indicators), maxIndicators)
	}
	for i, k := range r.Indicators {
		var ind detect.Indicator
		if err := ind.UnmarshalText([]byte(k)); err != nil {
			bad(fmt.Sprintf("indicators[%d]", i), "%v", err)
		}
	}
	text("claimed", &r.Claimed, maxShort, false)
	r.Claimed = strings.ToLower(r.Claimed)
	text("claim_kind", &r.ClaimKind, maxShort, false)
	if r.ClaimKind != "" {
		var k claim.Kind
		if err := k.UnmarshalText([]byte(r.ClaimKind)); err != nil {
			bad("claim_kind", "%q is not one of unknown, police, bank, government, company, family", r.ClaimKind)
		}
	}
	text("officer", &r.Officer, maxShort, false)
	text("force", &r.Force, maxShort, false)
	text("badge_number", &r.BadgeNumber, maxShort, false)
	if r.BadgeNumber != "" && campaign.IDNumber(r.BadgeNumber) == "" {
		bad("badge_number", "%q has no ID number in it: give the digits the caller said, like 4721", r.BadgeNumber)
	}
	text("asked_for", &r.AskedFor, 500, false)
	text("words", &r.Words, maxWords, false)
	if r.LossPence < 0 || r.LossPence > maxLoss {
		bad("loss_pence", "%d is not an amount between 0 and %d pence", r.LossPence, int64(maxLoss))
	}
	if r.Source == FromPerson && r.Number == "" && r.Contact == "call" && r.Words == "" {
		bad("words", "say what happened, or give the caller's number")
	}
	return errors.Join(errs...)
}

// Campaign is the report as the clustering sees it.
func (r Report) Campaign() campaign.Report {
	claimed := r.Claimed
	if claimed == "" && r.Force != "" {
		claimed = strings.ToLower(r.Force)
	}
	return campaign.Report{ID: r.ID, At: r.At, District: r.District, Number: r.Number, Claimed: claimed,
		IDNumber: campaign.IDNumber(r.BadgeNumber), Officer: campaign.Officer(r.Officer), Indicators: r.Indicators, Loss: r.LossPence}
}

// Block is one number on the shared block-list.
type Block struct {
	V        int       `json:"v"`
	Number   string    `json:"number"`
	Campaign string    `json:"campaign"`
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// BlockKey is a number's key in the block-list bucket: its digits.
func BlockKey(number string) string { return strings.TrimPrefix(number, "+") }

// CommunityAlert is an analyst's warning to the households of some districts.
type CommunityAlert struct {
	V         int       `json:"v"`
	ID        string    `json:"id"`
	Campaign  string    `json:"campaign,omitempty"`
	Districts []string  `json:"districts"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// Check validates an alert an analyst wrote.
func (a *CommunityAlert) Check() error {
	var errs []error
	a.Title, a.Body = strings.TrimSpace(a.Title), strings.TrimSpace(a.Body)
	if a.Title == "" {
		errs = append(errs, FieldError{"title", "is required"})
	} else if n := utf8.RuneCountInString(a.Title); n > 120 {
		errs = append(errs, FieldError{"title", fmt.Sprintf("is %d characters; at most 120", n)})
	}
	if a.Body == "" {
		errs = append(errs, FieldError{"body", "is required: what the callers say and what to do"})
	} else if n := utf8.RuneCountInString(a.Body); n > 2000 {
		errs = append(errs, FieldError{"body", fmt.Sprintf("is %d characters; at most 2000", n)})
	}
	if len(a.Districts) == 0 {
		errs = append(errs, FieldError{"districts", "choose at least one district"})
	}
	for _, d := range a.Districts {
		if DistrictToken(d) == "" {
			errs = append(errs, FieldError{"districts", fmt.Sprintf("%q is not a district", d)})
		}
	}
	return errors.Join(errs...)
}

// Receipt is a guard's answer to a community alert: how many guardians it told.
type Receipt struct {
	V int `json:"v"`
	// Alert is the community alert's ID; Household is an opaque per-hub token for the
	// household (a hash), so the hub counts households without learning who they are.
	Alert     string    `json:"alert"`
	Household string    `json:"household"`
	District  string    `json:"district"`
	Guardians int       `json:"guardians"`
	At        time.Time `json:"at"`
}
