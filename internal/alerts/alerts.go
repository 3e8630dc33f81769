// Package alerts tells a household's guardians, on their own phones, when a call to the
// household turned risky. It reads the store's outbox: every call.alert event becomes one
// alert, with a delivery per guardian and channel they chose — a webhook (JSON signed with
// HMAC-SHA256), e-mail over SMTP, and push through an ntfy-compatible server. Deliveries are
// retried with backoff until they succeed or run out of attempts, and their state is kept in
// the store, so nothing is lost across a restart and the dashboard shows each one.
package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
)

// SMTP is the mail server alerts are sent through.
type SMTP struct {
	Address  string // host:port
	From     string
	Username string
	Password string
}

// Options configure delivery.
type Options struct {
	SMTP SMTP
	// BaseURL is the dashboard's address, for links in alerts.
	BaseURL string
	// Backoff is the wait after the first failed attempt; it doubles each time, up to 5 min.
	Backoff time.Duration
	// Attempts is how many tries a delivery gets before it is shown as failed.
	Attempts int
	// Every is how often the outbox and due deliveries are checked.
	Every time.Duration
}

// Dispatcher turns outbox events into alerts and delivers them.
type Dispatcher struct {
	st   dash.Store
	o    Options
	log  *slog.Logger
	http *http.Client
}

// New makes a dispatcher; zero options take defaults (2 s backoff, 8 attempts, every 500 ms).
func New(st dash.Store, o Options, log *slog.Logger) *Dispatcher {
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	if o.Every <= 0 {
		o.Every = 500 * time.Millisecond
	}
	return &Dispatcher{st: st, o: o, log: log, http: &http.Client{Timeout: 10 * time.Second}}
}

// consumer names the dispatcher's cursor in the outbox.
const consumer = "alerts"

// Run works until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.o.Every)
	defer t.Stop()
	for {
		if err := d.Step(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lease is how long a claimed delivery is this dispatcher's alone: another dispatcher on
// the same database (another guard of the service) takes it only after the lease, when this
// one died before it could mark it. perClaim deliveries are claimed at a time, and no
// delivery is begun after half the lease, so that a batch of slow receivers cannot outlast it.
const (
	lease    = 60 * time.Second
	perClaim = 10
	perStep  = 50
)

// Step takes new alerts from the outbox and makes every delivery that is due. Deliveries
// are claimed (ClaimDeliveries) before they are sent, so two guards sharing a database send
// each one once; one whose sender died is sent again after the lease, with the same
// delivery ID (X-Clearline-Delivery), which lets a receiver drop the repeat.
func (d *Dispatcher) Step(ctx context.Context) error {
	if _, err := d.st.TakeAlerts(ctx, consumer, d.alertFor, func(h string) ([]dash.User, error) { return d.st.Guardians(ctx, h) }); err != nil {
		return fmt.Errorf("reading the outbox: %w", err)
	}
	for sent := 0; sent < perStep; {
		claimed := time.Now()
		due, err := d.st.ClaimDeliveries(ctx, claimed, lease, min(perClaim, perStep-sent))
		if err != nil {
			return err
		}
		for i, dl := range due {
			if time.Since(claimed) > lease/2 {
				// Hand the rest back now rather than let them wait out the lease.
				return d.release(ctx, due[i:])
			}
			if err := d.deliver(ctx, dl); err != nil {
				return errors.Join(err, d.release(ctx, due[i+1:]))
			}
		}
		sent += len(due)
		if len(due) < perClaim {
			break
		}
	}
	return nil
}

// deliver sends one claimed delivery and records how it went.
func (d *Dispatcher) deliver(ctx context.Context, dl dash.Delivery) error {
	a, err := d.st.Alert(ctx, dl.AlertID)
	if err != nil {
		return err
	}
	err = d.send(ctx, a, dl)
	dl.Attempts++
	switch {
	case err == nil:
		dl.State, dl.DeliveredAt, dl.LastError = dash.Delivered, time.Now().UTC(), ""
	case dl.Attempts >= d.o.Attempts:
		dl.State, dl.LastError = dash.Failed, err.Error()
	default:
		dl.LastError = err.Error()
		dl.NextAt = time.Now().Add(min(d.o.Backoff<<(dl.Attempts-1), 5*time.Minute))
	}
	if err != nil {
		d.log.Warn("alert not delivered", "alert", a.ID, "to", dl.User, "channel", dl.Channel, "attempt", dl.Attempts, "err", err)
	}
	return d.st.MarkDelivery(ctx, dl)
}

// release makes claimed deliveries that were not tried due again at once.
func (d *Dispatcher) release(ctx context.Context, dls []dash.Delivery) error {
	var errs []error
	for _, dl := range dls {
		dl.NextAt = time.Now()
		if err := d.st.MarkDelivery(context.WithoutCancel(ctx), dl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// alertFor makes the alert for an outbox event, if it is one guardians must hear about.
func (d *Dispatcher) alertFor(seq int64, kind, household, callID string, payload []byte) (*dash.Alert, bool) {
	if kind != call.CallAlert.String() {
		return nil, false
	}
	var c call.Call
	if err := json.Unmarshal(payload, &c); err != nil {
		d.log.Error("alert event unreadable", "seq", seq, "err", err)
		return nil, false
	}
	name := household
	if h, err := d.st.Household(context.Background(), household); err == nil {
		name = h.Name
	}
	return &dash.Alert{HouseholdID: household, CallID: callID, At: time.Now().UTC(),
		Title: "Possible scam call to " + name, Body: Body(c, name, d.o.BaseURL)}, true
}

// Body says what happened and what to do, in plain words.
func Body(c call.Call, household, baseURL string) string {
	var b strings.Builder
	when := c.StartedAt.In(london()).Format("15:04 on Monday 2 January")
	fmt.Fprintf(&b, "A call to %s at %s sounds like a scam", household, when)
	if c.From != "" {
		fmt.Fprintf(&b, " (the caller's number: %s)", caller(c.From))
	}
	b.WriteString(".\n")
	if c.Risk != nil {
		for _, i := range c.Risk.Interventions {
			if i.Kind == "alert" {
				fmt.Fprintf(&b, "What the guard heard: %s.\n", i.Reason)
			}
		}
	}
	if c.EndedAt.IsZero() {
		b.WriteString("The call was still going when this was sent.\n")
	}
	b.WriteString("What to do: call them now, on their usual number. Do not let them hand money, cards or valuables to anyone, " +
		"and do not let them ring back a number the caller gave. If money has gone, call their bank on the number on the card, " +
		"and report it to the police on 101.\n")
	if u := CallURL(baseURL, c.ID); u != "" {
		if c.EndedAt.IsZero() {
			fmt.Fprintf(&b, "Watch the call live, and end it if you need to: %s\n", u)
		} else {
			fmt.Fprintf(&b, "The call's story: %s\n", u)
		}
	}
	return b.String()
}

// CallURL is the address of a call's page on the dashboard — the live call while it is
// going on — or "" without a base address or a call.
func CallURL(baseURL, callID string) string {
	if baseURL == "" || callID == "" {
		return ""
	}
	return strings.TrimRight(baseURL, "/") + "/calls/" + url.PathEscape(callID)
}

func caller(from string) string {
	from = strings.TrimPrefix(strings.TrimPrefix(from, "sip:"), "tel:")
	if i := strings.IndexByte(from, '@'); i >= 0 {
		from = from[:i]
	}
	return from
}

func london() *time.Location {
	if l, err := time.LoadLocation("Europe/London"); err == nil {
		return l
	}
	return time.UTC
}

// Payload is the webhook's JSON body.
type Payload struct {
	Delivery  string    `json:"delivery"`
	AlertID   int64     `json:"alert_id"`
	Household string    `json:"household"`
	CallID    string    `json:"call_id"`
	At        time.Time `json:"at"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	// URL is the call's page on the dashboard (live while the call goes on), when
	// alerts.base_url is set.
	URL string `json:"url,omitempty"`
}

// DeliveryID identifies one delivery; receivers can use it to drop a repeat.
func DeliveryID(dl dash.Delivery) string {
	return fmt.Sprintf("%d-%d-%s", dl.AlertID, dl.UserID, dl.Channel)
}

// Sign is the webhook signature header's value for body: sha256=<hex HMAC>.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (d *Dispatcher) send(ctx context.Context, a dash.Alert, dl dash.Delivery) error {
	switch dl.Channel {
	case "webhook":
		u, err := d.st.UserByID(ctx, dl.UserID)
		if err != nil {
			return err
		}
		body, _ := json.Marshal(Payload{Delivery: DeliveryID(dl), AlertID: a.ID, Household: a.HouseholdID, CallID: a.CallID, At: a.At, Title: a.Title, Body: a.Body,
			URL: CallURL(d.o.BaseURL, a.CallID)})
		return d.post(ctx, dl.Target, body, map[string]string{"Content-Type": "application/json",
			"X-Clearline-Delivery": DeliveryID(dl), "X-Clearline-Signature": Sign(u.Channels.WebhookSecret, body)})
	case "ntfy":
		h := map[string]string{"Title": a.Title, "Priority": "urgent", "Tags": "warning,telephone"}
		if u := CallURL(d.o.BaseURL, a.CallID); u != "" {
			// Tapping the notification, or its button, opens the call: live while it goes on.
			h["Click"], h["Actions"] = u, "view, Open the call, "+u
		}
		return d.post(ctx, dl.Target, []byte(a.Body), h)
	case "email":
		s := d.o.SMTP
		if s.Address == "" {
			return fmt.Errorf("no SMTP server configured (alerts.smtp.address)")
		}
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@clearline>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
			s.From, dl.Target, a.Title, time.Now().Format(time.RFC1123Z), DeliveryID(dl), strings.ReplaceAll(a.Body, "\n", "\r\n"))
		var auth smtp.Auth
		if s.Username != "" {
			host, _, _ := strings.Cut(s.Address, ":")
			auth = smtp.PlainAuth("", s.Username, s.Password, host)
		}
		return smtp.SendMail(s.Address, auth, s.From, []string{dl.Target}, []byte(msg))
	}
	return fmt.Errorf("unknown channel %q", dl.Channel)
}

func (d *Dispatcher) post(ctx context.Context, url string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, res.Status)
	}
	return nil
}
