package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

// A provider's service on loopback: the trunk on 127.0.0.2 and the phones on 127.0.0.1 as
// everywhere in these tests, Kamailio on 127.0.0.3, and each guard on an address of its own
// (127.0.0.11, .12, …: the dispatcher knows a guard by its address), all guards sharing one
// PostgreSQL database and a three-node NATS cluster. The guards are processes of their own
// (this test binary run as `clearline run`), so that one can be killed -9.
const lbIP = "127.0.0.3"

// provider is the service: Kamailio in front of guards.
type provider struct {
	t        *testing.T
	database string
	nats     string
	hub      string // the regional hub's web address
	db       *sqlite.Store
	lb       *kamailio
	guards   []*member
	// trunkPort is where the trunk (a SIPp UAS on trunkIP) takes the guards' outbound calls;
	// kitchenPort is the file's household's phone's static contact.
	trunkPort, kitchenPort int
}

// member is one guard process of the service.
type member struct {
	t         *testing.T
	sip, http string
	dir       string // data_dir
	cmd       *exec.Cmd
	out       *syncBuffer
	exited    chan error
	killed    bool
}

// startProvider starts n guards behind Kamailio on one database and one NATS cluster.
// edit, if not empty, adds YAML to every guard's configuration.
func startProvider(t *testing.T, n int, extra string) *provider {
	t.Helper()
	kamailioBinary(t)
	p := &provider{t: t, database: pgtest.URL(t), nats: natsCluster(t, 3),
		trunkPort: freePort(t, trunkIP), kitchenPort: freePort(t, phoneIP)}
	p.hub, _ = startHub(t, p.nats)
	var addrs []string
	for i := range n {
		ip := fmt.Sprintf("127.0.0.%d", 11+i)
		m := p.startMember(ip, extra)
		p.guards = append(p.guards, m)
		addrs = append(addrs, m.sip)
	}
	p.lb = startKamailio(t, net.JoinHostPort(lbIP, strconv.Itoa(freePort(t, lbIP))), addrs)
	return p
}

func (p *provider) startMember(ip, extra string) *member {
	t := p.t
	m := &member{t: t, dir: t.TempDir(), out: &syncBuffer{}, exited: make(chan error, 1)}
	m.sip = net.JoinHostPort(ip, strconv.Itoa(freePort(t, ip)))
	m.http = net.JoinHostPort(ip, strconv.Itoa(freePort(t, ip)))
	lo, hi := mediaRange()
	data := filepath.Join(m.dir, "data")
	src := fmt.Sprintf(`
sip:
  listen: %s
  ring_timeout: 5s
  load_balancers: [%s]
trunk:
  address: %s:%d
  inbound_from: [%s]
  did: "02079460100"
phones:
  - user: kitchen
    password: s3cret
    contact: sip:kitchen@%s:%d
http:
  listen: %s
  api_token: `+apiToken+`
media:
  ports: %d-%d
  timeout: 30s
data_dir: %s
database: %s
listening:
  recogniser: none
screening:
  ask: never
hub:
  run: false
  nats: %s
  replicas: 3
household:
  district: Test Valley
%s`, m.sip, lbIP, trunkIP, p.trunkPort, trunkIP, phoneIP, p.kitchenPort, m.http, lo, hi, data, p.database, p.nats, extra)
	cfg := filepath.Join(m.dir, "clearline.yaml")
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	databases.Store(data, p.database)
	m.cmd = exec.Command(os.Args[0], "-test.run=^$")
	m.cmd.Env = append(os.Environ(), guardSelf+"="+cfg)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.exited <- m.cmd.Wait() }()
	t.Cleanup(func() {
		if !m.killed {
			_ = m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.exited:
			case <-time.After(10 * time.Second):
				_ = m.cmd.Process.Kill()
				<-m.exited
			}
		}
		if t.Failed() {
			t.Logf("guard %s output:\n%s", m.sip, tail(m.out.String(), 50))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(m.metrics(), "clearline_active_calls") {
		select {
		case err := <-m.exited:
			t.Fatalf("guard %s stopped: %v\n%s", m.sip, err, m.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("guard %s did not start:\n%s", m.sip, m.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return m
}

// kill stops the guard process at once, as kill -9 does.
func (m *member) kill() {
	m.killed = true
	_ = m.cmd.Process.Kill()
	<-m.exited
}

// metric reads one sample from the guard's /metrics (0 when absent).
func (m *member) metric(sample string) float64 { return sampleOf(m.metrics(), sample) }

func (m *member) metrics() string {
	res, err := http.Get("http://" + m.http + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// store is the service's shared database, opened once.
func (p *provider) store() *sqlite.Store {
	p.t.Helper()
	if p.db == nil {
		db, err := openStore(p.guards[0].dir + "/data")
		if err != nil {
			p.t.Fatal(err)
		}
		p.t.Cleanup(func() { db.Close() })
		p.db = db
	}
	return p.db
}

// calls reads every call of the service from the shared database.
func (p *provider) calls() []call.Call {
	p.t.Helper()
	db := p.store()
	cs, err := db.Calls(context.Background(), store.Query{Limit: 100000})
	if err != nil {
		p.t.Fatal(err)
	}
	return cs
}

// callsByInstance counts the calls each guard instance recorded.
func (p *provider) callsByInstance() map[string]int {
	p.t.Helper()
	db, err := sql.Open("pgx", p.database)
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT instance, count(*) FROM calls GROUP BY instance`)
	if err != nil {
		p.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			p.t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// callTo runs a SIPp caller on the trunk's network calling to (a household's number) at addr
// (a guard, or the load balancer), presenting number.
func (p *provider) callTo(addr, to, number, scenario string, args ...string) *sipp {
	return runSIPp(p.t, "caller", scenario, append([]string{"-i", trunkIP, "-p", strconv.Itoa(freePort(p.t, trunkIP)),
		"-mi", trunkIP, "-mp", strconv.Itoa(sippMediaPort(p.t, trunkIP)), "-s", to,
		"-key", "caller", number, "-key", "caller_name", "Jean Smith"}, append(args, addr)...)...)
}

// admin logs in to guard m's dashboard as an admin of the service.
func (p *provider) admin(m *member) *analystClient {
	p.t.Helper()
	email := "admin@provider.example"
	db := p.store()
	if _, _, err := db.UserByEmail(context.Background(), email); err != nil {
		addUser(p.t, p.guards[0].dir+"/data", email, dash.Admin, "", nil)
	}
	return loginAnalyst(p.t, "http://"+m.http, email)
}

// addHousehold adds a household with one phone through guard m's admin API, and gives the
// phone's password.
func (p *provider) addHousehold(m *member, id, number, user string) string {
	p.t.Helper()
	a := p.admin(m)
	var h dash.Household
	if code := a.do("POST", "/api/v1/households", map[string]any{"id": id, "name": id, "numbers": []string{number}, "district": "Test Valley"}, &h); code != http.StatusCreated {
		p.t.Fatalf("add household %s through %s: %d %+v", id, m.sip, code, h)
	}
	var ph dash.Phone
	if code := a.do("POST", "/api/v1/households/"+id+"/phones", map[string]any{"user": user}, &ph); code != http.StatusCreated || ph.Password == "" {
		p.t.Fatalf("add phone %s through %s: %d %+v", user, m.sip, code, ph)
	}
	return ph.Password
}

// byInstance is the guard whose instance ID is id (instances are named by their SIP address).
func (p *provider) byInstance(id string) (*member, int) {
	for i, m := range p.guards {
		if strings.HasPrefix(id, m.sip) {
			return m, i
		}
	}
	p.t.Fatalf("no guard of the service is instance %q", id)
	return nil, 0
}

// A phone registers through Kamailio, which hands the REGISTER to one guard; the other guard
// reaches the phone within a second, by the Path the registration carried (through Kamailio,
// over the phone's own address); and a call arriving through Kamailio rings it too.
func TestProviderRegisterOnOneRingOnOther(t *testing.T) {
	t.Parallel()
	p := startProvider(t, 2, "")
	pw := p.addHousehold(p.guards[0], "flat", "020 7946 0400", "flat-hall")
	phonePort := freePort(t, phoneIP)
	before := []float64{p.guards[0].metric("clearline_registered_contacts"), p.guards[1].metric("clearline_registered_contacts")}
	reg := runSIPp(t, "register", "phone_registers.xml", "-i", phoneIP, "-p", strconv.Itoa(phonePort), "-s", "flat-hall", "-au", "flat-hall", "-ap", pw, p.lb.addr)
	reg.wait()
	registered := reg.mustFind(false, "SIP/2.0 200").at
	// The guard writes the binding through to the shared database just after its 200.
	var regs []sqlite.Registration
	var err error
	for {
		regs, err = p.store().Registrations(context.Background(), "flat-hall")
		if err == nil && len(regs) == 1 {
			break
		}
		if time.Since(registered) > time.Second {
			t.Fatalf("the registration in the shared database %v after its 200: %+v %v", time.Since(registered), regs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took, i := p.byInstance(regs[0].Instance)
	other := p.guards[1-i]
	if !strings.Contains(regs[0].Path, lbIP) {
		t.Errorf("the registration via Kamailio keeps no Path through it: %+v", regs[0])
	}
	t.Logf("REGISTER taken by %s; ringing through %s", took.sip, other.sip)
	// The other guard counts the phone's contact within a second of the REGISTER's 200.
	for other.metric("clearline_registered_contacts") <= before[1-i] {
		if time.Since(registered) > time.Second {
			t.Fatalf("%s does not know of the registration through %s %v after its 200", other.sip, took.sip, time.Since(registered))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the other guard has the registration %v after the 200 (SIPp's clock)", time.Since(registered).Round(time.Millisecond))

	// One second after the 200, the other guard rings the phone.
	time.Sleep(time.Until(registered.Add(time.Second)))
	phone := runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(phonePort), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	p.callTo(other.sip, "02079460400", "+442085550123", "caller_hangs_up.xml").wait()
	phone.wait()
	inv := phone.mustFind(false, "INVITE ")
	if via := inv.header("Via"); !strings.Contains(via, lbIP) {
		t.Errorf("the INVITE from %s reached the phone not through Kamailio: Via %s", other.sip, via)
	}

	// Through Kamailio, whichever guard takes it.
	phone = runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(phonePort), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	p.callTo(p.lb.addr, "02079460400", "+442085550123", "caller_via_proxy.xml").wait()
	phone.wait()

	deadline := time.Now().Add(10 * time.Second)
	for {
		cs := p.calls()
		ended := 0
		for _, c := range cs {
			if c.Household == "flat" && !c.EndedAt.IsZero() && c.Outcome == call.Completed {
				ended++
			}
		}
		if ended == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want 2 answered calls to flat in the shared store; have %+v", cs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A number blocked on one guard's dashboard is blocked by the other a second later; a
// household added through one is served by the other.
func TestProviderSettingOnOneAppliesOnOther(t *testing.T) {
	t.Parallel()
	p := startProvider(t, 2, "")
	a, b := p.guards[0], p.guards[1]
	admin := p.admin(a)
	const nuisance = "+441632960777"
	var h dash.Household
	if code := admin.do("POST", "/api/v1/households/home/block", map[string]any{"number": nuisance, "name": "nuisance"}, &h); code != http.StatusOK {
		t.Fatalf("block through %s: %d %+v", a.sip, code, h)
	}
	blocked := time.Now()
	pw := p.addHousehold(a, "flat", "020 7946 0400", "flat-hall")
	time.Sleep(time.Until(blocked.Add(time.Second)))

	// The blocked number calls the household through the other guard: refused.
	p.callTo(b.sip, "02079460100", nuisance, "caller_stays.xml").wait()
	// The new household's phone registers directly with the other guard.
	port := freePort(t, phoneIP)
	runSIPp(t, "register", "phone_registers.xml", "-i", phoneIP, "-p", strconv.Itoa(port), "-s", "flat-hall", "-au", "flat-hall", "-ap", pw, b.sip).wait()

	var got call.Call
	deadline := time.Now().Add(10 * time.Second)
	for got.Verdict == "" {
		for _, c := range p.calls() {
			if strings.Contains(c.From, nuisance) && !c.EndedAt.IsZero() {
				got = c
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the blocked caller's call is not in the shared store")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got.Verdict != "block" {
		t.Errorf("a call from a number blocked on %s a second before, through %s: verdict %q (%s); want block", a.sip, b.sip, got.Verdict, got.Rule)
	}
}

// The household rings 999 through one guard; the ambulance's call-back arrives through the
// other, from a number the household has never seen, and rings straight through though the
// household screens unknown callers.
func TestProviderEmergencyCallbackAcrossGuards(t *testing.T) {
	t.Parallel()
	p := startProvider(t, 2, "")
	a, b := p.guards[0], p.guards[1]
	admin := p.admin(a)
	var h dash.Household
	admin.do("GET", "/api/v1/households/home", nil, &h)
	h.Settings.Unknown = "screen"
	if code := admin.do("PUT", "/api/v1/households/home/settings", h.Settings, &h); code != http.StatusOK {
		t.Fatalf("screen unknown callers: %d %+v", code, h)
	}
	time.Sleep(time.Second)
	trunk := runSIPp(t, "trunk", "trunk_answers.xml", "-i", trunkIP, "-p", strconv.Itoa(p.trunkPort), "-mi", trunkIP, "-mp", strconv.Itoa(sippMediaPort(t, trunkIP)))
	runSIPp(t, "dialler", "phone_dials_emergency.xml", "-i", phoneIP, "-p", strconv.Itoa(freePort(t, phoneIP)),
		"-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)), "-s", "999", "-d", "1000", a.sip).wait()
	trunk.wait()
	time.Sleep(time.Second)

	kitchen := runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(p.kitchenPort), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	p.callTo(b.sip, "02079460100", "+441632960999", "caller_hangs_up.xml").wait()
	kitchen.wait()
	var back call.Call
	deadline := time.Now().Add(10 * time.Second)
	for back.ID == "" {
		for _, c := range p.calls() {
			if strings.Contains(c.From, "+441632960999") && !c.EndedAt.IsZero() {
				back = c
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the call-back is not in the shared store")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if back.Verdict != "allow" || !strings.Contains(strings.Join(back.Reasons, " "), "rang an emergency number") || back.Outcome != call.Completed {
		j, _ := json.Marshal(back)
		t.Errorf("the call-back through %s after 999 through %s: %s; want rung straight through by emergency-ring-back", b.sip, a.sip, j)
	}
}

// Calls pour in through Kamailio to both guards while alerts about calls keep coming; one
// guard is killed -9 in the middle. Every call SIPp saw end has its record, the killed guard's
// calls in progress are closed by the survivor, no alert is made or delivered twice, and
// every alert reaches the guardian.
func TestProviderKillOneUnderLoad(t *testing.T) {
	t.Parallel()
	p := startProvider(t, 2, "")
	a := p.guards[0]
	inbox := newInbox(t)
	addUser(t, a.dir+"/data", "son@example.org", dash.Guardian, "home", inbox)
	db := p.store()
	ctx := context.Background()

	dir := t.TempDir()
	uas := exec.Command("sipp", "-sn", "uas", "-i", phoneIP, "-p", strconv.Itoa(p.kitchenPort), "-nostdin")
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = uas.Process.Kill(); _ = uas.Wait() })
	const rate, seconds = 20, 20
	stats := filepath.Join(dir, "stats.csv")
	load := exec.Command("sipp", "-sf", filepath.Join(scenarios, "bench_via_proxy.xml"), "-s", "02079460100",
		"-key", "caller", "+442085550123", "-key", "caller_name", "Load",
		"-i", trunkIP, "-p", strconv.Itoa(freePort(t, trunkIP)), "-r", strconv.Itoa(rate), "-m", strconv.Itoa(rate*seconds),
		"-l", strconv.Itoa(rate*4), "-nostdin", "-default_behaviors", "all,-abortunexp", "-timeout", strconv.Itoa(seconds+40)+"s",
		"-trace_stat", "-stf", stats, "-fd", "1", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"), p.lb.addr)
	out := &syncBuffer{}
	load.Stdout, load.Stderr = out, out
	started := time.Now()
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.Wait() }()

	// An alert every 200 ms, written into the shared store as a guard's listener would.
	const alerts = 60
	var killedAt time.Time
	for i := range alerts {
		if i == 25 {
			a.kill()
			killedAt = time.Now()
			t.Logf("killed %s %.1f s into the load", a.sip, killedAt.Sub(started).Seconds())
		}
		id := fmt.Sprintf("load-alert-%02d", i)
		now := time.Now().UTC()
		c := call.Call{ID: id, Household: "home", Direction: call.Inbound, From: "sip:+441632960" + fmt.Sprintf("%03d", i) + "@trunk",
			StartedAt: now, EndedAt: now, Outcome: call.Completed, EndedBy: call.ByCaller, Verdict: "allow",
			Risk: &call.Risk{Level: 0.95, Verdict: "scam", Interventions: []call.Intervention{{Kind: "alert", Risk: 0.95, Reason: "risk 0.95"}}}}
		if err := db.Write(ctx, store.Batch{Events: []call.Event{{CallID: id, Kind: call.CallAlert, At: now, Call: c}}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case <-loadDone:
	case <-time.After(time.Duration(seconds+60) * time.Second):
		_ = load.Process.Kill()
		t.Fatalf("the load did not finish:\n%s", tail(out.String(), 20))
	}
	ok, failed := sippCounts(t, stats)
	t.Logf("SIPp: %d calls completed, %d failed (the killed guard's calls in progress among them)", ok, failed)
	if ok < rate*seconds/2 {
		t.Errorf("only %d of %d calls completed", ok, rate*seconds)
	}

	// Every call SIPp saw completed is on record as completed, and nothing stays open: the
	// survivor closes the killed guard's calls.
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs := p.calls()
		completed, open := 0, 0
		for _, c := range cs {
			if strings.HasPrefix(c.ID, "load-alert-") {
				continue
			}
			if c.EndedAt.IsZero() {
				open++
			} else if c.Outcome == call.Completed {
				completed++
			}
		}
		if completed >= ok && open == 0 {
			t.Logf("on record: %d completed (SIPp saw %d), none open", completed, ok)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("on record %d completed calls (SIPp saw %d) and %d still open %.0f s after the kill", completed, ok, open, time.Since(killedAt).Seconds())
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Both guards took calls: the load really was shared when one was killed.
	byInstance := p.callsByInstance()
	t.Logf("calls by instance: %v", byInstance)
	took := map[*member]int{}
	for id, n := range byInstance {
		if id != "" {
			m, _ := p.byInstance(id)
			took[m] += n
		}
	}
	if took[a] == 0 || took[p.guards[1]] == 0 {
		t.Errorf("calls by guard %v: the load did not reach both", byInstance)
	}

	// Each alert made once, delivered once.
	deadline = time.Now().Add(90 * time.Second) // an alert the killed guard had claimed comes again after its lease
	for {
		got := inbox.deliveries()
		for id, n := range got {
			if n > 1 {
				t.Fatalf("delivery %s reached the guardian %d times", id, n)
			}
		}
		if len(got) == alerts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts reached the guardian", len(got), alerts)
		}
		time.Sleep(500 * time.Millisecond)
	}
	list, err := db.Alerts(ctx, []string{"home"}, true, 10000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, al := range list {
		if strings.HasPrefix(al.CallID, "load-alert-") {
			seen[al.CallID]++
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%d alerts about %s", n, id)
		}
	}
	if len(seen) != alerts {
		t.Errorf("alerts about %d calls; want %d", len(seen), alerts)
	}
}

// sippCounts reads the successful and failed calls from a SIPp statistics file (-trace_stat).
func sippCounts(t *testing.T, file string) (ok, failed int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			ok, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			failed, _ = strconv.Atoi(last[i])
		}
	}
	return ok, failed
}

// A guardian whose dashboard is served by one guard sees, in calls now, a call the other
// guard holds, and ends it: the other guard releases the caller at once and tells the
// resident why, and the record says the guardian ended it.
func TestProviderEndFromTheOtherGuard(t *testing.T) {
	t.Parallel()
	p := startProvider(t, 2, "")
	a, b := p.guards[0], p.guards[1]
	addUser(t, a.dir+"/data", "son@example.org", dash.Guardian, "home", newInbox(t))
	son := loginAnalyst(t, "http://"+b.http, "son@example.org")

	phone := runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(p.kitchenPort), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)), "-timeout", "60s")
	caller := p.callTo(a.sip, "02079460100", "+442085550123", "caller_stays.xml", "-timeout", "60s")
	var live struct {
		Calls []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"calls"`
	}
	var id string
	deadline := time.Now().Add(15 * time.Second)
	for id == "" {
		son.do("GET", "/api/v1/live", nil, &live)
		for _, c := range live.Calls {
			if c.State == "connected" {
				id = c.ID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call through %s never showed as connected on %s's dashboard: %+v", a.sip, b.sip, live)
		}
		time.Sleep(100 * time.Millisecond)
	}
	asked := time.Now()
	var ended struct {
		call.Call
		State string `json:"state"`
	}
	if code := son.do("POST", "/api/v1/calls/"+id+"/end", nil, &ended); code != http.StatusOK || ended.EndedBy != call.ByGuardian || ended.EndedByUser != "son" {
		t.Fatalf("ending through %s the call %s holds: %d %+v", b.sip, a.sip, code, ended)
	}
	answered := time.Since(asked)
	caller.wait()
	phone.wait()
	toCaller := caller.mustFind(false, "BYE ").at.Sub(asked)
	t.Logf("remote end through the other guard: answered in %v, the caller's BYE %v after the request", answered.Round(time.Millisecond), toCaller.Round(time.Millisecond))
	if toCaller > time.Second {
		t.Errorf("the caller got BYE %v after the request", toCaller)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		c, err := p.store().Call(context.Background(), id)
		if err == nil && !c.EndedAt.IsZero() {
			if c.EndedBy != call.ByGuardian || c.EndedByUser != "son" {
				t.Errorf("the record says ended by %v (%q); want the guardian son", c.EndedBy, c.EndedByUser)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ended call is not on record: %+v %v", c, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var again map[string]string
	if code := son.do("POST", "/api/v1/calls/"+id+"/end", nil, &again); code != http.StatusConflict {
		t.Errorf("ending it again: %d %v", code, again)
	}
}
