package listen

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

type counts struct {
	mu            sync.Mutex
	streams       map[string]int
	dropped       int
	utterances    int
	interventions map[string]int
}

func newCounts() *counts {
	return &counts{streams: map[string]int{}, interventions: map[string]int{}}
}
func (c *counts) Stream(r string)         { c.mu.Lock(); c.streams[r]++; c.mu.Unlock() }
func (c *counts) AudioDropped(n int)      { c.mu.Lock(); c.dropped += n; c.mu.Unlock() }
func (c *counts) count(stream string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.streams[stream] }
func (c *counts) Utterance()              { c.mu.Lock(); c.utterances++; c.mu.Unlock() }
func (c *counts) Intervention(k string)   { c.mu.Lock(); c.interventions[k]++; c.mu.Unlock() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rtp wraps 20 ms of mu-law in an RTP packet.
func rtp(seq int, payload []byte) []byte {
	p := make([]byte, 12, 12+len(payload))
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], uint16(seq))
	binary.BigEndian.PutUint32(p[4:], uint32(seq*160))
	return append(p, payload...)
}

type event struct {
	kind string
	at   time.Time
	risk *call.Risk
}

func hooks(ch chan<- event) Hooks {
	send := func(kind string) func(*call.Risk, string) {
		return func(r *call.Risk, _ string) { ch <- event{kind, time.Now(), r} }
	}
	return Hooks{Warn: send("warning"), Alert: send("alert")}
}

func loadScripts(t *testing.T) map[string]speechtest.Script {
	ss, err := speechtest.LoadScripts("../../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]speechtest.Script{}
	for _, s := range ss {
		m[s.Name] = s
	}
	return m
}

// A police courier-fraud script, played in real time as a caller would speak it, draws
// the warning and the alert, each once, soon after the sentence that gives it away; the
// reason names the indicators.
func TestScamScriptWarnsInTime(t *testing.T) {
	rec, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	s := loadScripts(t)["police_courier"]
	a, err := speechtest.Speak(s)
	if err != nil {
		t.Fatal(err)
	}
	m := newCounts()
	l := New(rec, detect.New(), DefaultPolicy, m, quiet())
	events := make(chan event, 4)
	tap := l.Listen("call-1", hooks(events))
	// Play the audio in real time, noting when each 20 ms frame went out.
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := make([]time.Time, 0, len(a.Ulaw)/160+1)
	var got []event
	for i := 0; i*160 < len(a.Ulaw); i++ {
		tap.Packet(rtp(i, a.Ulaw[i*160:min((i+1)*160, len(a.Ulaw))]))
		sent = append(sent, time.Now())
		<-tick.C
	drain:
		for {
			select {
			case e := <-events:
				got = append(got, e)
			default:
				break drain
			}
		}
		if len(got) == 2 {
			break
		}
	}
	tap.Close()
	if len(got) != 2 || got[0].kind == got[1].kind {
		t.Fatalf("interventions %v after %v of audio, want a warning and an alert", got, time.Since(start))
	}
	w := got[0]
	if w.kind != "warning" {
		w = got[1]
	}
	// The decisive sentence is the last one to end before the warning.
	decisive := -1
	for i, end := range a.Ends {
		if f := int(end / (20 * time.Millisecond)); f < len(sent) && sent[f].Before(w.at) {
			decisive = i
		}
	}
	if decisive < 0 {
		t.Fatal("warning before any sentence ended")
	}
	ended := sent[int(a.Ends[decisive]/(20*time.Millisecond))]
	latency := w.at.Sub(ended)
	t.Logf("warning %v after the end of sentence %d %q; risk %.2f; reason: %s", latency.Round(time.Millisecond), decisive+1, s.Lines[decisive], w.risk.Level, w.risk.Interventions[0].Reason)
	if latency > 2*time.Second {
		t.Errorf("warning came %v after the decisive sentence ended; want within 2 s", latency)
	}
	if m.interventions["warning"] != 1 || m.interventions["alert"] != 1 {
		t.Errorf("interventions counted %v", m.interventions)
	}
	r := tap.Risk()
	if len(r.Indicators) == 0 || len(r.Timeline) == 0 || r.Level < DefaultPolicy.AlertAt {
		t.Errorf("risk %+v", r)
	}
}

// Benign calls, fed as fast as the recogniser takes them, draw no intervention.
func TestBenignScriptsStayQuiet(t *testing.T) {
	rec, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for _, s := range loadScripts(t) {
		if s.Label != "benign" {
			continue
		}
		a, err := speechtest.Speak(s)
		if err != nil {
			t.Fatal(err)
		}
		events := make(chan event, 4)
		l := New(rec, detect.New(), DefaultPolicy, newCounts(), quiet())
		l.queue = len(a.Ulaw)/160 + 1 // all of it: this test is about the verdict, not timing
		tap := l.Listen(s.Name, hooks(events))
		for i := 0; i*160 < len(a.Ulaw); i++ {
			tap.Packet(rtp(i, a.Ulaw[i*160:min((i+1)*160, len(a.Ulaw))]))
		}
		for len(tap.queue) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		tap.Close()
		tap.wait(10 * time.Second)
		if len(events) > 0 {
			t.Errorf("%s: %v", s.Name, <-events)
		}
		if r := tap.Risk(); len(r.Timeline) == 0 || r.Level >= DefaultPolicy.WarnAt {
			t.Errorf("%s: risk %+v", s.Name, r)
		}
	}
}

// stalled is a recogniser whose stream stops taking audio until released: the machine
// cannot keep up. (A stub stands in for a stalled process here; the end-to-end tests stop
// a real one.)
type stalled struct{ release, entered chan struct{} }

func (s stalled) Start(string) (speech.Stream, error) { return stalledStream(s), nil }
func (s stalled) Name() string                        { return "stalled" }
func (s stalled) Close() error                        { return nil }

type stalledStream stalled

func (s stalledStream) Write([]int16) ([]speech.Utterance, error) {
	close(s.entered)
	<-s.release
	return nil, errors.New("gave up")
}
func (s stalledStream) Close() ([]speech.Utterance, error) { return nil, nil }

// When analysis stalls, packets keep being accepted at once; what does not fit the queue is
// dropped and counted; when the recogniser fails the call is marked, not ended.
func TestStalledRecogniserNeverBlocksTheCall(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	m := newCounts()
	l := New(stalled{release, entered}, detect.New(), DefaultPolicy, m, quiet())
	tap := l.Listen("call-2", Hooks{})
	frame := make([]byte, 160)
	tap.Packet(rtp(0, frame))
	<-entered // the first packet is in the recogniser, which now stalls
	done := make(chan struct{})
	go func() {
		for i := 1; i < 1000; i++ {
			tap.Packet(rtp(i, frame))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Packet blocked behind a stalled recogniser")
	}
	m.mu.Lock()
	dropped := m.dropped
	m.mu.Unlock()
	// One packet is held by the stalled Write, QueueFrames wait in the queue.
	if want := 1000 - QueueFrames - 1; dropped != want {
		t.Errorf("dropped %d, want %d", dropped, want)
	}
	close(release)
	if !tap.wait(5 * time.Second) {
		t.Fatal("tap did not stop after the recogniser failed")
	}
	if r := tap.Risk(); r.Analyser != "stalled (stopped: gave up)" {
		t.Errorf("analyser %q", r.Analyser)
	}
	if m.streams["started"] != 1 || m.streams["failed"] != 1 {
		t.Errorf("streams %v", m.streams)
	}
	tap.Packet(rtp(1001, frame)) // after the failure: ignored, not counted, no panic
	tap.Close()
}

func TestBusyRecogniserLeavesCallUnanalysed(t *testing.T) {
	rec, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	m := newCounts()
	l := New(rec, detect.New(), DefaultPolicy, m, quiet())
	// A call that ends before any audio never takes the decoder.
	silent := l.Listen("silent", Hooks{})
	silent.Close()
	if !silent.wait(time.Second) || silent.Heard() || m.count("started") != 0 || m.count("busy") != 0 {
		t.Fatalf("a call without audio: exited %v, %d started, %d busy", silent.wait(0), m.count("started"), m.count("busy"))
	}
	first := l.Listen("a", Hooks{})
	first.Packet(rtp(0, make([]byte, 160))) // the first audio starts the recogniser
	if !first.Heard() {
		t.Error("a tap given audio says it heard none")
	}
	for m.count("started") == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	second := l.Listen("b", Hooks{Assessed: func(r *call.Risk) { t.Errorf("a call never analysed reported %+v", r) }})
	second.Packet(rtp(0, make([]byte, 160)))
	if !second.wait(5 * time.Second) {
		t.Fatal("the second tap did not give up")
	}
	second.Packet(rtp(0, make([]byte, 160))) // ignored
	if r := second.Risk(); r.Analyser != "not analysed: every recogniser was busy" {
		t.Errorf("analyser %q", r.Analyser)
	}
	first.Close()
	first.wait(5 * time.Second)
	if m.streams["busy"] != 1 || m.streams["started"] != 1 {
		t.Errorf("streams %v", m.streams)
	}
}

// What the caller said they were when the guard asked them is a fact the call's detector
// starts with: the first sentence asking for cash is then heard from "the police".
func TestKnownClaimStartsTheCall(t *testing.T) {
	rec, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	s := speechtest.Script{Name: "cash", Label: "scam", Lines: []string{"We need you to withdraw five thousand pounds in cash as evidence."}}
	a, err := speechtest.Speak(s)
	if err != nil {
		t.Fatal(err)
	}
	run := func(known ...detect.Finding) *call.Risk {
		l := New(rec, detect.New(), Policy{}, newCounts(), quiet())
		l.queue = len(a.Ulaw)/160 + 1
		tap := l.Listen("cash", Hooks{}, known...)
		for i := 0; i*160 < len(a.Ulaw); i++ {
			tap.Packet(rtp(i, a.Ulaw[i*160:min((i+1)*160, len(a.Ulaw))]))
		}
		for len(tap.queue) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		tap.Close()
		tap.wait(10 * time.Second)
		return tap.Risk()
	}
	plain := run()
	claimed := run(detect.Finding{Kind: detect.AuthorityClaim, Evidence: "metropolitan police", T: 0})
	if len(claimed.Indicators) < 2 || claimed.Indicators[0] != (call.Finding{Kind: "authority_claim", Evidence: "metropolitan police", T: 0}) {
		t.Fatalf("indicators %+v; want the claim first, then what was said", claimed.Indicators)
	}
	if claimed.Level <= plain.Level {
		t.Errorf("risk with the claim %.2f, without %.2f", claimed.Level, plain.Level)
	}
}

// heard is a recogniser that hears the same utterances whatever it is given: a stand-in for
// a real recogniser's n-best list, which no test can make it write word for word.
type heard []speech.Utterance

func (h heard) Start(string) (speech.Stream, error) { return heardStream(h), nil }
func (h heard) Name() string                        { return "heard" }
func (h heard) Close() error                        { return nil }

type heardStream heard

func (h heardStream) Write([]int16) ([]speech.Utterance, error) { return nil, nil }
func (h heardStream) Close() ([]speech.Utterance, error)        { return h, nil }

// The recogniser's next-best readings reach the detector as readings of the same words: a
// sign only an alternative heard is on the call's record, and the best reading is what the
// transcript shows.
func TestAlternativesReachTheDetector(t *testing.T) {
	u := speech.Utterance{Text: "you must move your many to a safe face", End: 3 * time.Second,
		Alternatives: []string{"you must move your money to a safe account"}}
	run := func(u speech.Utterance) *call.Risk {
		l := New(heard{u}, detect.New(), Policy{}, newCounts(), quiet())
		tap := l.Listen("alts", Hooks{})
		tap.Packet(rtp(0, make([]byte, 160)))
		tap.Close()
		if !tap.wait(5 * time.Second) {
			t.Fatal("tap did not finish")
		}
		return tap.Risk()
	}
	r := run(u)
	if len(r.Indicators) != 1 || r.Indicators[0].Kind != "safe_account_transfer" {
		t.Fatalf("indicators %+v; want the safe-account transfer the alternative heard", r.Indicators)
	}
	if len(r.Timeline) != 1 || r.Timeline[0].Text != u.Text {
		t.Errorf("timeline %+v; want the best reading only", r.Timeline)
	}
	u.Alternatives = nil
	if r := run(u); len(r.Indicators) != 0 {
		t.Errorf("without the alternative: indicators %+v", r.Indicators)
	}
}

// broken is a recogniser whose stream fails on its first audio.
type broken struct{}

func (broken) Start(string) (speech.Stream, error) { return brokenStream{}, nil }
func (broken) Name() string                        { return "broken" }
func (broken) Close() error                        { return nil }

type brokenStream struct{}

func (brokenStream) Write([]int16) ([]speech.Utterance, error) {
	return nil, errors.New("model file truncated")
}
func (brokenStream) Close() ([]speech.Utterance, error) { return nil, nil }

// A recording analysed with Replay says why when the recogniser fails, and returns no error
// when it heard the whole recording, whatever the recogniser is called.
func TestReplaySaysWhyTheRecogniserFailed(t *testing.T) {
	audio := make([]byte, 8000)
	l := New(broken{}, detect.New(), Policy{}, newCounts(), quiet())
	if _, err := l.Replay("r", 0, audio, Hooks{}); err == nil || !strings.Contains(err.Error(), "broken: model file truncated") {
		t.Errorf("a failing recogniser: %v", err)
	}
	l = New(heard{{Text: "hello", End: time.Second}}, detect.New(), Policy{}, newCounts(), quiet())
	if r, err := l.Replay("r", 0, audio, Hooks{}); err != nil || r.Analyser != "heard" {
		t.Errorf("a working recogniser: %v, %+v", err, r)
	}
}
