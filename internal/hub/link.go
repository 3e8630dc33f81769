package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/screen"
	"github.com/nats-io/nats.go/jetstream"
)

// Outbox is the guard's durable event outbox with a cursor per consumer.
type Outbox interface {
	Events(ctx context.Context, after int64, limit int) ([]call.Event, error)
	Cursor(ctx context.Context, consumer string) (int64, error)
	SetCursor(ctx context.Context, consumer string, seq int64) error
}

// AlertSink puts a community alert in front of a household's guardians (their dashboard
// and alert channels) once per ref, and says how many guardians it reached.
type AlertSink interface {
	AddCommunityAlert(ctx context.Context, household, ref, title, body string, at time.Time) (guardians int, err error)
}

// LinkOptions configure a guard's link to its hub.
type LinkOptions struct {
	JS jetstream.JetStream
	// Outbox is where reports come from; nil sends none.
	Outbox Outbox
	// Household is the guard's household (used locally, never sent); District is where it is.
	Household, District string
	// Households, when set, is every household the guard serves with its district ("" for
	// none), read as reports and alerts come; it replaces Household and District.
	Households func() map[string]string
	// GuardID is this guard's opaque, stable ID: its consumer's name and its receipts' token.
	GuardID string
	// ShareWords sends the words of risky calls with their reports (the household opted in).
	ShareWords bool
	// Blocklist is called with the whole shared block-list each time it changes.
	Blocklist func(screen.List)
	// Alerts receives community alerts for the district; nil ignores them.
	Alerts AlertSink
	Log    *slog.Logger
}

// Link is a guard's side of clearline-hub/1: it sends reports from the outbox, applies the
// shared block-list and takes community alerts for its district.
type Link struct {
	o    LinkOptions
	sent atomic.Int64
}

// outboxConsumer is the link's cursor name in the guard's outbox.
const outboxConsumer = "hub"

// NewLink makes a link; Run starts it.
func NewLink(o LinkOptions) *Link {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Link{o: o}
}

// Sent counts reports the hub's stream acknowledged.
func (l *Link) Sent() int64 { return l.sent.Load() }

// Run works until ctx ends; each part retries on its own while the hub is unreachable.
func (l *Link) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if l.o.Outbox != nil && (l.o.Households != nil || l.o.District != "") {
		wg.Go(func() { l.report(ctx) })
	}
	if l.o.Blocklist != nil {
		wg.Go(func() { l.watchBlocklist(ctx) })
	}
	if l.o.Alerts != nil && (l.o.Households != nil || l.o.District != "") {
		wg.Go(func() { l.takeAlerts(ctx) })
	}
	wg.Wait()
}

// homes is every household the guard serves, with its district.
func (l *Link) homes() map[string]string {
	if l.o.Households != nil {
		return l.o.Households()
	}
	return map[string]string{l.o.Household: l.o.District}
}

// districtOf is the district of the household a call was for ("" sends no report).
func (l *Link) districtOf(household string) string {
	if l.o.Households == nil {
		return l.o.District // one household: every call is its
	}
	return l.o.Households()[household]
}

// alertSubjects are the subjects of the community alerts for the households' districts.
func (l *Link) alertSubjects() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range l.homes() {
		if s := AlertSubject(d); d != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// report publishes reportable outbox events after the cursor, and moves the cursor only
// over events JetStream has acknowledged.
func (l *Link) report(ctx context.Context) {
	backoff := time.Second
	warned := false
	for ctx.Err() == nil {
		n, err := l.reportOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !warned {
				l.o.Log.Warn("hub unreachable; reports are kept in the outbox and sent later", "err", err)
				warned = true
			}
			sleep(ctx, backoff)
			backoff = min(2*backoff, 8*time.Second)
			continue
		}
		if warned {
			l.o.Log.Info("hub reachable again; sending kept reports")
			warned = false
		}
		backoff = time.Second
		if n == 0 {
			sleep(ctx, 500*time.Millisecond)
		}
	}
}

// reportOnce sends one batch and returns how many events it went past.
func (l *Link) reportOnce(ctx context.Context) (int, error) {
	after, err := l.o.Outbox.Cursor(ctx, outboxConsumer)
	if err != nil {
		return 0, err
	}
	evs, err := l.o.Outbox.Events(ctx, after, 500)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	type pending struct {
		seq int64
		ack jetstream.PubAckFuture
	}
	var sent []pending
	for _, ev := range evs {
		r, ok := ReportFor(ev, l.districtOf(ev.Call.Household), l.o.ShareWords)
		if !ok {
			sent = append(sent, pending{seq: ev.Seq})
			continue
		}
		body, err := json.Marshal(r)
		if err != nil {
			return 0, err
		}
		f, err := l.o.JS.PublishAsync(GuardReports, body, jetstream.WithMsgID(r.ID))
		if err != nil {
			break
		}
		sent = append(sent, pending{ev.Seq, f})
	}
	// Move the cursor over the acknowledged prefix; what follows a failure is sent again
	// (the hub stores each report ID once).
	last, acked := after, 0
	var failed error
	for _, p := range sent {
		if failed == nil && p.ack != nil {
			select {
			case <-p.ack.Ok():
				acked++
			case err := <-p.ack.Err():
				failed = err
			case <-time.After(10 * time.Second):
				failed = errors.New("no acknowledgement from the hub's stream in 10 s")
			case <-ctx.Done():
				failed = ctx.Err()
			}
		}
		if failed != nil {
			continue
		}
		last = p.seq
	}
	if last > after {
		if err := l.o.Outbox.SetCursor(ctx, outboxConsumer, last); err != nil {
			return 0, err
		}
		l.sent.Add(int64(acked))
	}
	if failed != nil {
		return 0, failed
	}
	if len(sent) < len(evs) {
		return 0, errors.New("publishing failed")
	}
	return len(evs), nil
}

// reportRules are the screening rules whose blocks say something about the caller rather
// than the household's own wishes (its lists, quiet hours, screening unknown callers).
var reportRules = []string{"community-block-list", "stir-shaken", "do-not-originate", "numbering-plan", "display-name"}

// ReportFor turns a finished inbound call into a report, if it is worth one: screening
// caught a faked or listed number, or listening found the call suspicious or a scam; or
// the resident reported it from their phone (a call.reported event). A call has one report
// ID whichever way it came, so a call both found and reported is counted once.
func ReportFor(ev call.Event, district string, shareWords bool) (Report, bool) {
	c := ev.Call
	if (ev.Kind != call.CallEnded && ev.Kind != call.CallReported) || c.Direction != call.Inbound || c.Emergency || district == "" {
		return Report{}, false
	}
	r := Report{V: Version, ID: "call-" + c.ID, Source: FromGuard, At: c.StartedAt.UTC(), District: district, Contact: "call"}
	if user := call.Party(c.From); !screen.IsWithheld(user) {
		if n, err := screen.Canonical(user); err == nil {
			r.Number = n
		}
	}
	switch {
	case ev.Kind == call.CallReported:
		r.Verdict, r.Reporter = "reported", "resident"
		r.Reasons = append(r.Reasons, "the resident reported the call as a scam from their phone")
		if slices.Contains(reportRules, c.Rule) && c.Verdict != "" && c.Verdict != "allow" {
			r.Reasons = append(r.Reasons, c.Reasons...)
		}
	case slices.Contains(reportRules, c.Rule) && c.Verdict != "" && c.Verdict != "allow":
		r.Verdict = c.Verdict
		r.Reasons = append(r.Reasons, c.Reasons...)
	case c.Risk != nil && (c.Risk.Verdict == "suspicious" || c.Risk.Verdict == "scam"):
		r.Verdict = c.Risk.Verdict
	case authorityClaim(c.Claim):
		// Asked who they were, the caller claimed an authority: what they claimed and the ID
		// number they gave go to the hub, where the same fake identity links calls.
		r.Verdict = "screen"
	default:
		return Report{}, false
	}
	if authorityClaim(c.Claim) {
		r.Reasons = append(r.Reasons, claimReason(c.Claim))
	}
	var said []string
	if c.Risk != nil {
		for _, f := range c.Risk.Indicators {
			if !slices.Contains(r.Indicators, f.Kind) {
				r.Indicators = append(r.Indicators, f.Kind)
			}
			said = append(said, f.Evidence)
		}
		if shareWords {
			var words []string
			for _, p := range c.Risk.Timeline {
				words = append(words, p.Text)
			}
			r.Words = truncate(strings.Join(words, " "), maxWords)
		}
	}
	r.Claimed = claimed(append(said, r.Reasons...))
	if cl := c.Claim; cl != nil && cl.Answered {
		r.ClaimKind, r.BadgeNumber = cl.Kind, cl.IDNumber
		if cl.Organisation != "" {
			r.Claimed = strings.ToLower(cl.Organisation)
		} else if cl.Kind != "unknown" {
			r.Claimed = cl.Kind
		}
		if cl.Kind == "police" && cl.Organisation != "Police" {
			r.Force = cl.Organisation
		}
	}
	if len(r.Reasons) > maxReasons {
		r.Reasons = r.Reasons[:maxReasons]
	}
	return r, true
}

// authorityClaim says an asked caller said they were the police, a bank or the government.
func authorityClaim(c *call.Claim) bool {
	return c != nil && c.Answered && (c.Kind == "police" || c.Kind == "bank" || c.Kind == "government")
}

// claimReason says in words what an asked caller claimed and what the resident chose.
func claimReason(c *call.Claim) string {
	who := c.Organisation
	if who == "" {
		who = c.Kind
	}
	s := "asked who they were, the caller said " + who
	if c.IDNumber != "" {
		s += ", ID number " + c.IDNumber
	} else {
		s += ", and gave no ID number"
	}
	switch c.Choice {
	case "ring_police", "ring_bank":
		s += "; the resident had the guard ring " + map[string]string{"ring_police": "the police", "ring_bank": "their bank"}[c.Choice] + " instead"
	case "refuse":
		s += "; the resident refused the call"
	case "talk":
		s += "; the resident took the call"
	}
	return s
}

// claimed guesses who the caller pretended to be from the evidence and reasons.
func claimed(texts []string) string {
	s := strings.ToLower(strings.Join(texts, " "))
	switch {
	case strings.Contains(s, "police") || strings.Contains(s, "officer") || strings.Contains(s, "detective") ||
		strings.Contains(s, "constable") || strings.Contains(s, "101"):
		return "police"
	case strings.Contains(s, "bank") || strings.Contains(s, "fraud team"):
		return "bank"
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// watchBlocklist keeps the guard's community block-list equal to the hub's bucket.
func (l *Link) watchBlocklist(ctx context.Context) {
	for ctx.Err() == nil {
		if err := l.watchOnce(ctx); err != nil && ctx.Err() == nil {
			l.o.Log.Warn("shared block-list: not watching; retrying", "err", err)
			sleep(ctx, 2*time.Second)
		}
	}
}

func (l *Link) watchOnce(ctx context.Context) error {
	kv, err := l.o.JS.KeyValue(ctx, BlocklistBucket)
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	list := screen.List{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watch ended")
			}
			if e == nil { // the bucket's current values are all in
				initial = false
				l.o.Blocklist(maps.Clone(list))
				continue
			}
			l.applyEntry(list, e)
			if initial {
				continue
			}
			// A confirmed campaign changes many numbers at once: take every change already
			// here, then rebuild the guard's rules once.
		more:
			for {
				select {
				case e, ok := <-w.Updates():
					if !ok || e == nil {
						break more
					}
					l.applyEntry(list, e)
				default:
					break more
				}
			}
			l.o.Blocklist(maps.Clone(list))
		}
	}
}

// applyEntry puts one bucket change into list.
func (l *Link) applyEntry(list screen.List, e jetstream.KeyValueEntry) {
	key := "+" + e.Key()
	if e.Operation() != jetstream.KeyValuePut {
		delete(list, key)
		return
	}
	var b Block
	if err := json.Unmarshal(e.Value(), &b); err != nil || b.Number == "" {
		l.o.Log.Warn("shared block-list: bad entry ignored", "key", e.Key(), "err", err)
		return
	}
	list[b.Number] = screen.Entry{Number: b.Number, Name: b.Reason, Source: "hub: campaign " + b.Campaign}
}

// takeAlerts passes community alerts for the district to the household's guardians and
// answers each with a receipt.
func (l *Link) takeAlerts(ctx context.Context) {
	name := "guard-" + l.o.GuardID
	var cons jetstream.Consumer
	var subjects []string
	for ctx.Err() == nil {
		var err error
		if now := l.alertSubjects(); !slices.Equal(now, subjects) {
			cons, subjects = nil, now // a household moved or came: subscribe afresh
		}
		if len(subjects) == 0 {
			sleep(ctx, 5*time.Second)
			continue
		}
		if cons == nil {
			cons, err = l.alertConsumer(ctx, name, subjects)
			if err != nil {
				l.o.Log.Warn("community alerts: not subscribed; retrying", "err", err)
				sleep(ctx, 2*time.Second)
				continue
			}
		}
		msgs, err := cons.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			cons = nil
			sleep(ctx, time.Second)
			continue
		}
		for m := range msgs.Messages() {
			l.alert(ctx, m)
		}
	}
}

// alertConsumer opens the guard's durable consumer, making it (from a week back) the first
// time, and making it again if the districts changed.
func (l *Link) alertConsumer(ctx context.Context, name string, subjects []string) (jetstream.Consumer, error) {
	cons, err := l.o.JS.Consumer(ctx, AlertsStream, name)
	if err == nil {
		c := cons.CachedInfo().Config
		have := c.FilterSubjects
		if c.FilterSubject != "" {
			have = []string{c.FilterSubject}
		}
		if slices.Equal(slices.Sorted(slices.Values(have)), subjects) {
			return cons, nil
		}
	}
	if err == nil {
		_ = l.o.JS.DeleteConsumer(ctx, AlertsStream, name)
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	start := time.Now().Add(-7 * 24 * time.Hour)
	return l.o.JS.CreateConsumer(ctx, AlertsStream, jetstream.ConsumerConfig{Durable: name, FilterSubjects: subjects,
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		InactiveThreshold: 30 * 24 * time.Hour})
}

func (l *Link) alert(ctx context.Context, m jetstream.Msg) {
	var a CommunityAlert
	if err := json.Unmarshal(m.Data(), &a); err != nil || a.V != Version || a.ID == "" {
		l.o.Log.Warn("community alert refused", "err", err)
		_ = m.Term()
		return
	}
	// Every household of the guard in the district the alert came for gets it, once each.
	n, district := 0, ""
	for household, d := range l.homes() {
		if d == "" || AlertSubject(d) != m.Subject() {
			continue
		}
		got, err := l.o.Alerts.AddCommunityAlert(ctx, household, a.ID, a.Title, a.Body, a.At)
		if err != nil {
			l.o.Log.Error("community alert not recorded; will retry", "alert", a.ID, "household", household, "err", err)
			_ = m.NakWithDelay(2 * time.Second)
			return
		}
		n, district = n+got, d
	}
	rc, _ := json.Marshal(Receipt{V: Version, Alert: a.ID, Household: l.o.GuardID, District: district, Guardians: n, At: time.Now().UTC()})
	if _, err := l.o.JS.Publish(ctx, ReceiptsSubject, rc, jetstream.WithMsgID(a.ID+"/"+l.o.GuardID)); err != nil {
		// The alert is recorded once whatever happens; take it again to send the receipt.
		l.o.Log.Warn("community alert receipt not sent; will retry", "alert", a.ID, "err", err)
		_ = m.NakWithDelay(2 * time.Second)
		return
	}
	_ = m.Ack()
	l.o.Log.Info("community alert", "alert", a.ID, "title", a.Title, "guardians", n)
}
