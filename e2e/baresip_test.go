package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/testutil/testpki"
)

// baresip is a real softphone (Debian's baresip) as a household phone: it registers to the
// guard as kitchen, answers calls by itself, sends a 440 Hz tone as its voice, and takes
// commands (dial, hold, resume, hangup) over its ctrl_tcp interface.
type baresip struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuffer
	ctrl string // host:port of ctrl_tcp
	sip  string // where it listens for SIP
}

func startBaresip(t *testing.T, g *guard, transport string) *baresip {
	return startBaresipCA(t, g, transport, "")
}

// startBaresipCA is startBaresip checking the guard's TLS certificate against caFile.
func startBaresipCA(t *testing.T, g *guard, transport, caFile string) *baresip {
	t.Helper()
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatal("baresip is not installed; `make test` installs it (Debian package baresip-core)")
	}
	dir := t.TempDir()
	b := &baresip{t: t, out: &syncBuffer{},
		ctrl: net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP))),
		sip:  net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP)))}
	conf := fmt.Sprintf(`poll_method epoll
sip_listen %s
audio_player aufile,%s
audio_source ausine,440
ausrc_srate 48000
ausrc_channels 2
audio_alert aufile,%s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module ausine.so
module account.so
module menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen %s
`, b.sip, filepath.Join(dir, "heard.wav"), filepath.Join(dir, "alert.wav"), b.ctrl)
	if caFile != "" {
		conf += "sip_cafile " + caFile + "\n"
	}
	registrar := g.sip
	if transport == "tls" {
		registrar = g.cfg.SIP.TLSListen
	}
	account := fmt.Sprintf("<sip:kitchen@%s;transport=%s>;auth_pass=s3cret;answermode=auto;regint=60;audio_codecs=pcmu,pcma\n", registrar, transport)
	for name, text := range map[string]string{"config": conf, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b.cmd = exec.Command("baresip", "-f", dir, "-v", "-4", "-n", phoneIP) // media on loopback, like the guard
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		b.cmd.Wait()
		if t.Failed() {
			t.Logf("baresip said:\n%s", tail(b.out.String(), 40))
		}
	})
	return b
}

// command sends one ctrl_tcp command (a JSON netstring) and returns its response.
func (b *baresip) command(cmd, params string) string {
	b.t.Helper()
	c, err := net.DialTimeout("tcp", b.ctrl, time.Second)
	if err != nil {
		b.t.Fatalf("baresip's control port: %v", err)
	}
	defer c.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t"})
	fmt.Fprintf(c, "%d:%s,", len(msg), msg)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(c)
	n, err := r.ReadString(':')
	if err != nil {
		return ""
	}
	size, _ := strconv.Atoi(strings.TrimSuffix(n, ":"))
	body := make([]byte, size)
	if _, err := r.Read(body); err != nil {
		return ""
	}
	return string(body)
}

// waitRegistered waits until the guard answers baresip's REGISTER.
func (b *baresip) waitRegistered() {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.out.String(), "200 OK") {
		if time.Now().After(deadline) {
			b.t.Fatalf("baresip did not register:\n%s", tail(b.out.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// baresipGuard is a guard whose kitchen phone registers (no static contact).
func baresipGuard(t *testing.T, edit func(*config.Config)) *guard {
	return startGuard(t, func(c *config.Config, g *guard) {
		c.Phones = []config.Phone{{User: "kitchen", Password: "s3cret"}}
		if edit != nil {
			edit(c)
		}
	})
}

// relayed is how many RTP packets the guard relayed from each side so far.
func (g *guard) relayed() (fromTrunk, fromHousehold float64) {
	return g.metric(`clearline_rtp_packets_relayed_total{from="trunk"}`), g.metric(`clearline_rtp_packets_relayed_total{from="household"}`)
}

// baresip registers with digest authentication, answers the provider's call by itself,
// and the two talk through the guard until the caller hangs up.
func TestBaresipAnswersAnInboundCall(t *testing.T) {
	g := baresipGuard(t, nil)
	phone := startBaresip(t, g, "udp")
	phone.waitRegistered()
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	cs := g.waitEnded(1)
	if c := cs[0]; c.Outcome != call.Completed || c.AnsweredAt.IsZero() || c.EndedBy != call.ByCaller {
		t.Errorf("call %+v; want answered by baresip and ended by the caller", c)
	}
	if in, out := g.relayed(); in < 20 || out < 20 {
		t.Errorf("relayed %v packets from the caller, %v from baresip; want audio both ways", in, out)
	}
	g.waitIdle()
}

// baresip dials out through the guard, puts the provider on hold and takes it off again —
// the provider (SIPp) checks each re-INVITE offers a=sendonly then a=sendrecv, and answers
// a=recvonly then a=sendrecv through the guard — and hangs up.
func TestBaresipCallsOutHoldsAndResumes(t *testing.T) {
	g := baresipGuard(t, nil)
	phone := startBaresip(t, g, "udp")
	phone.waitRegistered()
	// The provider answers, echoes baresip's audio, then takes the hold and the resume.
	trunkSide := runSIPp(t, "trunk", "phone_answers_hold.xml", "-i", trunkIP, "-p", strconv.Itoa(g.trunkPort),
		"-mi", trunkIP, "-mp", strconv.Itoa(sippMediaPort(t, trunkIP)), "-rtp_echo")
	phone.command("dial", "sip:01632960999@"+g.sip)
	waitAnswered(t, g)
	time.Sleep(time.Second)
	phone.command("hold", "")
	time.Sleep(time.Second)
	phone.command("resume", "")
	time.Sleep(time.Second)
	phone.command("hangup", "")
	trunkSide.wait()
	cs := g.waitEnded(1)
	if c := cs[0]; c.Direction != call.Outbound || c.EndedBy != call.ByHousehold {
		t.Errorf("call %+v; want baresip's call out, ended by baresip", c)
	}
	if in, out := g.relayed(); in < 20 || out < 20 {
		t.Errorf("relayed %v packets from the provider, %v from baresip; want audio both ways", in, out)
	}
	g.waitIdle()
}

func waitAnswered(t *testing.T, g *guard) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cs := g.calls(); len(cs) > 0 && !cs[0].AnsweredAt.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call answered: %+v", g.calls())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// baresip registers over TLS with the guard's certificate (made by the test and checked
// against its authority) and answers the provider's call over TLS.
func TestBaresipOverTLS(t *testing.T) {
	pk, err := testpki.New("clearline e2e CA", t.TempDir(), []string{phoneIP})
	if err != nil {
		t.Fatal(err)
	}
	tlsAddr := net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP)))
	g := baresipGuard(t, func(c *config.Config) {
		c.SIP.TLSListen, c.SIP.TLSCert, c.SIP.TLSKey = tlsAddr, pk.CertFile, pk.KeyFile
	})
	phone := startBaresipCA(t, g, "tls", pk.CAFile)
	phone.waitRegistered()
	if !strings.Contains(phone.out.String(), "TLS") {
		t.Errorf("baresip did not register over TLS:\n%s", tail(phone.out.String(), 20))
	}
	caller := g.caller("caller_hangs_up.xml")
	caller.wait()
	cs := g.waitEnded(1)
	if c := cs[0]; c.AnsweredAt.IsZero() || c.EndedBy != call.ByCaller {
		t.Errorf("call %+v; want answered by baresip over TLS", c)
	}
	// The guard's BYE reached baresip over its TLS connection (libre reports a BYE as
	// "Connection reset by peer"), and baresip answered it.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(phone.out.String(), "terminated (duration") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip never heard the call end:\n%s", tail(phone.out.String(), 15))
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.waitIdle()
	if strings.Contains(g.logs.String(), "msg=bye ") {
		t.Errorf("the guard's BYE to baresip failed:\n%s", tail(g.logs.String(), 20))
	}
	if in, out := g.relayed(); in < 20 || out < 20 {
		t.Errorf("relayed %v packets from the caller, %v from baresip; want audio both ways", in, out)
	}
	g.waitIdle()
}

// A withheld caller is screened; baresip, answering, hears who is calling and presses 1
// (its key press goes as RFC 4733 events or SIP INFO, whichever it negotiated), and the
// caller is connected until baresip hangs up.
func TestBaresipPressesOneForAScreenedCall(t *testing.T) {
	g := baresipGuard(t, nil)
	phone := startBaresip(t, g, "udp")
	phone.waitRegistered()
	caller := g.callerAs("anonymous", "Anonymous", "caller_stays.xml")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(phone.out.String(), "Call established") {
		if time.Now().After(deadline) {
			t.Fatalf("baresip was never rung:\n%s", tail(phone.out.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	phone.command("sndcode", "1")
	waitAnswered(t, g)
	time.Sleep(time.Second)
	phone.command("hangup", "")
	caller.wait()
	c := g.waitEnded(1)[0]
	if c.Verdict != "screen" || c.AnsweredAt.IsZero() || c.EndedBy != call.ByHousehold {
		t.Errorf("verdict %q answered %v ended by %q (%s); want a screened call taken with 1 and ended by baresip", c.Verdict, c.AnsweredAt, c.EndedBy, c.Reason)
	}
	g.waitIdle()
}
