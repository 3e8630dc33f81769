// Package dash holds what the guardians' dashboard is about: households and their settings,
// the people who look after them (guardians, and admins who manage everything), their
// sessions, and the alerts sent to them with each delivery's state. Store is implemented
// by the SQLite backend; the web package serves the pages and the JSON API, and package
// alerts delivers.
package dash

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/screen"
)

// Role is what a user may do.
type Role string

// The roles.
const (
	// Admin manages households and guardians and sees every household.
	Admin Role = "admin"
	// Guardian sees and manages only the households they guard.
	Guardian Role = "guardian"
	// Analyst works the regional hub: campaigns, reports, community alerts, the shared
	// block-list. An analyst sees no household's calls.
	Analyst Role = "analyst"
)

// ValidID says whether id can name a household: 1 to 40 lowercase letters, digits or dashes.
func ValidID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Household is one home behind a guard.
type Household struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Settings  Settings  `json:"settings"`
	// Numbers are the numbers the household's calls come in on and go out with, in E.164;
	// each is one household's. The configuration file's household has its trunk.did instead.
	Numbers []string `json:"numbers"`
	// District is the local authority district its reports to the hub name ("" sends none).
	District string `json:"district"`
}

// Standing is how a household's day is going: for the list that puts the households at
// most risk first.
type Standing struct {
	Calls   int     `json:"calls"`
	Blocked int     `json:"blocked"`
	Warned  int     `json:"warned"`
	Risk    float64 `json:"risk"` // the highest risk the listener found in a call
	// OpenAlerts are the household's alerts nobody has acknowledged, whenever they came.
	OpenAlerts int `json:"open_alerts"`
}

// Phone is one of a household's handsets: a SIP account the guard's registrar takes. A
// user name is one phone's on the whole guard.
type Phone struct {
	User      string `json:"user"`
	Household string `json:"household"`
	// Password is the SIP digest secret. The store keeps it (digest authentication needs
	// it); the API shows it only once, when it generated it.
	Password string `json:"password,omitempty"`
	// Contact, when set, is a static SIP URI rung instead of the phone's registrations.
	Contact   string    `json:"contact,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Contact is a number in a household's lists, with who it is.
type Contact struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

// Settings are what the household's guardians choose: who may always ring, who never may,
// the trusted directory for safe call-back, and how the guard intervenes.
type Settings struct {
	Allow []Contact `json:"allow"`
	Block []Contact `json:"block"`
	// Bank is the number on the back of the resident's card; Police their local 101.
	Bank   string `json:"bank"`
	Police string `json:"police"`
	// QuietHours like 22:00-07:00 keeps unknown callers from ringing at night.
	QuietHours string `json:"quiet_hours"`
	// Ask is which callers the guard asks who they are before the phone rings: never,
	// unknown, warned or always (screening.ask); empty keeps the configuration's.
	Ask string `json:"ask,omitempty"`
	// Unknown is what happens to callers no rule allowed or judged: allow, screen or carer
	// (Carer Check: a guardian decides); Warned is ring or carer for warned callers. Empty
	// keeps the configuration's (screening.unknown, screening.warned).
	Unknown string  `json:"unknown,omitempty"`
	Warned  string  `json:"warned,omitempty"`
	Warn    bool    `json:"warn"`
	WarnAt  float64 `json:"warn_at"`
	Alert   bool    `json:"alert"`
	AlertAt float64 `json:"alert_at"`
}

// Default thresholds: only a call in which the detector found signs can reach the warning
// (its risk is capped at 0.6 without one); the alert is the detector's scam threshold.
const (
	DefaultWarnAt  = 0.7
	DefaultAlertAt = 0.8
)

// CheckThreshold says whether v can be a warning or alert threshold: a risk in (0, 1].
func CheckThreshold(v float64) error {
	if v <= 0 || v > 1 {
		return fmt.Errorf("must be a risk above 0 and at most 1, like 0.7, not %v", v)
	}
	return nil
}

// DefaultSettings are a new household's: warnings and alerts on, the police on 101.
func DefaultSettings() Settings {
	return Settings{Police: "101", Warn: true, WarnAt: DefaultWarnAt, Alert: true, AlertAt: DefaultAlertAt, Allow: []Contact{}, Block: []Contact{}}
}

// FieldErrors maps a form field to what is wrong with its value.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	parts := make([]string, 0, len(f))
	for k, v := range f {
		parts = append(parts, k+": "+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// Check reports every bad value, by field name.
func (s Settings) Check() FieldErrors {
	errs := FieldErrors{}
	for _, n := range []struct{ field, v string }{{"bank", s.Bank}, {"police", s.Police}} {
		if n.v != "" {
			if _, err := screen.Canonical(n.v); err != nil {
				errs[n.field] = err.Error()
			}
		}
	}
	if s.QuietHours != "" {
		if _, err := screen.ParseQuietHours(s.QuietHours, time.UTC); err != nil {
			errs["quiet_hours"] = err.Error()
		}
	}
	if s.Ask != "" {
		if _, err := claim.ParseAsking(s.Ask); err != nil {
			errs["ask"] = err.Error()
		}
	}
	switch s.Unknown {
	case "", "allow", "screen", "carer":
	default:
		errs["unknown"] = fmt.Sprintf("must be allow, screen or carer (or empty for the configuration's), not %q", s.Unknown)
	}
	switch s.Warned {
	case "", "ring", "carer":
	default:
		errs["warned"] = fmt.Sprintf("must be ring or carer (or empty for the configuration's), not %q", s.Warned)
	}
	for _, t := range []struct {
		field string
		v     float64
	}{{"warn_at", s.WarnAt}, {"alert_at", s.AlertAt}} {
		if err := CheckThreshold(t.v); err != nil {
			errs[t.field] = err.Error()
		}
	}
	for _, l := range []struct {
		field string
		cs    []Contact
	}{{"allow", s.Allow}, {"block", s.Block}} {
		for _, c := range l.cs {
			if _, err := screen.Canonical(c.Number); err != nil {
				errs[l.field] = fmt.Sprintf("%q: %v", c.Number, err)
			}
		}
	}
	return errs
}

// User is someone who logs in to the dashboard.
type User struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	// Households the user guards (admins see all whatever this says).
	Households []string `json:"households"`
	Channels   Channels `json:"channels"`
}

// Channels are where a guardian's alerts go; empty ones are not used.
type Channels struct {
	// Webhook receives a JSON POST signed with HMAC-SHA256 of WebhookSecret.
	Webhook       string `json:"webhook,omitempty"`
	WebhookSecret string `json:"-"`
	// Email is an address alerts are mailed to over the configured SMTP server.
	Email string `json:"email,omitempty"`
	// Ntfy is a topic URL on an ntfy-compatible push server (https://ntfy.sh/topic).
	Ntfy string `json:"ntfy,omitempty"`
	// Phone is the number the guard rings the guardian on for Carer Check, in E.164
	// (+447700900123); empty: they are not rung.
	Phone string `json:"phone,omitempty"`
}

// CanonicalPhone checks a guardian's phone number and writes it in E.164; "" stays "".
// A short code (101, 999) cannot be a guardian's phone.
func CanonicalPhone(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	n, err := screen.Canonical(s)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(n, "+") {
		return "", fmt.Errorf("%q is a short code, not a phone the guard can ring; give a full number like 07700 900123", s)
	}
	return n, nil
}

// Check reports bad channel values by field.
func (c Channels) Check() FieldErrors {
	errs := FieldErrors{}
	for _, u := range []struct{ field, v string }{{"webhook", c.Webhook}, {"ntfy", c.Ntfy}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs[u.field] = "must be an http:// or https:// address"
		}
	}
	if c.Webhook != "" && len(c.WebhookSecret) < 16 {
		errs["webhook_secret"] = "must be at least 16 characters: it signs each alert"
	}
	if c.Email != "" {
		if _, err := mail.ParseAddress(c.Email); err != nil {
			errs["email"] = "is not an e-mail address"
		}
	}
	if _, err := CanonicalPhone(c.Phone); err != nil {
		errs["phone"] = err.Error()
	}
	return errs
}

// Can reports whether u may see and manage household id.
func (u User) Can(id string) bool {
	if u.Role == Admin {
		return true
	}
	for _, h := range u.Households {
		if h == id {
			return true
		}
	}
	return false
}

// BcryptCost is the work factor of new password hashes. Tests lower it to keep the race
// detector's runs short; what a hash is compared with is read from the hash itself.
var BcryptCost = 12

// HashPassword hashes a password for storage (bcrypt, cost BcryptCost).
func HashPassword(pw string) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), BcryptCost)
	return string(h), err
}

// CheckPassword says whether a new password is acceptable.
func CheckPassword(pw string) error {
	if len(pw) < 10 {
		return errors.New("must be at least 10 characters")
	}
	if len(pw) > 72 {
		return errors.New("must be at most 72 characters")
	}
	return nil
}

// PasswordMatches compares a password with its hash in constant time.
func PasswordMatches(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Alert is something the guardians of a household must know about now.
type Alert struct {
	ID          int64      `json:"id"`
	HouseholdID string     `json:"household"`
	CallID      string     `json:"call_id"`
	At          time.Time  `json:"at"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	AckedBy     string     `json:"acked_by,omitempty"`
	AckedAt     time.Time  `json:"acked_at,omitzero"`
	Deliveries  []Delivery `json:"deliveries"`
}

// Delivery is one alert to one guardian by one channel.
type Delivery struct {
	AlertID     int64     `json:"alert_id"`
	UserID      int64     `json:"user_id"`
	User        string    `json:"user"`
	Channel     string    `json:"channel"` // webhook, email or ntfy
	Target      string    `json:"target"`
	State       string    `json:"state"` // pending, delivered or failed
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// ErrNotFound is returned for what does not exist (or the user may not see).
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating something whose key is taken.
var ErrExists = errors.New("already exists")

// Store keeps the dashboard's data.
type Store interface {
	Households(ctx context.Context) ([]Household, error)
	// Directory lists the households named (every household when households is nil) with
	// their numbers and district but not their settings: for the lists of them, by name.
	Directory(ctx context.Context, households []string) ([]Household, error)
	Household(ctx context.Context, id string) (Household, error)
	// EnsureHousehold creates the household with settings s unless it exists.
	EnsureHousehold(ctx context.Context, h Household) (Household, error)
	// CreateHousehold creates a household with its numbers and district: ErrExists when the
	// ID or one of the numbers is taken, and then nothing is stored.
	CreateHousehold(ctx context.Context, h Household) (Household, error)
	SaveSettings(ctx context.Context, id string, s Settings) error
	// AddPhone adds a phone to its household: ErrNotFound without the household, ErrExists
	// when the user name is taken.
	AddPhone(ctx context.Context, p Phone) (Phone, error)
	// Standings sums up each household's calls since since (every household's, when
	// households is nil), with its alerts nobody has acknowledged.
	Standings(ctx context.Context, households []string, since time.Time) (map[string]Standing, error)
	// Phones lists a household's phones, or every household's when household is "", with
	// their passwords (for the guard's registrar; never shown again).
	Phones(ctx context.Context, household string) ([]Phone, error)

	CreateUser(ctx context.Context, u User, passwordHash string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, string, error) // with its password hash
	UserByID(ctx context.Context, id int64) (User, error)
	Users(ctx context.Context) ([]User, error)
	SetGuardian(ctx context.Context, userID int64, household string, on bool) error
	SaveChannels(ctx context.Context, userID int64, c Channels) error
	Guardians(ctx context.Context, household string) ([]User, error)
	// RemoveUser stops a person logging in or getting alerts; SetPassword replaces a
	// password. Both end the person's sessions.
	RemoveUser(ctx context.Context, id int64) error
	SetPassword(ctx context.Context, id int64, hash string) error

	CreateSession(ctx context.Context, tokenHash string, userID int64, csrf string, expires time.Time) error
	Session(ctx context.Context, tokenHash string) (userID int64, csrf string, err error)
	DeleteSession(ctx context.Context, tokenHash string) error

	// TakeAlerts turns outbox events after the consumer's cursor into alerts with a
	// pending delivery per guardian and channel, in one transaction with the cursor.
	TakeAlerts(ctx context.Context, consumer string, alertFor func(seq int64, kind, household, callID string, payload []byte) (*Alert, bool), recipients func(household string) ([]User, error)) (int, error)
	Alerts(ctx context.Context, households []string, all bool, limit int) ([]Alert, error)
	// OpenAlerts counts a household's alerts nobody has acknowledged.
	OpenAlerts(ctx context.Context, household string) (int, error)
	Alert(ctx context.Context, id int64) (Alert, error)
	AckAlert(ctx context.Context, id int64, by string) error
	// DueDeliveries lists pending deliveries due at now, for looking at; a sender claims
	// them with ClaimDeliveries instead.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// ClaimDeliveries takes up to limit due pending deliveries for this sender alone for
	// lease (their NextAt becomes now+lease); the same delivery is claimed by nobody else
	// until the lease is over or MarkDelivery records it.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	MarkDelivery(ctx context.Context, d Delivery) error
}
