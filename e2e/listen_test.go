package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/speech/speechtest"
)

// asrSelf, set in a child's environment, makes the test binary run `clearline asr`.
const asrSelf = "CLEARLINE_E2E_ASR"

// writePCAP writes mu-law audio as a capture of 20 ms PCMU RTP packets over UDP/IPv4 on
// Ethernet, the form SIPp's play_pcap_audio replays.
func writePCAP(path string, ulaw []byte) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	for i := 0; i*160 < len(ulaw); i++ {
		payload := ulaw[i*160 : min((i+1)*160, len(ulaw))]
		rtp := make([]byte, 12, 12+len(payload))
		rtp[0], rtp[1] = 0x80, 0
		if i == 0 {
			rtp[1] |= 0x80
		}
		binary.BigEndian.PutUint16(rtp[2:], uint16(i))
		binary.BigEndian.PutUint32(rtp[4:], uint32(i*160))
		binary.BigEndian.PutUint32(rtp[8:], 0x5ca11e5)
		rtp = append(rtp, payload...)
		udp := make([]byte, 8)
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 40002)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 2, 127, 0, 0, 1}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
		eth := []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00}
		frame := append(append(append(eth, ip...), udp...), rtp...)
		rec := make([]byte, 16)
		us := i * 20000
		le.PutUint32(rec[0:], uint32(1_700_000_000+us/1_000_000))
		le.PutUint32(rec[4:], uint32(us%1_000_000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// heard is the audio a phone receives, gathered by a UDP socket the phone's SDP points at.
type heard struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []received
}

type received struct {
	at      time.Time
	payload []byte
}

func listenAsPhone(t *testing.T) *heard {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	h := &heard{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if n > 12 {
				h.mu.Lock()
				h.pkts = append(h.pkts, received{time.Now(), append([]byte(nil), buf[12:n]...)})
				h.mu.Unlock()
			}
		}
	}()
	return h
}

func (h *heard) port() int { return h.conn.LocalAddr().(*net.UDPAddr).Port }

// audio returns everything received, concatenated, and when the first packet of prompt
// arrived (zero if the prompt is not in it).
func (h *heard) find(prompt []byte) (packets int, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []byte
	var starts []int
	for _, p := range h.pkts {
		starts = append(starts, len(all))
		all = append(all, p.payload...)
	}
	i := bytes.Index(all, prompt)
	if i < 0 {
		return len(h.pkts), time.Time{}
	}
	for k := range starts {
		if k+1 == len(starts) || starts[k+1] > i {
			return len(h.pkts), h.pkts[k].at
		}
	}
	return len(h.pkts), time.Time{}
}

// speakCall has a caller on the trunk say a script to the household's phone through the
// guard, then hang up after extra more seconds. It returns the call as stored and what the
// phone heard.
func speakCall(t *testing.T, g *guard, s speechtest.Script, extra time.Duration) (call.Call, *heard) {
	t.Helper()
	return speakCallTo(t, g, s, extra, "kitchen", g.phonePort)
}

// speakCallTo is speakCall to a household's number, answered by a phone on phonePort.
func speakCallTo(t *testing.T, g *guard, s speechtest.Script, extra time.Duration, to string, phonePort int) (call.Call, *heard) {
	t.Helper()
	a, err := speechtest.Speak(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, s.Name+".pcap")
	if err := writePCAP(pcap, a.Ulaw); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(scenarios, "caller_speaks.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	talk := time.Duration(len(a.Ulaw)) * time.Second / 8000
	xml := strings.NewReplacer("@PCAP@", pcap, "@PAUSE@", strconv.Itoa(int((talk + extra).Milliseconds()))).Replace(string(tmpl))
	scenario := filepath.Join(dir, "caller_speaks.xml")
	if err := os.WriteFile(scenario, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	h := listenAsPhone(t)
	phone := g.phoneAt(phonePort, "phone_answers_listened.xml", "-key", "audio_port", strconv.Itoa(h.port()), "-timeout", "180s")
	phone.limit = talk + extra + 30*time.Second
	caller := g.callerTo(to, "+442085550199", "Unknown", scenario, "-timeout", "180s")
	caller.limit = phone.limit
	caller.wait()
	phone.wait()
	calls := g.waitEnded(1)
	var c call.Call
	if code := g.getJSON("/api/calls/"+calls[0].ID, &c); code != 200 {
		t.Fatalf("GET call: %d", code)
	}
	return c, h
}

func listeningGuard(t *testing.T, edit func(*config.Config)) *guard {
	return startGuard(t, func(c *config.Config, _ *guard) {
		c.Listening.Recogniser = "pocketsphinx"
		c.Listening.Decoders = 1
		c.Media.Timeout = config.Dur(60 * time.Second)
		if edit != nil {
			edit(c)
		}
	})
}

// Scam scripts spoken into live calls draw the spoken warning — heard by the phone while
// the call is still up — and the alert for the guardians; benign calls stay quiet. The
// five calls run at once, each through its own guard.
func TestListeningWarnsOnScamCalls(t *testing.T) {
	t.Parallel() // with the recogniser-failure calls: all real-time, mostly waiting
	scripts, err := speechtest.LoadScripts("../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	warning, err := media.Prompt("scam_warning")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			g := listeningGuard(t, nil)
			c, h := speakCall(t, g, s, 12*time.Second)
			packets, warnedAt := h.find(warning)
			r := c.Risk
			if r == nil || !strings.HasPrefix(r.Analyser, "pocketsphinx/") || len(r.Timeline) == 0 {
				t.Fatalf("risk %+v: the call was not analysed", r)
			}
			t.Logf("%s: risk %.2f %s; %d utterances; phone got %d packets", s.Name, r.Level, r.Verdict, len(r.Timeline), packets)
			if c.Outcome != call.Completed || c.EndedBy != call.ByCaller {
				t.Errorf("call ended %v by %v: the analysis must not end calls", c.Outcome, c.EndedBy)
			}
			kinds := map[string]int{}
			for _, i := range r.Interventions {
				kinds[i.Kind]++
			}
			if s.Label == "benign" {
				if len(r.Interventions) > 0 || !warnedAt.IsZero() || r.Level >= g.cfg.Listening.WarnAt {
					t.Errorf("benign call flagged: level %.2f, interventions %+v, warning heard: %v", r.Level, r.Interventions, !warnedAt.IsZero())
				}
				if s.Name == "family" {
					// A call to the police is not listened to: they talk about fraud too.
					trunkSide := g.trunk("trunk_answers.xml")
					g.dial("phone_dials.xml", "101", "-au", "kitchen", "-ap", "s3cret", "-d", "3000").wait()
					trunkSide.wait()
					calls := g.waitEnded(2)
					if calls[0].To == c.To || calls[0].Risk != nil {
						t.Errorf("the call to 101 (%s) was listened to: %+v", calls[0].To, calls[0].Risk)
					}
				}
				return
			}
			if kinds["warning"] != 1 || kinds["alert"] != 1 {
				t.Fatalf("interventions %+v; want one warning and one alert", r.Interventions)
			}
			if warnedAt.IsZero() {
				t.Fatal("the whole spoken warning never reached the phone")
			}
			if !warnedAt.Before(c.EndedAt) {
				t.Errorf("warning reached the phone at %v, after the call ended at %v", warnedAt, c.EndedAt)
			}
			if n := g.metric(`clearline_interventions_total{kind="alert"}`); n != 1 {
				t.Errorf("alerts counted: %v", n)
			}
			if n := g.metric(`clearline_prompts_played_total{prompt="scam_warning"}`); n != 1 {
				t.Errorf("warning played to the end %v times", n)
			}
			if !g.outboxHas(c.ID, call.CallAlert) {
				t.Error("no call.alert event in the outbox for the guardians")
			}
			// The resident, warned, rings the police: a fresh call, announced as one.
			trunkSide := g.trunk("trunk_answers.xml")
			dialler := g.dial("phone_dials.xml", "101", "-au", "kitchen", "-ap", "s3cret", "-d", "10000")
			dialler.wait()
			trunkSide.wait()
			if inv := trunkSide.mustFind(false, "INVITE sip:101@"); inv.header("Call-ID") == "" {
				t.Error("no call to 101 reached the trunk")
			}
			if n := g.metric(`clearline_prompts_played_total{prompt="callback_police"}`); n != 1 {
				t.Errorf("call-back announcement after the flagged call played %v times", n)
			}
		})
	}
}

// events reads the guard's outbox from its database.
func (g *guard) events() []call.Event {
	g.t.Helper()
	st, err := openStore(g.cfg.DataDir)
	if err != nil {
		g.t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(context.Background(), 0, 100000)
	if err != nil {
		g.t.Fatal(err)
	}
	return evs
}

// outboxHas reports whether the guard's store holds an event of kind for the call.
func (g *guard) outboxHas(id string, kind call.EventKind) bool {
	g.t.Helper()
	evs := g.events()
	for _, e := range evs {
		if e.CallID == id && e.Kind == kind {
			return true
		}
	}
	return false
}

// asrServer runs this test binary as `clearline asr --listen` on a free port.
func asrServer(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	addr := net.JoinHostPort(phoneIP, strconv.Itoa(freePort(t, phoneIP)))
	cmd := exec.Command(os.Args[0], "--listen", addr, "--decoders", "1")
	cmd.Env = append(os.Environ(), asrSelf+"=1")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "serving") {
		if time.Now().After(deadline) {
			t.Fatalf("clearline asr did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, addr
}

// An external recogniser that dies, or stops reading, in the middle of a call leaves the
// call connected to its end with the caller's audio still reaching the phone; the call is
// marked as no longer analysed and the shortfall is counted.
func TestRecogniserFailureLeavesCallsConnected(t *testing.T) {
	t.Parallel()
	scripts, err := speechtest.LoadScripts("../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	var s speechtest.Script
	for _, sc := range scripts {
		if sc.Name == "police_courier" {
			s = sc
		}
	}
	a, err := speechtest.Speak(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, how := range []struct {
		name string
		sig  syscall.Signal
	}{{"killed", syscall.SIGKILL}, {"stalled", syscall.SIGSTOP}} {
		t.Run(how.name, func(t *testing.T) {
			t.Parallel()
			srv, addr := asrServer(t)
			g := startGuard(t, func(c *config.Config, _ *guard) {
				c.Listening.Recogniser = "external"
				c.Listening.External.Address = addr
			})
			time.AfterFunc(6*time.Second, func() { srv.Process.Signal(how.sig) })
			c, h := speakCall(t, g, s, time.Second)
			packets, _ := h.find(nil)
			want := len(a.Ulaw) / 160
			if packets < want*95/100 {
				t.Errorf("phone got %d packets of the caller's %d", packets, want)
			}
			if c.Outcome != call.Completed || c.EndedBy != call.ByCaller {
				t.Errorf("call ended %v by %v (%s)", c.Outcome, c.EndedBy, c.Reason)
			}
			// A dead recogniser is found at the next write; a stalled one when the write
			// buffers fill or, at the latest, when it does not finish as the call ends.
			deadline := time.Now().Add(15 * time.Second)
			for c.Risk == nil || !strings.Contains(c.Risk.Analyser, "stopped") {
				if time.Now().After(deadline) {
					t.Fatalf("risk %+v: the analysis should say it stopped", c.Risk)
				}
				time.Sleep(100 * time.Millisecond)
				g.getJSON("/api/calls/"+c.ID, &c)
			}
			t.Logf("%s: %s", how.name, c.Risk.Analyser)
			if n := g.metric(`clearline_listen_streams_total{result="failed"}`); n != 1 {
				t.Errorf("failed streams counted %v", n)
			}
		})
	}
}
