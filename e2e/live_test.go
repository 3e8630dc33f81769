package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/speech/speechtest"
)

// remoteEndLimit is the target: the caller's leg released this soon after a guardian's
// request to end the call.
const remoteEndLimit = 200 * time.Millisecond

// liveGuard is a guard that listens to its calls, serving "mum"; the store also has a second
// household, gran, and a guardian for each: son for mum, carer for gran.
func liveGuard(t *testing.T) *guard {
	t.Helper()
	g := listeningGuard(t, func(c *config.Config) { c.Household = config.Household{ID: "mum", Name: "Mum's house"} })
	ctx := context.Background()
	db, err := openStore(g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.EnsureHousehold(ctx, dash.Household{ID: "gran", Name: "Gran's flat", Settings: dash.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	hash, _ := dash.HashPassword("correct horse battery")
	for _, u := range []struct{ email, household string }{{"son@example.org", "mum"}, {"carer@example.org", "gran"}} {
		created, err := db.CreateUser(ctx, dash.User{Email: u.email, Name: strings.Split(u.email, "@")[0], Role: dash.Guardian}, hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetGuardian(ctx, created.ID, u.household, true); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// liveCallUp is a call in progress through the guard: a caller presenting a police name
// speaks the courier-fraud script and stays on the line until the guard hangs up on them;
// the phone answers, its audio going to a listener in the test, and waits for the guard's
// BYE too.
type liveCallUp struct {
	caller, phone *sipp
	heard         *heard
}

func placeLiveCall(t *testing.T, g *guard) liveCallUp {
	t.Helper()
	scripts, err := speechtest.LoadScripts("../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	var script speechtest.Script
	for _, s := range scripts {
		if s.Name == "police_courier" {
			script = s
		}
	}
	a, err := speechtest.Speak(script)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "police_courier.pcap")
	if err := writePCAP(pcap, a.Ulaw); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(scenarios, "caller_speaks_stays.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "caller_speaks_stays.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "@PCAP@", pcap)), 0o644); err != nil {
		t.Fatal(err)
	}
	h := listenAsPhone(t)
	phone := g.phone("phone_answers_listened.xml", "-key", "audio_port", strconv.Itoa(h.port()), "-timeout", "180s")
	caller := g.callerAs("+442085550123", "Metropolitan Police", scenario, "-timeout", "180s")
	phone.limit, caller.limit = 3*time.Minute, 3*time.Minute
	return liveCallUp{caller: caller, phone: phone, heard: h}
}

// liveView is GET /api/v1/live as a guardian or the operator reads it.
type liveView struct {
	Calls []struct {
		call.Call
		Live    bool   `json:"live"`
		State   string `json:"state"`
		Seconds int    `json:"seconds"`
		CanEnd  bool   `json:"can_end"`
	} `json:"calls"`
}

// waitRisky waits until a's live calls hold one that is connected and that listening has
// found risky, with its signs, and returns its ID.
func waitRisky(t *testing.T, a *analystClient) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var l liveView
		a.do("GET", "/api/v1/live", nil, &l)
		for _, c := range l.Calls {
			if c.State == "connected" && c.Risk != nil && c.Risk.Level >= 0.5 && len(c.Risk.Indicators) > 0 {
				if c.Verdict != "warn" || !c.CanEnd || !c.Live || c.Seconds < 0 {
					t.Fatalf("live call %+v: want the warned call, which son may end", c)
				}
				t.Logf("live: %s, verdict %s, risk %.2f %s, signs %v, up %d s", c.ID, c.Verdict, c.Risk.Level, c.Risk.Verdict, c.Risk.Indicators, c.Seconds)
				return c.ID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no risky call in progress in the live view: %+v", l)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkRemoteEnd checks the SIP traces and the record of a call a guardian ended at asked:
// the caller got BYE within the target, the phone got BYE after the whole prompt had
// reached it, and the call is recorded as ended by that guardian.
func checkRemoteEnd(t *testing.T, g *guard, up liveCallUp, id string, asked time.Time, who string) {
	t.Helper()
	up.caller.wait()
	up.phone.wait()
	callerBye := up.caller.mustFind(false, "BYE ")
	phoneBye := up.phone.mustFind(false, "BYE ")
	prompt, err := media.Prompt("family_ended")
	if err != nil {
		t.Fatal(err)
	}
	_, heardAt := up.heard.find(prompt)
	promptLen := time.Duration(len(prompt)) * time.Second / 8000
	toCaller, toPhone := callerBye.at.Sub(asked), phoneBye.at.Sub(asked)
	t.Logf("remote end: the caller's BYE %v after the request, the phone's %v after (the prompt lasts %v)", toCaller.Round(time.Millisecond), toPhone.Round(time.Millisecond), promptLen)
	if toCaller < 0 || toCaller > remoteEndLimit {
		t.Errorf("the caller got BYE %v after the request; want at most %v", toCaller, remoteEndLimit)
	}
	if heardAt.IsZero() {
		t.Fatal("the whole family_ended prompt never reached the phone")
	}
	if heardAt.Before(asked) || heardAt.Sub(asked) > remoteEndLimit {
		t.Errorf("the prompt began reaching the phone %v after the request", heardAt.Sub(asked))
	}
	if toPhone < promptLen {
		t.Errorf("the phone got BYE %v after the request, before the %v prompt could end", toPhone, promptLen)
	}
	deadline := time.Now().Add(10 * time.Second)
	var c call.Call
	for {
		if g.getJSON("/api/calls/"+id, &c); !c.EndedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call was not recorded as ended: %+v", c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.EndedBy != call.ByGuardian || c.EndedByUser != who || c.Outcome != call.Completed || !strings.Contains(c.Reason, "the resident was told why") {
		t.Errorf("recorded end: by %v (%q), %v, %q", c.EndedBy, c.EndedByUser, c.Outcome, c.Reason)
	}
	if rel := c.Leg(call.Trunk).ReleasedAt.Sub(asked); rel < 0 || rel > remoteEndLimit {
		t.Errorf("the caller's leg recorded released %v after the request", rel)
	}
	if rel := c.Leg(call.Household).ReleasedAt.Sub(asked); rel < promptLen {
		t.Errorf("the household's leg recorded released %v after the request, before the prompt's end", rel)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="family_ended"}`); n != 1 {
		t.Errorf("family_ended played to the end %v times", n)
	}
	g.waitIdle()
}

// A guardian ends a risky call from the API while it is up: the live API shows it to them,
// with its screening verdict and the risk and signs as listening finds them, and not to
// another household's guardian, who cannot end it (404); the caller gets BYE at once, the
// phone after the family_ended prompt; a second request says the call has already ended,
// and the live API no longer shows it.
func TestRemoteEndFromAPI(t *testing.T) {
	g := liveGuard(t)
	base := "http://" + g.http
	son, carer := loginAnalyst(t, base, "son@example.org"), loginAnalyst(t, base, "carer@example.org")
	up := placeLiveCall(t, g)
	id := waitRisky(t, son)

	var seen liveView
	carer.do("GET", "/api/v1/live", nil, &seen)
	if len(seen.Calls) != 0 {
		t.Errorf("another household's guardian sees the call: %+v", seen)
	}
	var refused map[string]string
	if code := carer.do("POST", "/api/v1/calls/"+id+"/end", nil, &refused); code != 404 || !strings.Contains(refused["error"], "no call") {
		t.Errorf("another household's guardian ending the call: %d %v", code, refused)
	}
	var one map[string]any
	if code := son.do("GET", "/api/v1/calls/"+id, nil, &one); code != 200 || one["live"] != true || one["state"] != "connected" {
		t.Errorf("the call's own API while it is up: %d %v", code, one)
	}

	asked := time.Now()
	var ended struct {
		call.Call
		State string `json:"state"`
	}
	if code := son.do("POST", "/api/v1/calls/"+id+"/end", nil, &ended); code != 200 || ended.EndedBy != call.ByGuardian || ended.EndedByUser != "son" || ended.State != "ending" {
		t.Fatalf("son ending the call: %d %+v", code, ended)
	}
	if answered := time.Since(asked); answered > remoteEndLimit {
		t.Errorf("the API answered %v after the request", answered)
	}
	checkRemoteEnd(t, g, up, id, asked, "son")

	var again map[string]string
	if code := son.do("POST", "/api/v1/calls/"+id+"/end", nil, &again); code != 409 || !strings.Contains(again["error"], "already ended: son ended it") {
		t.Errorf("ending the call again: %d %v", code, again)
	}
	var after liveView
	son.do("GET", "/api/v1/live", nil, &after)
	if len(after.Calls) != 0 {
		t.Errorf("the live API still shows %+v after the call ended", after.Calls)
	}
}

// The same from the dashboard in Chromium: the guardian has Calls now open before the call
// starts; the call appears, then its risk and signs, without a reload; "End this call" cuts
// the caller off at once and the page says the call was ended by them. With JavaScript off
// the page reloads itself instead. Another household's guardian sees nothing.
func TestRemoteEndInChromium(t *testing.T) {
	g := liveGuard(t)
	ready := filepath.Join(t.TempDir(), "ready")
	browser := startBrowser(t, "live.mjs", "BASE_URL=http://"+g.http, "PASSWORD=correct horse battery", "READY_FILE="+ready)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser never opened Calls now:\n%s", browser.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	up := placeLiveCall(t, g)
	out := browser.wait()
	m := regexp.MustCompile(`end pressed at (\d+) for (\w+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("the browser did not say when it pressed End this call")
	}
	ms, _ := strconv.ParseInt(m[1], 10, 64)
	checkRemoteEnd(t, g, up, m[2], time.UnixMilli(ms), "son")
}

// browserRun is a browser script running beside the test.
type browserRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// startBrowser starts a playwright-core script from e2e/browser with env added, without
// waiting for it; screenshots go to artifacts/browser.
func startBrowser(t *testing.T, script string, env ...string) *browserRun {
	t.Helper()
	if _, err := os.Stat("browser/node_modules/playwright-core"); err != nil {
		t.Fatal("playwright-core is not installed in e2e/browser: `make test-deps` installs it (npm ci)")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is not installed: `make test-deps` installs it")
	}
	shots, _ := filepath.Abs("../artifacts/browser")
	b := &browserRun{t: t, out: &syncBuffer{}, done: make(chan error, 1)}
	b.cmd = exec.Command("node", "browser/"+script)
	b.cmd.Env = append(append(os.Environ(), env...), "SHOTS="+shots)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

func (b *browserRun) output() string { return b.out.String() }

// wait waits for the script to finish and fails the test unless every step passed.
func (b *browserRun) wait() string {
	b.t.Helper()
	var err error
	select {
	case err = <-b.done:
		b.done <- err
	case <-time.After(4 * time.Minute):
		b.cmd.Process.Kill()
		err = fmt.Errorf("still running after 4 minutes")
	}
	out := b.output()
	b.t.Logf("browser:\n%s", out)
	if err != nil {
		b.t.Fatalf("browser test failed: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if sc.Text() == "ok: all browser steps passed" {
			return out
		}
	}
	b.t.Fatal("the browser script did not finish")
	return out
}
