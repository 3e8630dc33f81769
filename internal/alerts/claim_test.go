package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/alerts"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// hookCounter is a webhook that counts what it gets by delivery ID, and by the dispatcher
// that sent it (told apart by the dashboard address in the payload's link).
type hookCounter struct {
	mu     sync.Mutex
	byID   map[string]int
	bySite map[string]int
}

func (h *hookCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var p alerts.Payload
	_ = json.Unmarshal(b, &p)
	time.Sleep(2 * time.Millisecond) // a receiver that takes a moment, so the senders overlap
	h.mu.Lock()
	defer h.mu.Unlock()
	h.byID[r.Header.Get("X-Clearline-Delivery")]++
	site, _, _ := strings.Cut(strings.TrimPrefix(p.URL, "http://"), "/")
	h.bySite[site]++
}

func (h *hookCounter) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.byID {
		n += c
	}
	return n
}

// Two guards' alert dispatchers, each on its own store on one PostgreSQL database, running
// at once against one webhook: every delivery reaches it exactly once.
func TestClaimDeliveriesTwoDispatchers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func() *sqlite.Store {
		st, err := sqlite.OpenDatabase(ctx, url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b := open(), open()
	if _, err := a.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house", Settings: dash.Settings{WarnAt: 0.7, AlertAt: 0.8}}); err != nil {
		t.Fatal(err)
	}
	hook := &hookCounter{byID: map[string]int{}, bySite: map[string]int{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	const guardians, calls = 3, 40
	for i := range guardians {
		guardian(t, a, fmt.Sprintf("g%d@example.org", i), "mum", dash.Channels{Webhook: srv.URL + "/hook", WebhookSecret: "a-long-shared-secret"})
	}
	for i := range calls {
		st := a
		if i%2 == 1 {
			st = b
		}
		alertCall(t, st, fmt.Sprintf("call-%d", i), "mum")
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range []struct {
		st   *sqlite.Store
		site string
	}{{a, "a.example"}, {b, "b.example"}} {
		disp := alerts.New(d.st, alerts.Options{BaseURL: "http://" + d.site, Every: 5 * time.Millisecond}, quiet())
		wg.Go(func() { disp.Run(runCtx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for hook.total() < guardians*calls && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // both go on stepping: nothing more may arrive
	stop()
	wg.Wait()

	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.byID) != guardians*calls {
		t.Errorf("%d deliveries reached the webhook; want %d", len(hook.byID), guardians*calls)
	}
	for id, n := range hook.byID {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
	if hook.bySite["a.example"] == 0 || hook.bySite["b.example"] == 0 {
		t.Errorf("sent by a %d, by b %d: both dispatchers should have sent some", hook.bySite["a.example"], hook.bySite["b.example"])
	}
	t.Logf("sent by a %d, by b %d", hook.bySite["a.example"], hook.bySite["b.example"])
	as, err := b.Alerts(ctx, []string{"mum"}, false, 1000)
	if err != nil || len(as) != calls {
		t.Fatalf("%d alerts, %v; want one per call, %d", len(as), err, calls)
	}
	for _, al := range as {
		for _, dl := range al.Deliveries {
			if dl.State != dash.Delivered || dl.Attempts != 1 {
				t.Errorf("alert %d to %s: %s after %d attempts", al.ID, dl.User, dl.State, dl.Attempts)
			}
		}
	}
}

// A delivery whose sender claimed it and died is sent once its lease is over, by another
// dispatcher, with the delivery ID it always had.
func TestClaimedByADeadSenderSentAfterTheLease(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.EnsureHousehold(ctx, dash.Household{ID: "mum", Name: "Mum's house", Settings: dash.Settings{WarnAt: 0.7, AlertAt: 0.8}}); err != nil {
		t.Fatal(err)
	}
	hook := &hookCounter{byID: map[string]int{}, bySite: map[string]int{}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	guardian(t, st, "son@example.org", "mum", dash.Channels{Webhook: srv.URL + "/hook", WebhookSecret: "a-long-shared-secret"})
	alertCall(t, st, "call-1", "mum")
	// The alert is made (as a dispatcher's first step makes it), and a sender claims its
	// delivery, for a short lease, and is killed.
	if n, err := st.TakeAlerts(ctx, "alerts", func(seq int64, kind, household, callID string, payload []byte) (*dash.Alert, bool) {
		return &dash.Alert{HouseholdID: household, CallID: callID, At: time.Now().UTC(), Title: "Possible scam call", Body: "b"}, true
	}, func(h string) ([]dash.User, error) { return st.Guardians(ctx, h) }); err != nil || n != 1 {
		t.Fatalf("TakeAlerts = %d, %v", n, err)
	}
	const shortLease = 500 * time.Millisecond
	claimed, err := st.ClaimDeliveries(ctx, time.Now(), shortLease, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %v, %v; want the one delivery", claimed, err)
	}
	d := alerts.New(st, alerts.Options{}, quiet())
	if err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := hook.total(); n != 0 {
		t.Fatalf("%d deliveries sent within the dead sender's lease", n)
	}
	time.Sleep(shortLease + 100*time.Millisecond)
	if err := d.Step(ctx); err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if want := alerts.DeliveryID(claimed[0]); len(hook.byID) != 1 || hook.byID[want] != 1 {
		t.Errorf("after the lease the webhook got %v; want %s once", hook.byID, want)
	}
}
