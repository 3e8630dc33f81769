package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
)

// The first-run setup in real headless Chromium: a guard nobody can log in to, as the
// Debian package starts it (no phones, no provider), prints a one-time code in its log.
// The browser (e2e/browser/setup.mjs) has a wrong code refused, bad values named next to
// their fields with nothing saved, then sets up the provider (a SIPp trunk), the number, a
// phone and the bank's number; a SIPp phone registers with the password the setup made and
// answers the test call; the first admin and their push channel are made and a test alert
// reaches it. Then a SIPp call goes through the guard with the saved settings, and the
// saved file makes the same configuration at the next start.
func TestSetupInChromium(t *testing.T) {
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Phones = nil
		c.Trunk = config.Trunk{Address: "127.0.0.1:5080", Transport: "udp", RegisterExpiry: c.Trunk.RegisterExpiry}
	})
	var code []string
	for deadline := time.Now().Add(5 * time.Second); code == nil; time.Sleep(20 * time.Millisecond) {
		code = regexp.MustCompile(`setup_code=([A-Z0-9-]{14})`).FindStringSubmatch(g.logs.String())
		if code == nil && time.Now().After(deadline) {
			t.Fatalf("no setup code in the log:\n%s", g.logs.String())
		}
	}
	codeFile := filepath.Join(g.cfg.DataDir, "setup-code")
	if b, err := os.ReadFile(codeFile); err != nil || strings.TrimSpace(string(b)) != code[1] {
		t.Fatalf("setup code file: %q %v", b, err)
	}
	var mu sync.Mutex
	var pushes []string
	inbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushes = append(pushes, r.Header.Get("Title"))
		mu.Unlock()
	}))
	defer inbox.Close()

	// Once the setup has saved the phone's password, a SIPp phone registers with it and
	// waits to answer the test call, as a carer's phone adapter would.
	phonePort := freePort(t, phoneIP)
	phoneDone := make(chan *sipp, 1)
	go func() {
		pw := waitPhonePassword(t, g.cfg.DataDir, "kitchen")
		if pw == "" {
			phoneDone <- nil
			return
		}
		reg := runSIPp(t, "register", "phone_registers.xml", "-i", phoneIP, "-p", strconv.Itoa(phonePort), "-s", "kitchen", "-au", "kitchen", "-ap", pw, g.sip)
		if reg.result() != nil {
			phoneDone <- nil
			return
		}
		phoneDone <- runSIPp(t, "phone", "phone_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(phonePort), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	}()
	trunkAddr := trunkIP + ":" + strconv.Itoa(g.trunkPort)
	runBrowser(t, "setup.mjs", "BASE_URL=http://"+g.http, "SETUP_CODE="+code[1], "TRUNK="+trunkAddr, "INBOX="+inbox.URL+"/mum-calls")
	phone := <-phoneDone
	if phone == nil {
		t.Fatal("the SIPp phone did not register with the setup's password")
	}
	phone.wait() // it answered the test call and got the guard's BYE
	mu.Lock()
	got := append([]string(nil), pushes...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "Test alert from the call guard" {
		t.Errorf("pushes received: %q", got)
	}
	if _, err := os.Stat(codeFile); !os.IsNotExist(err) {
		t.Errorf("the setup code file is still there: %v", err)
	}

	// The saved settings are in force: the phone places a call with its new password and
	// the provider the setup named answers it.
	saved, err := config.LoadWithSetup(writeBase(t, g))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Trunk.Address != trunkAddr || saved.Trunk.DID != "01632 960123" || saved.Callback.Bank != "0345 734 5345" || len(saved.Phones) != 1 {
		t.Fatalf("saved: trunk %+v callback %+v phones %+v", saved.Trunk, saved.Callback, saved.Phones)
	}
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := g.dial("phone_dials.xml", "01632960000", "-au", "kitchen", "-ap", saved.Phones[0].Password)
	dialler.wait()
	trunkSide.wait()
	inv := trunkSide.mustFind(false, "INVITE sip:01632960000@")
	if from := inv.header("From"); !strings.Contains(from, "01632960123@") && !strings.Contains(from, "01632 960123@") {
		t.Errorf("the provider saw caller ID %q; want the household's number from the setup", from)
	}
	c := g.waitEnded(1)[0]
	if c.Direction != call.Outbound || c.Outcome != call.Completed {
		t.Errorf("the call after setup: %+v", c)
	}
}

// waitPhonePassword waits for the setup's saved file to give user a password.
func waitPhonePassword(t *testing.T, dataDir, user string) string {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := config.LoadWithSetup(writeBaseIn(t, dataDir)); err == nil {
			for _, p := range c.Phones {
				if p.User == user {
					return p.Password
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ""
}

// writeBase writes a configuration file naming the guard's data directory, to read the
// setup's saved file over it as clearline run would.
func writeBase(t *testing.T, g *guard) string { return writeBaseIn(t, g.cfg.DataDir) }

func writeBaseIn(t *testing.T, dataDir string) string {
	p := filepath.Join(t.TempDir(), "clearline.yaml")
	if err := os.WriteFile(p, []byte("data_dir: "+dataDir+"\nlistening:\n  recogniser: none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The Today page says plainly when the provider refused the guard's registration, with
// the provider's answer and what to do.
func TestTodaySaysTheProviderRefused(t *testing.T) {
	g := startGuard(t, func(c *config.Config, g *guard) {
		c.Trunk.Username, c.Trunk.Password = "01632960123", "not-the-password"
		// Each REGISTER (a new call for SIPp) is challenged, then refused with 403.
		runSIPp(t, "registrar", "trunk_registrar.xml", "-i", trunkIP, "-p", strconv.Itoa(g.trunkPort), "-m", "20")
	})
	addUser(t, g.cfg.DataDir, "admin@example.org", dash.Admin, "", nil)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm("http://"+g.http+"/login", url.Values{"email": {"admin@example.org"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var page string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		res, err := c.Get("http://" + g.http + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page = string(b)
		if strings.Contains(page, "did not accept the guard") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{"did not accept the guard&#39;s log-in: trunk answered 403 Forbidden", "Check the provider&#39;s user name and password"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Today page does not say %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "No phone is connected") {
		t.Error("a phone at a static contact counted as not connected")
	}
}
