// Package listen analyses calls while they happen. The relay hands each RTP packet the
// caller sends to a Tap without waiting; the tap's own goroutine decodes it, feeds the
// speech recogniser, passes each utterance to the detector, and reports the risk. When the
// risk crosses the household's thresholds it asks, once per call, for a spoken warning to
// the resident and for an alert to the guardians.
//
// Speech work never holds up a call: each tap queues at most a few seconds of audio, and
// when the recogniser cannot keep up packets are dropped and counted instead of waiting.
// A recogniser that fails or is too busy leaves the call connected and unanalysed.
package listen

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/speech"
)

// Policy is a household's interventions.
type Policy struct {
	// Warn plays the spoken warning to the resident when the risk reaches WarnAt.
	Warn   bool
	WarnAt float64
	// Alert tells the guardians when the risk reaches AlertAt.
	Alert   bool
	AlertAt float64
}

// DefaultPolicy is a new household's (see dash.DefaultSettings).
var DefaultPolicy = Policy{Warn: true, WarnAt: dash.DefaultWarnAt, Alert: true, AlertAt: dash.DefaultAlertAt}

// Metrics receives the listener's counters.
type Metrics interface {
	// Stream counts a call's analysis starting, or why it did not: started, busy, failed, none.
	Stream(result string)
	// Dropped counts audio frames lost because analysis fell behind.
	AudioDropped(frames int)
	// Utterance counts one utterance recognised.
	Utterance()
	// Intervention counts a warning or an alert.
	Intervention(kind string)
}

// Listener starts a tap per call.
type Listener struct {
	rec     speech.Recognizer
	det     *detect.Detector
	policy  atomic.Pointer[Policy]
	metrics Metrics
	log     *slog.Logger
	queue   int
	up      atomic.Int32 // a speech.Upsampling
}

// QueueFrames is how much audio a tap holds while the recogniser catches up: 5 s of 20 ms
// packets.
const QueueFrames = 250

// New makes a listener. rec may be speech.None.
func New(rec speech.Recognizer, det *detect.Detector, p Policy, m Metrics, log *slog.Logger) *Listener {
	l := &Listener{rec: rec, det: det, metrics: m, log: log, queue: QueueFrames}
	l.SetPolicy(p)
	return l
}

// SetUpsampling chooses how taps started from now on fill the band above 4 kHz (for
// measuring; the default is speech.Decoder's).
func (l *Listener) SetUpsampling(u speech.Upsampling) { l.up.Store(int32(u)) }

// SetPolicy changes the interventions for calls from now on (the household's guardians
// changed them).
func (l *Listener) SetPolicy(p Policy) { l.policy.Store(&p) }

// Hooks are how a tap reports back to the call. They run on the tap's goroutine and must
// not block for long; Warn in particular should start the prompt and return.
type Hooks struct {
	// Assessed is called with the risk after every utterance (the Risk is a copy).
	Assessed func(r *call.Risk)
	// Warn is called once, when the warning threshold is crossed.
	Warn func(r *call.Risk, reason string)
	// Alert is called once, when the alert threshold is crossed.
	Alert func(r *call.Risk, reason string)
	// Heard is called with each utterance, before the detector reads it.
	Heard func(u speech.Utterance)
	// Policy is the household's choice of when to warn and alert, read at each utterance;
	// nil (or a nil answer) is the listener's own (SetPolicy).
	Policy func() *Policy
}

// Tap is the analysis of one call's caller audio.
type Tap struct {
	l        *Listener
	callID   string
	hooks    Hooks
	queue    chan []byte
	done     chan struct{}
	closed   atomic.Bool
	started  atomic.Bool // the recogniser was started (or the call ended before any audio)
	gotAudio atomic.Bool // audio came from the caller
	exited   chan struct{}
	known    []detect.Finding // the detector's facts from before the call was connected

	mu   sync.Mutex
	risk call.Risk
	err  error // why the recogniser could not start, or stopped
}

// Listen starts analysing a call and returns at once. The recogniser is started when the
// caller's first packet arrives, on the tap's own goroutine (loading a decoder or reaching
// an external recogniser takes time the call must not wait for), and packets queue
// meanwhile; a call that carries no audio never takes a decoder. When the recogniser has no
// room or cannot be reached, the call is marked unanalysed and its audio is ignored.
// known are facts the call's detector starts with, established before the call was
// connected (who the caller said they were when the guard asked them).
func (l *Listener) Listen(callID string, h Hooks, known ...detect.Finding) *Tap {
	t := l.tap(callID, h, l.queue)
	t.known = known
	return t
}

// tap makes a Tap whose queue holds queue packets.
func (l *Listener) tap(callID string, h Hooks, queue int) *Tap {
	t := &Tap{l: l, callID: callID, hooks: h, done: make(chan struct{}), exited: make(chan struct{})}
	t.risk.Analyser = l.rec.Name()
	if _, none := l.rec.(speech.None); none {
		l.metrics.Stream("none")
		t.risk.Analyser = "none"
		close(t.exited)
		return t
	}
	t.queue = make(chan []byte, queue)
	return t
}

// start opens the recogniser's stream, then runs the analysis.
func (t *Tap) start() {
	l := t.l
	st, err := l.rec.Start(t.callID)
	if err != nil {
		result := "failed"
		why := "not analysed: " + err.Error()
		if errors.Is(err, speech.ErrBusy) {
			result, why = "busy", "not analysed: every recogniser was busy"
		}
		l.metrics.Stream(result)
		if result == "busy" { // counted; at a provider's call rates this is routine
			l.log.Debug("call not analysed", "call", t.callID, "err", err)
		} else {
			l.log.Warn("call not analysed", "call", t.callID, "err", err)
		}
		t.mu.Lock()
		t.risk.Analyser, t.err = why, err
		t.mu.Unlock()
		t.drain() // the call's record takes the reason when it ends (Risk)
		close(t.exited)
		return
	}
	l.metrics.Stream("started")
	t.run(st)
}

// Packet takes one RTP packet the caller sent. It never blocks: when the queue is full the
// packet is dropped and counted.
func (t *Tap) Packet(pkt []byte) {
	if t.queue == nil || t.closed.Load() {
		return
	}
	if t.started.CompareAndSwap(false, true) {
		t.gotAudio.Store(true)
		go t.start()
	}
	select {
	case t.queue <- append([]byte(nil), pkt...):
	default:
		t.l.metrics.AudioDropped(1)
	}
}

// Heard says whether any audio came from the caller (and so whether there is an analysis
// to record).
func (t *Tap) Heard() bool { return t.gotAudio.Load() }

// Close stops the analysis when the call ends. It does not wait for the recogniser.
func (t *Tap) Close() {
	if t.closed.CompareAndSwap(false, true) {
		close(t.done)
		if t.queue != nil && t.started.CompareAndSwap(false, true) {
			close(t.exited) // no audio came: the recogniser was never started
		}
	}
}

// Done is closed when the tap's analysis has finished: after Close, once the recogniser
// has given its last words (or at once if it never started).
func (t *Tap) Done() <-chan struct{} { return t.exited }

// wait returns when the tap's goroutine has finished, or after d (for tests).
func (t *Tap) wait(d time.Duration) bool {
	select {
	case <-t.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// Risk is a copy of the analysis so far.
func (t *Tap) Risk() *call.Risk {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.risk.Clone()
}

func (t *Tap) run(st speech.Stream) {
	defer close(t.exited)
	c := t.l.det.NewCall()
	for _, f := range t.known {
		c.Know(f)
	}
	dec := speech.Decoder{Upsampling: speech.Upsampling(t.l.up.Load())}
	fail := func(err error) {
		t.l.metrics.Stream("failed")
		t.l.log.Warn("call analysis stopped; the call goes on", "call", t.callID, "recogniser", t.l.rec.Name(), "err", err)
		t.mu.Lock()
		t.risk.Analyser, t.err = t.l.rec.Name()+" (stopped: "+err.Error()+")", err
		t.mu.Unlock()
		t.report()
	}
	for {
		select {
		case pkt := <-t.queue:
			off := payloadOffset(pkt)
			if off < 0 {
				continue
			}
			us, err := st.Write(dec.Decode(pkt[1]&0x7f, pkt[off:]))
			t.heard(c, us)
			if err != nil {
				st.Close()
				fail(err)
				t.drain()
				return
			}
		case <-t.done:
			us, err := st.Close()
			t.heard(c, us)
			if err != nil {
				fail(err) // the call is over; the record says the end went unheard
			}
			return
		}
	}
}

// drain empties the queue after a failure so the packets held are freed; later packets
// are still taken and dropped quietly until the call ends.
func (t *Tap) drain() {
	t.closed.Store(true)
	for {
		select {
		case <-t.queue:
		default:
			return
		}
	}
}

// heard feeds utterances to the detector and acts on the risk.
func (t *Tap) heard(c *detect.Call, us []speech.Utterance) {
	for _, u := range us {
		if strings.TrimSpace(u.Text) == "" {
			continue
		}
		t.l.metrics.Utterance()
		if t.hooks.Heard != nil {
			t.hooks.Heard(u)
		}
		a := c.Feed(detect.Segment{Speaker: "caller", Text: u.Text, Alternatives: u.Alternatives, T: u.End.Seconds()})
		p := *t.l.policy.Load()
		if t.hooks.Policy != nil {
			if hp := t.hooks.Policy(); hp != nil {
				p = *hp
			}
		}
		t.mu.Lock()
		r := &t.risk
		if len(r.Timeline) < maxTimeline {
			r.Timeline = append(r.Timeline, call.RiskPoint{T: round(u.End.Seconds()), Risk: round(a.Risk), Text: u.Text})
		}
		if a.Risk > r.Level || r.Verdict == "" {
			r.Level, r.Verdict = round(a.Risk), a.Verdict.String()
		}
		r.Indicators = r.Indicators[:0]
		for _, f := range a.Indicators {
			r.Indicators = append(r.Indicators, call.Finding{Kind: f.Kind.String(), Evidence: f.Evidence, T: round(f.T)})
			if f.Kind == detect.DictatedNumber {
				r.Dictated = dictated(r.Dictated, f.Evidence)
			}
		}
		var acts []string
		if p.Warn && a.Risk >= p.WarnAt && !did(r, "warning") {
			acts = append(acts, "warning")
		}
		if p.Alert && a.Risk >= p.AlertAt && !did(r, "alert") {
			acts = append(acts, "alert")
		}
		var reason string
		if len(acts) > 0 {
			reason = explain(a)
		}
		for _, k := range acts {
			r.Interventions = append(r.Interventions, call.Intervention{Kind: k, At: time.Now().UTC(), T: round(u.End.Seconds()), Risk: round(a.Risk), Reason: reason})
		}
		snap := r.Clone()
		t.mu.Unlock()
		t.report()
		for _, k := range acts {
			t.l.metrics.Intervention(k)
			t.l.log.Info("intervention", "call", t.callID, "kind", k, "risk", a.Risk, "reason", reason)
			switch {
			case k == "warning" && t.hooks.Warn != nil:
				t.hooks.Warn(snap, reason)
			case k == "alert" && t.hooks.Alert != nil:
				t.hooks.Alert(snap, reason)
			}
		}
	}
}

func (t *Tap) report() {
	if t.hooks.Assessed != nil {
		t.hooks.Assessed(t.Risk())
	}
}

// maxTimeline bounds the points kept for one call (an hour of sentences).
const maxTimeline = 2000

// did reports whether an intervention of kind was already made.
func did(r *call.Risk, kind string) bool {
	for _, i := range r.Interventions {
		if i.Kind == kind {
			return true
		}
	}
	return false
}

// explain says in words why the risk is what it is: the indicators and the words behind them.
func explain(a detect.Assessment) string {
	parts := make([]string, 0, len(a.Indicators))
	for _, f := range a.Indicators {
		parts = append(parts, fmt.Sprintf("%s (%q)", strings.ReplaceAll(f.Kind.String(), "_", " "), f.Evidence))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("risk %.2f from the words of the call", a.Risk)
	}
	return fmt.Sprintf("risk %.2f: %s", a.Risk, strings.Join(parts, ", "))
}

var digitRun = regexp.MustCompile(`\d{5,}`)

// dictated adds the numbers in a dictated-number finding's words ("ring me back on
// 01632960555") to have, once each.
func dictated(have []string, evidence string) []string {
	for _, d := range digitRun.FindAllString(evidence, -1) {
		if n, err := screen.Canonical(d); err == nil && !slices.Contains(have, n) {
			have = append(have, n)
		}
	}
	return have
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// payloadOffset skips an RTP packet's fixed header, CSRCs and extension; -1 if malformed.
func payloadOffset(pkt []byte) int {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return -1
	}
	off := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 && len(pkt) >= off+4 {
		off += 4 + 4*(int(pkt[off+2])<<8|int(pkt[off+3]))
	}
	if off >= len(pkt) {
		return -1
	}
	return off
}
