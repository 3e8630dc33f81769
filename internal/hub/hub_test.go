package hub_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/hub/hubsql"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	dash.BcryptCost = 4
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// natsNet is one NATS server, or a three-node cluster, with JetStream.
type natsNet struct {
	t       testing.TB
	opts    []hub.ServerOptions
	servers []*server.Server
}

func startNATS(t testing.TB, nodes int) *natsNet {
	n := &natsNet{t: t}
	base := t.TempDir()
	var routes []string
	cports := make([]int, nodes)
	for i := range cports {
		cports[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", cports[i]))
	}
	for i := range nodes {
		o := hub.ServerOptions{Listen: "127.0.0.1:" + strconv.Itoa(freePort(t)), StoreDir: filepath.Join(base, strconv.Itoa(i)), Name: fmt.Sprintf("n%d", i)}
		if nodes > 1 {
			o.Cluster, o.ClusterListen, o.Routes = "clearline-test", "127.0.0.1:"+strconv.Itoa(cports[i]), routes
		}
		n.opts = append(n.opts, o)
	}
	n.servers = make([]*server.Server, nodes)
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { n.servers[i], errs[i] = hub.StartServer(n.opts[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range n.servers {
			if s != nil {
				s.Shutdown()
			}
		}
	})
	return n
}

func (n *natsNet) urls() string {
	var u []string
	for _, o := range n.opts {
		u = append(u, "nats://"+o.Listen)
	}
	return strings.Join(u, ",")
}

func (n *natsNet) kill(i int) {
	n.servers[i].Shutdown()
	n.servers[i].WaitForShutdown()
	n.servers[i] = nil
}

func (n *natsNet) restart(i int) {
	s, err := hub.StartServer(n.opts[i])
	if err != nil {
		n.t.Fatal(err)
	}
	n.servers[i] = s
}

func connect(t testing.TB, n *natsNet, name string) jetstream.JetStream {
	nc, err := hub.Connect(name, nil, n.urls())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// runningHub is a hub started on a JetStream connection; stop kills it.
type runningHub struct {
	*hub.Hub
	stop func()
}

func startHub(t testing.TB, js jetstream.JetStream, st hub.Store, replicas int) *runningHub {
	t.Helper()
	var h *hub.Hub
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h, err = hub.New(ctx, hub.Options{Store: st, JS: js, Replicas: replicas})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub did not start: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	rh := &runningHub{Hub: h, stop: func() { cancel(); <-done }}
	t.Cleanup(rh.stop)
	return rh
}

func sqliteHubStore(t testing.TB) hub.Store {
	s, err := hubsql.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func postgresHubStore(t testing.TB) hub.Store {
	s, err := hubsql.Open(context.Background(), pgtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testGuard is a guard's side of the hub: its real SQLite store (outbox, guardians,
// alerts) and its link, with the shared block-list it was last given.
type testGuard struct {
	db       *sqlite.Store
	district string
	mu       sync.Mutex
	list     screen.List
	changed  chan struct{}
	stop     func()
}

func startGuard(t testing.TB, js jetstream.JetStream, district string) *testGuard {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.EnsureHousehold(ctx, dash.Household{ID: "home", Name: "Home", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	hash, _ := dash.HashPassword("a long enough password")
	u, err := db.CreateUser(ctx, dash.User{Email: "carer@" + hub.DistrictToken(district) + ".example", Name: "Carer in " + district, Role: dash.Guardian}, hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetGuardian(ctx, u.ID, "home", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveChannels(ctx, u.ID, dash.Channels{Webhook: "http://127.0.0.1:9/hook", WebhookSecret: "0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	g := &testGuard{db: db, district: district, changed: make(chan struct{}, 100)}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	l := hub.NewLink(hub.LinkOptions{JS: js, Outbox: db, Household: "home", District: district, GuardID: "g-" + hub.DistrictToken(district),
		Alerts: db, Blocklist: func(l screen.List) {
			g.mu.Lock()
			g.list = l
			g.mu.Unlock()
			select { // never hold up the link: the tests only wait on it
			case g.changed <- struct{}{}:
			default:
			}
		}})
	go func() { l.Run(lctx); close(done) }()
	g.stop = func() { cancel(); <-done }
	t.Cleanup(g.stop)
	return g
}

func (g *testGuard) blocked(number string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.list[number]
	return ok
}

// spoof records, in the guard's outbox, a call screening warned about: a caller whose
// name claims the police.
func (g *testGuard) spoof(t testing.TB, id, number string, at time.Time) {
	t.Helper()
	c := call.Call{ID: id, Household: "home", Direction: call.Inbound, From: "sip:" + number + "@trunk", To: "sip:kitchen@guard",
		StartedAt: at, EndedAt: at.Add(time.Minute), Outcome: call.Completed, Verdict: "warn", Rule: "display-name",
		Reasons: []string{`the caller's name says "Hampshire Police Fraud", as if from the police`}}
	if err := g.db.Write(context.Background(), store.Batch{Events: []call.Event{{CallID: id, Kind: call.CallEnded, At: c.EndedAt, Call: c}}}); err != nil {
		t.Fatal(err)
	}
}

func (g *testGuard) alerts(t testing.TB) []dash.Alert {
	as, err := g.db.Alerts(context.Background(), []string{"home"}, false, 10)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func eventually(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setups are the two ways a hub is run: on one NATS server with SQLite, and on a
// three-node NATS cluster (streams kept on all three) with PostgreSQL.
var setups = []struct {
	name  string
	nodes int
	store func(testing.TB) hub.Store
}{{"single-sqlite", 1, sqliteHubStore}, {"cluster-postgres", 3, postgresHubStore}}

// Guard → hub → guard: spoofed calls in two districts become one campaign; an alert for
// one district reaches its guardians and no others; the campaign's numbers reach a third
// guard's block-list in under two seconds. On one server with SQLite, and on a three-node
// cluster with PostgreSQL.
func TestRoundTrip(t *testing.T) {
	for _, v := range setups {
		t.Run(v.name, func(t *testing.T) {
			ctx := context.Background()
			n := startNATS(t, v.nodes)
			h := startHub(t, connect(t, n, "hub"), v.store(t), v.nodes)
			win := startGuard(t, connect(t, n, "winchester"), "Winchester")
			tv := startGuard(t, connect(t, n, "test-valley"), "Test Valley")
			east := startGuard(t, connect(t, n, "eastleigh"), "Eastleigh")

			at := time.Now().UTC().Add(-time.Hour)
			win.spoof(t, "w1", "+441632960555", at)
			tv.spoof(t, "t1", "+441632960555", at.Add(20*time.Minute))
			var c struct {
				ID        string
				Districts []string
			}
			eventually(t, 15*time.Second, "one campaign across two districts", func() bool {
				_ = h.Refresh(ctx)
				cs := h.Campaigns()
				if len(cs) != 1 || len(cs[0].Reports) != 2 {
					return false
				}
				c.ID = cs[0].ID
				// The spread is kept day by day (UTC); the two reports fall either side
				// of midnight when the test runs just after it.
				c.Districts = nil
				for _, d := range cs[0].Districts {
					c.Districts = append(c.Districts, d.New...)
				}
				return true
			})
			if strings.Join(c.Districts, ",") != "Winchester,Test Valley" {
				t.Errorf("campaign districts = %q", c.Districts)
			}
			reports, _ := h.Store().Reports(ctx, []string{"call-w1"})
			if len(reports) != 1 || reports[0].Claimed != "police" || reports[0].Number != "+441632960555" || reports[0].Words != "" {
				t.Errorf("stored report = %+v", reports)
			}

			a, err := h.SendAlert(ctx, hub.CommunityAlert{Campaign: c.ID, Districts: []string{"Winchester"}, Title: "Fake police calls",
				Body: "Callers say they are Hampshire Police. Hang up.", By: "Analyst"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "the alert's receipt from Winchester", func() bool {
				as, _ := h.Store().Alerts(ctx, 10)
				return len(as) == 1 && as[0].Households == 1 && as[0].Guardians == 1
			})
			got := win.alerts(t)
			if len(got) != 1 || got[0].Title != "Fake police calls" || got[0].CallID != "" || len(got[0].Deliveries) != 1 || got[0].Deliveries[0].Channel != "webhook" {
				t.Fatalf("Winchester's alerts = %+v", got)
			}
			time.Sleep(500 * time.Millisecond)
			if got := tv.alerts(t); len(got) != 0 {
				t.Errorf("Test Valley got Winchester's alert: %+v", got)
			}
			if got := east.alerts(t); len(got) != 0 {
				t.Errorf("Eastleigh got Winchester's alert: %+v", got)
			}
			// Sending the same alert again (a redelivery) does not repeat it for the household.
			if n, err := win.db.AddCommunityAlert(ctx, "home", a.ID, a.Title, a.Body, a.At); err != nil || n != 1 || len(win.alerts(t)) != 1 {
				t.Errorf("repeat alert: %d guardians, %v, %d alerts", n, err, len(win.alerts(t)))
			}

			if east.blocked("+441632960555") {
				t.Fatal("blocked before confirmation")
			}
			start := time.Now()
			blocks, err := h.Confirm(ctx, c.ID, "Analyst")
			if err != nil || len(blocks) != 1 {
				t.Fatalf("Confirm = %+v, %v", blocks, err)
			}
			eventually(t, 2*time.Second, "the number on Eastleigh's block-list", func() bool { return east.blocked("+441632960555") })
			t.Logf("confirmation to block on another guard: %v", time.Since(start))
			if again, _ := h.Confirm(ctx, c.ID, "Analyst"); len(again) != 0 {
				t.Errorf("confirming twice blocked %d more", len(again))
			}
			if err := h.Unblock(ctx, "+441632960555"); err != nil {
				t.Fatal(err)
			}
			eventually(t, 2*time.Second, "the number off Eastleigh's block-list", func() bool { return !east.blocked("+441632960555") })
		})
	}
}

// A report that is not clearline-hub/1 is refused by the hub and stored nowhere; the good
// ones around it are stored.
func TestBadReportOnTheWireIsRefused(t *testing.T) {
	ctx := context.Background()
	n := startNATS(t, 1)
	js := connect(t, n, "hub")
	h := startHub(t, js, sqliteHubStore(t), 1)
	good := fmt.Sprintf(`{"v":1,"id":"g-%%d","source":"guard","at":%q,"district":"Winchester","contact":"call","number":"+441632960555","verdict":"warn"}`,
		time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	for i, body := range []string{fmt.Sprintf(good, 1), `{"v":1,"id":"bad"}`, `not json`, `{"v":1,"id":"x","loss_pence":"lots"}`, fmt.Sprintf(good, 2)} {
		if _, err := js.Publish(ctx, hub.GuardReports, []byte(body), jetstream.WithMsgID(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "two good reports stored and three refused", func() bool {
		s := h.Stats()
		return s.Stored == 2 && s.Rejected == 3
	})
	if c, _ := h.Store().CountReports(ctx); c != 2 {
		t.Errorf("%d reports stored; want the 2 good ones", c)
	}
}

// Kill the hub mid-stream and bring it back: a guard keeps sending from its outbox, and
// every report is stored exactly once. On one server (killed with the hub, as one
// process), and on a three-node cluster that loses a node as well.
func TestHubKilledMidStreamLosesNothing(t *testing.T) {
	for _, v := range setups {
		t.Run(v.name, func(t *testing.T) {
			ctx := context.Background()
			const total = 1200
			n := startNATS(t, v.nodes)
			st := v.store(t)
			h := startHub(t, connect(t, n, "hub"), st, v.nodes)
			g := startGuard(t, connect(t, n, "guard"), "Winchester")

			var written atomic.Int64
			writer := make(chan struct{})
			go func() {
				defer close(writer)
				at := time.Now().UTC().Add(-2 * time.Hour)
				for i := range total {
					g.spoof(t, fmt.Sprintf("k%05d", i), fmt.Sprintf("+4416329%05d", i), at.Add(time.Duration(i)*time.Second))
					written.Add(1)
					if i%40 == 0 { // about 4 s of writing, across the kill
						time.Sleep(130 * time.Millisecond)
					}
				}
			}()
			eventually(t, 20*time.Second, "some reports stored", func() bool { c, _ := st.CountReports(ctx); return c > 100 })
			h.stop()
			killedAt := written.Load()
			if v.nodes == 1 {
				n.kill(0)
			} else {
				n.kill(1)
			}
			time.Sleep(1500 * time.Millisecond)
			if v.nodes == 1 {
				n.restart(0)
			}
			t0 := time.Now()
			h = startHub(t, connect(t, n, "hub-again"), st, v.nodes)
			t.Logf("hub restarted in %v", time.Since(t0))
			<-writer
			t.Logf("killed after %d of %d were written; writing ended %v after the restart", killedAt, total, time.Since(t0))
			if killedAt >= total {
				t.Fatal("the hub was killed after the guard had written every report; not mid-stream")
			}
			eventually(t, 60*time.Second, fmt.Sprintf("all %d reports stored", total), func() bool {
				c, _ := st.CountReports(ctx)
				return c >= total
			})
			t.Logf("all stored at %v", time.Since(t0))
			if c, _ := st.CountReports(ctx); c != total {
				t.Errorf("%d reports stored; want exactly %d", c, total)
			}
			ids := make([]string, total)
			for i := range ids {
				ids[i] = fmt.Sprintf("call-k%05d", i)
			}
			got, err := st.Reports(ctx, ids)
			if err != nil || len(got) != total {
				t.Errorf("%d of %d report IDs found (%v)", len(got), total, err)
			}
			t.Logf("stored %d; the restarted hub saw %d resent duplicates", total, h.Stats().Duplicates)
		})
	}
}

// Two doorstep visits reported by people in their own words, with no number to match on,
// join one campaign: the detector reads the signs of the script from their accounts.
func TestPeoplesAccountsLinkBySigns(t *testing.T) {
	ctx := context.Background()
	n := startNATS(t, 1)
	h := startHub(t, connect(t, n, "hub"), sqliteHubStore(t), 1)
	at := time.Now().UTC().Add(-5 * time.Hour)
	for i, words := range []string{
		"A man said he was a detective from Hampshire police and told Mum to withdraw cash as evidence. A courier would come to collect it.",
		"Caller claiming to be police asked Dad to take out cash from the bank; they said someone would come round to collect the money.",
	} {
		r := hub.Report{V: 1, ID: fmt.Sprintf("p-%d", i), Source: hub.FromPerson, Reporter: "relative", At: at.Add(time.Duration(i) * time.Hour),
			District: "Winchester", Contact: "doorstep", Verdict: "reported", Claimed: "police", Words: words}
		if err := r.Check(time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Submit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := h.Store().Reports(ctx, []string{"p-0", "p-1"})
	for _, r := range got {
		if !slices.Contains(r.Indicators, "cash_withdrawal") || !slices.Contains(r.Indicators, "courier_collection") {
			t.Errorf("signs read from %q: %q", r.Words, r.Indicators)
		}
	}
	if err := h.Detect(ctx); err != nil {
		t.Fatal(err)
	}
	if cs := h.Campaigns(); len(cs) != 1 || len(cs[0].Reports) != 2 {
		t.Errorf("campaigns = %+v; want the two visits in one", cs)
	}
}

// A hub that starts again makes the shared block-list what its store holds, changing only
// what differs: numbers unblocked while it was away come off every guard, new ones go on,
// and the others are not sent again (counted on the bucket's stream, not by the guard's
// rebuilds, which a watcher that reconnects under load would repeat).
func TestHubRestartSyncsTheBlocklist(t *testing.T) {
	ctx := context.Background()
	n := startNATS(t, 1)
	st := sqliteHubStore(t)
	h := startHub(t, connect(t, n, "hub"), st, 1)
	g := startGuard(t, connect(t, n, "guard"), "Eastleigh")
	at := time.Now().UTC().Add(-time.Hour)
	var blocks []hub.Block
	for i, num := range []string{"+441632960001", "+441632960002", "+441632960003"} {
		blocks = append(blocks, hub.Block{V: 1, Number: num, Campaign: "c", Reason: "test", By: "Ann", At: at.Add(time.Duration(i) * time.Second)})
	}
	if err := st.AddBlocks(ctx, blocks[:2]); err != nil {
		t.Fatal(err)
	}
	h.stop()
	h = startHub(t, connect(t, n, "hub-2"), st, 1)
	eventually(t, 5*time.Second, "two numbers on the guard", func() bool { return g.blocked(blocks[0].Number) && g.blocked(blocks[1].Number) })
	h.stop()
	if err := st.RemoveBlock(ctx, blocks[0].Number); err != nil {
		t.Fatal(err)
	}
	if err := st.AddBlocks(ctx, blocks[2:]); err != nil {
		t.Fatal(err)
	}
	// The bucket's stream counts every put and delete: the restart may write only two.
	js := connect(t, n, "hub-3")
	bucket, err := js.Stream(ctx, "KV_"+hub.BlocklistBucket)
	if err != nil {
		t.Fatal(err)
	}
	before, err := bucket.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	startHub(t, js, st, 1)
	eventually(t, 5*time.Second, "the guard's list equal to the store's", func() bool {
		return !g.blocked(blocks[0].Number) && g.blocked(blocks[1].Number) && g.blocked(blocks[2].Number)
	})
	after, err := bucket.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := after.State.LastSeq - before.State.LastSeq; w != 2 {
		t.Errorf("the restarted hub wrote %d changes to the bucket for two differences", w)
	}
}
