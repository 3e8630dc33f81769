package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/clearline/clearline/internal/alerts"
	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// mailbox is a real SMTP server on loopback that keeps what it is sent.
type mailbox struct {
	mu   sync.Mutex
	msgs map[string][]string // recipient -> messages
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m  *mailbox
	to []string
}

func (s *mailSession) AuthPlain(string, string) error            { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *mailSession) Reset()                                    { s.to = nil }
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, to := range s.to {
		s.m.msgs[to] = append(s.m.msgs[to], string(b))
	}
	return nil
}

func startSMTP(t *testing.T) (*mailbox, string) {
	m := &mailbox{msgs: map[string][]string{}}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m, ln.Addr().String()
}

// receiver is an HTTP endpoint (webhook or ntfy topic) that counts what it gets by
// delivery and can be told to fail its first requests.
type receiver struct {
	mu       sync.Mutex
	failNext int
	got      []*http.Request
	bodies   []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failNext > 0 {
		rc.failNext--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	rc.got = append(rc.got, r)
	rc.bodies = append(rc.bodies, string(b))
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// alertCall puts a call.alert event for household into the outbox.
func alertCall(t *testing.T, st *sqlite.Store, id, household string) {
	t.Helper()
	c := call.Call{ID: id, Household: household, Direction: call.Inbound, From: "sip:+442085550199@203.0.113.10", To: "sip:kitchen@x",
		StartedAt: time.Now().UTC(), Risk: &call.Risk{Level: 0.95, Verdict: "scam",
			Interventions: []call.Intervention{{Kind: "alert", Risk: 0.95, Reason: "risk 0.95: cash withdrawal (\"withdraw 5000 pounds in cash\")"}}}}
	if err := st.Write(context.Background(), store.Batch{Events: []call.Event{{CallID: id, Kind: call.CallAlert, At: c.StartedAt, Call: c}}}); err != nil {
		t.Fatal(err)
	}
}

func guardian(t *testing.T, st *sqlite.Store, email, household string, ch dash.Channels) dash.User {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, dash.User{Email: email, Name: strings.Split(email, "@")[0], Role: dash.Guardian}, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetGuardian(ctx, u.ID, household, true); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveChannels(ctx, u.ID, ch); err != nil {
		t.Fatal(err)
	}
	return u
}

// Alerts reach a real SMTP server, a webhook that fails at first, and an ntfy-compatible
// topic, across a restart of the dispatcher and the store: each delivery arrives exactly
// once, signed; only the household's own guardians are sent anything.
func TestDeliveryAcrossFailuresAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"mum", "neighbour"} {
		if _, err := st.EnsureHousehold(ctx, dash.Household{ID: h, Name: h + "'s house", Settings: dash.Settings{WarnAt: 0.7, AlertAt: 0.8}}); err != nil {
			t.Fatal(err)
		}
	}
	mail, smtpAddr := startSMTP(t)
	hook := &receiver{failNext: 2}
	push := &receiver{}
	hookSrv, pushSrv := httptest.NewServer(hook), httptest.NewServer(push)
	defer hookSrv.Close()
	defer pushSrv.Close()
	const secret = "a-long-shared-secret"
	guardian(t, st, "son@example.org", "mum", dash.Channels{Webhook: hookSrv.URL + "/hook", WebhookSecret: secret, Email: "son@example.org", Ntfy: pushSrv.URL + "/mum-alerts"})
	guardian(t, st, "other@example.org", "neighbour", dash.Channels{Email: "other@example.org"})

	opts := alerts.Options{SMTP: alerts.SMTP{Address: smtpAddr, From: "guard@clearline.example"}, Backoff: 10 * time.Millisecond, Attempts: 5}
	d := alerts.New(st, opts, quiet())
	alertCall(t, st, "call-1", "mum")
	if err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	// The webhook failed once; e-mail and push went.
	if hook.count() != 0 || push.count() != 1 {
		t.Fatalf("after one step: webhook %d, push %d", hook.count(), push.count())
	}
	// Restart: a new store and dispatcher on the same database, and a second alert.
	st.Close()
	st, err = sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alertCall(t, st, "call-2", "mum")
	d = alerts.New(st, opts, quiet())
	deadline := time.Now().Add(5 * time.Second)
	for hook.count() < 2 || push.count() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("webhook %d, push %d deliveries", hook.count(), push.count())
		}
		time.Sleep(15 * time.Millisecond)
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 { // more steps send nothing more
		time.Sleep(15 * time.Millisecond)
		d.Step(ctx)
	}
	if hook.count() != 2 || push.count() != 2 {
		t.Errorf("webhook %d, push %d deliveries; want 2 each, once per alert", hook.count(), push.count())
	}
	seen := map[string]bool{}
	for i, r := range hook.got {
		if want := alerts.Sign(secret, []byte(hook.bodies[i])); r.Header.Get("X-Clearline-Signature") != want {
			t.Errorf("webhook signature %q, want %q", r.Header.Get("X-Clearline-Signature"), want)
		}
		var p alerts.Payload
		if err := json.Unmarshal([]byte(hook.bodies[i]), &p); err != nil || p.Household != "mum" || !strings.Contains(p.Body, "Do not let them hand money") {
			t.Errorf("webhook payload %s (%v)", hook.bodies[i], err)
		}
		seen[p.CallID] = true
	}
	if !seen["call-1"] || !seen["call-2"] {
		t.Errorf("webhook calls %v", seen)
	}
	if push.got[0].Header.Get("Title") != "Possible scam call to mum's house" {
		t.Errorf("push title %q", push.got[0].Header.Get("Title"))
	}
	mail.mu.Lock()
	if n := len(mail.msgs["son@example.org"]); n != 2 {
		t.Errorf("son got %d e-mails, want 2", n)
	} else if !strings.Contains(mail.msgs["son@example.org"][0], "Subject: Possible scam call to mum's house") {
		t.Errorf("e-mail: %s", mail.msgs["son@example.org"][0])
	}
	if n := len(mail.msgs["other@example.org"]); n != 0 {
		t.Errorf("another household's guardian got %d e-mails", n)
	}
	mail.mu.Unlock()
	as, err := st.Alerts(ctx, []string{"mum"}, false, 10)
	if err != nil || len(as) != 2 {
		t.Fatalf("alerts %v, %v", as, err)
	}
	for _, a := range as {
		for _, dl := range a.Deliveries {
			if dl.State != dash.Delivered {
				t.Errorf("alert %d %s delivery %s after %d attempts (%s)", a.ID, dl.Channel, dl.State, dl.Attempts, dl.LastError)
			}
		}
	}
}

// A receiver that never answers well is shown as failed once the attempts run out, with
// the last error; nothing is silently dropped.
func TestDeliveryShownAsFailed(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum"})
	hook := &receiver{failNext: 1000}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	guardian(t, st, "son@example.org", "mum", dash.Channels{Webhook: srv.URL, WebhookSecret: "0123456789abcdef"})
	alertCall(t, st, "call-1", "mum")
	d := alerts.New(st, alerts.Options{Backoff: time.Millisecond, Attempts: 3}, quiet())
	for range 20 {
		d.Step(ctx)
		time.Sleep(5 * time.Millisecond)
	}
	as, _ := st.Alerts(ctx, nil, true, 10)
	if len(as) != 1 || len(as[0].Deliveries) != 1 {
		t.Fatalf("alerts %+v", as)
	}
	dl := as[0].Deliveries[0]
	if dl.State != dash.Failed || dl.Attempts != 3 || !strings.Contains(dl.LastError, "503") {
		t.Errorf("delivery %+v", dl)
	}
}

// An alert about a call still going on links to the live call: in its words, in the
// webhook's url, and on push as the notification's click and an "Open the call" button.
func TestAlertLinksToTheLiveCall(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house"})
	hook, push := &receiver{}, &receiver{}
	hookSrv, pushSrv := httptest.NewServer(hook), httptest.NewServer(push)
	defer hookSrv.Close()
	defer pushSrv.Close()
	guardian(t, st, "son@example.org", "mum", dash.Channels{Webhook: hookSrv.URL, WebhookSecret: "0123456789abcdef", Ntfy: pushSrv.URL + "/mum"})
	alertCall(t, st, "call-live", "mum") // not ended: the alert goes while the call is up
	d := alerts.New(st, alerts.Options{BaseURL: "https://guard.example/", Backoff: time.Millisecond}, quiet())
	deadline := time.Now().Add(5 * time.Second)
	for hook.count() < 1 || push.count() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("webhook %d, push %d deliveries", hook.count(), push.count())
		}
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	const live = "https://guard.example/calls/call-live"
	var p alerts.Payload
	if err := json.Unmarshal([]byte(hook.bodies[0]), &p); err != nil || p.URL != live ||
		!strings.Contains(p.Body, "Watch the call live, and end it if you need to: "+live) {
		t.Errorf("webhook payload %s (%v)", hook.bodies[0], err)
	}
	h := push.got[0].Header
	if h.Get("Click") != live || h.Get("Actions") != "view, Open the call, "+live {
		t.Errorf("push Click %q, Actions %q", h.Get("Click"), h.Get("Actions"))
	}
	// Once the call has ended the link is to its story.
	ended := call.Call{ID: "c2", StartedAt: time.Now(), EndedAt: time.Now()}
	if b := alerts.Body(ended, "Mum's house", "https://guard.example"); !strings.Contains(b, "The call's story: https://guard.example/calls/c2") || strings.Contains(b, "live") {
		t.Errorf("body of an ended call: %s", b)
	}
}
