// Package e2e drives a whole guard (SIP, media, store, HTTP) in this process with real
// SIPp peers over loopback. The trunk lives on 127.0.0.2 and the phones on 127.0.0.1, so
// that the guard tells them apart by address as it would on a real network.
package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/cli"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/testutil/pgtest"
	"github.com/clearline/clearline/internal/testutil/ports"
)

// apiToken is the operator's token the tests read calls with.
const apiToken = "e2e-operator-token"

const (
	phoneIP = "127.0.0.1"
	trunkIP = "127.0.0.2"
)

var scenarios, _ = filepath.Abs("../testdata/sipp")

func TestMain(m *testing.M) {
	if os.Getenv(asrSelf) == "1" { // this binary started as an external recogniser by a test
		os.Exit(cli.Main(append([]string{"asr"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	if cfg := os.Getenv(guardSelf); cfg != "" { // a guard a test starts in a network namespace
		os.Exit(cli.Main([]string{"run", "--config", cfg}, os.Stdout, os.Stderr))
	}
	if d := os.Getenv(e2eDatabase); d != "" && d != "postgres" && d != "sqlite" {
		fmt.Fprintf(os.Stderr, "e2e: %s=%q: want postgres, sqlite or empty (SQLite)\n", e2eDatabase, d)
		os.Exit(2)
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: sipp is not installed; `make test` installs it (Debian package sip-tester)")
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop() // the PostgreSQL server the hub tests started, if any
	os.Exit(code)
}

// freePort finds a UDP port free on ip (and TCP too, for the SIP listener).
func freePort(t *testing.T, ip string) int {
	t.Helper()
	return ports.Free(t, ip)
}

// sippMediaPort finds a media port for SIPp's -mp on ip: SIPp binds the ports after it too
// (RTCP, video), and a port free only by itself fails the scenario when the next is taken.
func sippMediaPort(t *testing.T, ip string) int {
	t.Helper()
	return ports.FreeRun(t, ip, 4)
}

var mediaBase = 20000
var mediaMu sync.Mutex

// mediaRange hands each guard its own small RTP range, so leftovers can be checked. The
// ranges stay below the kernel's ephemeral ports (32768 up), where SIPp's and the tests'
// own sockets are bound, and come round again after 300 guards.
func mediaRange() (int, int) {
	mediaMu.Lock()
	defer mediaMu.Unlock()
	if mediaBase+40 > 32700 {
		mediaBase = 20000
	}
	lo := mediaBase
	mediaBase += 40
	return lo, lo + 39
}

// e2eDatabase names the environment variable that puts the tests' guards' stores on
// PostgreSQL: CLEARLINE_E2E_DATABASE=postgres gives each guard a database of its own on a
// real server (internal/testutil/pgtest); empty or sqlite keeps SQLite in data_dir.
const e2eDatabase = "CLEARLINE_E2E_DATABASE"

// guardDatabase is a new guard's database: "" (SQLite in its data_dir), or a new
// PostgreSQL database when the tests run on PostgreSQL.
func guardDatabase(t *testing.T) string {
	if os.Getenv(e2eDatabase) == "postgres" {
		return pgtest.URL(t)
	}
	return ""
}

// databases maps each guard's data_dir to its database, for the tests' own looks into it.
var databases sync.Map

// openStore opens the store of the guard whose data_dir is dir, wherever it is.
func openStore(dir string) (*sqlite.Store, error) {
	database, _ := databases.Load(dir)
	d, _ := database.(string)
	return sqlite.OpenDatabase(context.Background(), d, dir)
}

type guard struct {
	t                    *testing.T
	cfg                  *config.Config
	sip, http            string
	trunkPort, phonePort int
	callerPort           int
	mediaLo, mediaHi     int
	dir                  string
	cancel               context.CancelFunc
	done                 chan error
	logs                 *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startGuard runs a guard with one phone, "kitchen", at a static contact, and a trunk on
// trunkIP. edit may change the configuration first.
func startGuard(t *testing.T, edit func(*config.Config, *guard)) *guard {
	t.Helper()
	for attempt := 1; ; attempt++ {
		g, err := tryStartGuard(t, edit)
		if err == nil {
			return g
		}
		// A port found free can be taken before the guard binds it (by any socket the
		// kernel gives an ephemeral port); that is the test's luck, not the guard's fault.
		if attempt == 3 || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
		t.Logf("attempt %d: %v; again on other ports", attempt, err)
	}
}

// tryStartGuard starts a guard on ports found free; it fails if the guard stops before
// it is ready, with the guard's own error.
func tryStartGuard(t *testing.T, edit func(*config.Config, *guard)) (*guard, error) {
	t.Helper()
	g := &guard{t: t, dir: t.TempDir(), logs: &syncBuffer{}}
	g.sip = net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP)))
	g.http = net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP)))
	g.trunkPort = freePort(t, trunkIP)
	g.callerPort = freePort(t, trunkIP)
	g.phonePort = freePort(t, phoneIP)
	g.mediaLo, g.mediaHi = mediaRange()
	src := fmt.Sprintf(`
sip:
  listen: %s
  ring_timeout: 5s
trunk:
  address: %s:%d
  inbound_from: [%s]
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
listening:
  recogniser: none
screening:
  ask: never          # the tests of asking callers (ask_test.go) turn it on
hub:
  run: false
`, g.sip, trunkIP, g.trunkPort, trunkIP, phoneIP, g.phonePort, g.http, g.mediaLo, g.mediaHi, filepath.Join(g.dir, "data"))
	cfg, err := config.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = guardDatabase(t)
	if edit != nil {
		edit(cfg, g)
	}
	databases.Store(cfg.DataDir, cfg.Database)
	g.cfg = cfg
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.done = cancel, make(chan error, 1)
	log := slog.New(slog.NewTextHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { g.done <- cli.Serve(ctx, cfg, log) }()
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			t.Logf("guard log:\n%s", tail(g.logs.String(), 60))
		}
	})
	// Ready when both the SIP and the web listener take connections: the web server starts
	// beside the guard, a moment after it.
	deadline := time.Now().Add(5 * time.Second)
	for _, addr := range []string{g.sip, g.http} {
		for {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-g.done:
				g.cancel() // it has stopped
				g.cancel = nil
				return nil, fmt.Errorf("guard stopped before it was ready: %w\n%s", err, g.logs.String())
			default:
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("guard did not start (%s): %v\n%s", addr, err, g.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return g, nil
}

func (g *guard) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.t.Error("guard did not stop within 10s")
	}
	g.cancel = nil
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// calls reads /api/calls.
func (g *guard) calls() []call.Call {
	g.t.Helper()
	var out struct{ Calls []call.Call }
	g.getJSON("/api/calls", &out)
	return out.Calls
}

// waitCall waits until the newest call has ended and returns it.
func (g *guard) waitEnded(n int) []call.Call {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs := g.calls()
		ended := 0
		for _, c := range cs {
			if !c.EndedAt.IsZero() {
				ended++
			}
		}
		if ended >= n {
			return cs
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("waited for %d ended calls; have %+v", n, cs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (g *guard) getJSON(path string, v any) int {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.http+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	return res.StatusCode
}

// metric reads one sample from /metrics ("name{labels}" exactly as exposed).
func (g *guard) metric(sample string) float64 {
	g.t.Helper()
	res, err := http.Get("http://" + g.http + "/metrics")
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return sampleOf(string(b), sample)
}

// sampleOf is one sample's value in a Prometheus text exposition (0 when absent).
func sampleOf(exposition, sample string) float64 {
	for _, l := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// waitIdle waits for the guard to hold no call and no media session, then checks that
// every port of its RTP range can be bound again.
func (g *guard) waitIdle() {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.metric("clearline_active_calls") != 0 || g.metric("clearline_media_sessions") != 0 {
		if time.Now().After(deadline) {
			g.t.Fatalf("calls %v, media sessions %v still open", g.metric("clearline_active_calls"), g.metric("clearline_media_sessions"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for p := g.mediaLo; p <= g.mediaHi; p++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP), Port: p})
		if err != nil {
			g.t.Errorf("RTP port %d still bound after the calls: %v", p, err)
			continue
		}
		c.Close()
	}
}

// sipp is one SIPp process and what it saw.
type sipp struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	msgs string
	out  *syncBuffer
	done chan error
	// limit is how long wait gives SIPp to finish (40 s unless set).
	limit time.Duration
}

// runSIPp starts SIPp with a scenario from testdata/sipp, tracing its messages.
func runSIPp(t *testing.T, name, scenario string, args ...string) *sipp {
	t.Helper()
	return runSIPpIn(t, "", name, scenario, args...)
}

// runSIPpIn is runSIPp inside network namespace ns ("": this one).
func runSIPpIn(t *testing.T, ns, name, scenario string, args ...string) *sipp {
	t.Helper()
	dir := t.TempDir()
	s := &sipp{t: t, name: name, msgs: filepath.Join(dir, "messages.log"), out: &syncBuffer{}, done: make(chan error, 1)}
	var all []string
	if scenario != "" { // "" means one of SIPp's built-in scenarios, chosen by -sn in args
		if !filepath.IsAbs(scenario) {
			scenario = filepath.Join(scenarios, scenario)
		}
		all = []string{"-sf", scenario}
	}
	all = append(all, []string{"-m", "1", "-nostdin",
		"-trace_msg", "-message_file", s.msgs, "-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-timeout", "30s", "-timeout_error"}...)
	all = append(all, args...)
	s.cmd = exec.Command("sipp", all...)
	if ns != "" {
		s.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, "sipp"}, all...)...)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// wait waits for SIPp to finish and fails the test unless its scenario succeeded.
func (s *sipp) wait() {
	s.t.Helper()
	if err := s.result(); err != nil {
		errs, _ := os.ReadFile(strings.TrimSuffix(s.msgs, "messages.log") + "errors.log")
		s.t.Fatalf("%s: sipp failed: %v\n%s\n%s\nmessages:\n%s", s.name, err, errs, tail(s.out.String(), 20), s.summary())
	}
}

func (s *sipp) result() error {
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(cmp.Or(s.limit, 40*time.Second)):
		s.cmd.Process.Kill()
		return fmt.Errorf("still running after %v", cmp.Or(s.limit, 40*time.Second))
	}
}

// message is one SIP message in a SIPp trace.
type message struct {
	at    time.Time
	sent  bool
	start string // request or status line
	text  string
}

var traceHead = regexp.MustCompile(`(?m)^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6})\n(\w+) message (sent|received)[^\n]*\n\n`)

// messages parses the SIPp message trace.
func (s *sipp) messages() []message {
	s.t.Helper()
	b, err := os.ReadFile(s.msgs)
	if err != nil {
		s.t.Fatalf("%s: %v (SIPp said: %s)", s.name, err, tail(s.out.String(), 20))
	}
	text := string(b)
	idx := traceHead.FindAllStringSubmatchIndex(text, -1)
	var out []message
	for i, m := range idx {
		end := len(text)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", text[m[2]:m[3]], time.Local)
		if err != nil {
			s.t.Fatal(err)
		}
		body := strings.TrimSpace(text[m[1]:end])
		first, _, _ := strings.Cut(body, "\n")
		out = append(out, message{at: at, sent: text[m[6]:m[7]] == "sent", start: strings.TrimSpace(first), text: body})
	}
	return out
}

// find returns the first message whose start line begins with prefix, sent or received.
func (s *sipp) find(sent bool, prefix string) (message, bool) {
	for _, m := range s.messages() {
		if m.sent == sent && strings.HasPrefix(m.start, prefix) {
			return m, true
		}
	}
	return message{}, false
}

func (s *sipp) mustFind(sent bool, prefix string) message {
	s.t.Helper()
	m, ok := s.find(sent, prefix)
	if !ok {
		s.t.Fatalf("%s: no %s message %q in:\n%s", s.name, map[bool]string{true: "sent", false: "received"}[sent], prefix, s.summary())
	}
	return m
}

// summary lists the start lines of the messages SIPp sent and received.
func (s *sipp) summary() string {
	var lines []string
	for _, m := range s.messages() {
		lines = append(lines, fmt.Sprintf("%s %s %s", m.at.Format("15:04:05.000"), map[bool]string{true: "sent", false: "recv"}[m.sent], m.start))
	}
	return strings.Join(lines, "\n")
}

// header returns a header's value from a traced message.
func (m message) header(name string) string {
	for _, l := range strings.Split(m.text, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// sdpAudio returns the connection address and audio port of a traced message's SDP.
func (m message) sdpAudio() (string, int) {
	var ip string
	var port int
	for _, l := range strings.Split(m.text, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = v
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return ip, port
}

// phone runs a SIPp phone (UAS) at the configured static contact.
func (g *guard) phone(scenario string, args ...string) *sipp {
	return g.phoneAt(g.phonePort, scenario, args...)
}

// phoneAt runs a SIPp phone (UAS) on port.
func (g *guard) phoneAt(port int, scenario string, args ...string) *sipp {
	return runSIPp(g.t, "phone", scenario, append([]string{"-i", phoneIP, "-p", strconv.Itoa(port),
		"-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(g.t, phoneIP))}, args...)...)
}

// caller runs a SIPp caller arriving from the trunk's network, presenting an ordinary
// London number unless args set -key caller and -key caller_name.
func (g *guard) caller(scenario string, args ...string) *sipp {
	return g.callerAs("+442085550123", "Jean Smith", scenario, args...)
}

// callerAs runs a SIPp caller presenting number and display name.
func (g *guard) callerAs(number, name, scenario string, args ...string) *sipp {
	return g.callerTo("kitchen", number, name, scenario, args...)
}

// callerTo is callerAs calling to (the Request-URI's user: a household's number, or a phone).
func (g *guard) callerTo(to, number, name, scenario string, args ...string) *sipp {
	return runSIPp(g.t, "caller", scenario, append([]string{"-i", trunkIP, "-p", strconv.Itoa(g.callerPort),
		"-mi", trunkIP, "-mp", strconv.Itoa(sippMediaPort(g.t, trunkIP)), "-s", to,
		"-key", "caller", number, "-key", "caller_name", name}, append(args, g.sip)...)...)
}

// trunk runs a SIPp provider (UAS) at the trunk's address.
func (g *guard) trunk(scenario string, args ...string) *sipp {
	return runSIPp(g.t, "trunk", scenario, append([]string{"-i", trunkIP, "-p", strconv.Itoa(g.trunkPort),
		"-mi", trunkIP, "-mp", strconv.Itoa(sippMediaPort(g.t, trunkIP))}, args...)...)
}

// dial runs a SIPp phone (UAC) placing a call to number through the guard.
func (g *guard) dial(scenario, number string, args ...string) *sipp {
	return runSIPp(g.t, "dialler", scenario, append([]string{"-i", phoneIP, "-p", strconv.Itoa(freePort(g.t, phoneIP)),
		"-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(g.t, phoneIP)), "-s", number, "-d", "1000"}, append(args, g.sip)...)...)
}
