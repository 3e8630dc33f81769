package guard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// holdingRecorder stores nothing, and tells a call's end as stored only when the test lets
// it (release), like a database slow to commit.
type holdingRecorder struct {
	release chan struct{}
	mu      sync.Mutex
	ended   []call.Event
}

func (r *holdingRecorder) Record(call.Event) {}

func (r *holdingRecorder) RecordDurable(ev call.Event) <-chan error {
	r.mu.Lock()
	r.ended = append(r.ended, ev)
	r.mu.Unlock()
	ch := make(chan error)
	go func() {
		<-r.release
		close(ch)
	}()
	return ch
}

func (r *holdingRecorder) endedEvents() []call.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call.Event(nil), r.ended...)
}

// callAndHangUp places a call from the provider at ip to the phone, answers it, and sends
// BYE; it returns the peer, to read the BYE's answer from, and when the BYE was sent.
func callAndHangUp(t *testing.T, g *testGuard, ip string) (*peer, time.Time) {
	t.Helper()
	p := newPeer(t, "udp", ip, 0, g.addr)
	p.send(tortureMessages(t)["x-audio-only"])
	res, _ := p.final(3 * time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the call was answered %v", res)
	}
	head := func(method, uri, via string, n uint32) string {
		return fmt.Sprintf("%s %s SIP/2.0\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			method, uri, via, res.From().Value(), res.To().Value(), res.CallID().Value(), n, method)
	}
	uri, seq, n := res.Contact().Address.String(), res.CSeq().SeqNo, branches.Add(1)
	p.send([]byte(head("ACK", uri, fmt.Sprintf("SIP/2.0/UDP %s;branch=z9hG4bK-ack-%d", p.local, n), seq)))
	time.Sleep(50 * time.Millisecond) // the call is up
	p.send([]byte(head("BYE", uri, fmt.Sprintf("SIP/2.0/UDP %s;branch=z9hG4bK-bye-%d;rport", p.local, n), seq+1)))
	return p, time.Now()
}

// When the caller hangs up, the phone's leg is released and the call's end recorded at
// once, but the 200 OK to the caller's BYE waits until the end is stored.
func TestByeAnsweredOnceTheEndIsStored(t *testing.T) {
	rec := &holdingRecorder{release: make(chan struct{})}
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), rec: rec})
	p, _ := callAndHangUp(t, g, testNet+"45")
	if res, _ := p.final(100 * time.Millisecond); res != nil {
		t.Fatalf("the BYE was answered %d before the call's end was stored", res.StatusCode)
	}
	evs := rec.endedEvents()
	if len(evs) != 1 || evs[0].Kind != call.CallEnded || evs[0].Call.Leg(call.Household).ReleasedAt.IsZero() || evs[0].Call.EndedBy != call.ByCaller {
		t.Fatalf("while the BYE waits, the call's end should be recorded with the phone's leg released; recorded %+v", evs)
	}
	released := time.Now()
	close(rec.release)
	res, _ := p.final(time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the BYE was answered %v once the end was stored; want 200", res)
	}
	if n := g.metrics.durableTimeouts.Load(); n != 0 {
		t.Errorf("%d durable timeouts counted; the end was stored in time (released after %v)", n, time.Since(released))
	}
	g.waitIdle(t)
}

// A store that does not commit in time holds the BYE's answer for durableWait, no longer,
// and the wait is counted.
func TestByeAnsweredAfterDurableWait(t *testing.T) {
	rec := &holdingRecorder{release: make(chan struct{})}
	defer close(rec.release)
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), rec: rec})
	p, sent := callAndHangUp(t, g, testNet+"46")
	res, _ := p.final(2 * time.Second)
	waited := time.Since(sent)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the BYE was answered %v; want 200", res)
	}
	if waited < durableWait-20*time.Millisecond || waited > durableWait+300*time.Millisecond {
		t.Errorf("the BYE was answered after %v; want about %v", waited, durableWait)
	}
	if n := g.metrics.durableTimeouts.Load(); n != 1 {
		t.Errorf("%d durable timeouts counted; want 1", n)
	}
	if res.CSeq().MethodName != sip.BYE {
		t.Errorf("the answer is to %s; want the BYE's", res.CSeq().MethodName)
	}
	g.waitIdle(t)
}

// With the real recorder and store: by the time the caller has the 200 OK to their BYE,
// the call's end is in the database (without the wait it would still be in the recorder's
// queue, for its linger).
func TestByeAnsweredAfterTheEndIsInTheStore(t *testing.T) {
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := store.NewRecorder(st, 100, log, &recorderCounts{})
	defer rec.Close()
	g := startTestGuardOpts(t, guardOpts{phone: startTestPhone(t, true), rec: rec})
	p, _ := callAndHangUp(t, g, testNet+"47")
	res, _ := p.final(time.Second)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("the BYE was answered %v; want 200", res)
	}
	calls, err := st.Calls(context.Background(), store.Query{})
	if err != nil || len(calls) != 1 || calls[0].EndedAt.IsZero() || calls[0].EndedBy != call.ByCaller {
		t.Fatalf("when the BYE was answered the store held %+v (%v); want the call, ended by the caller", calls, err)
	}
	if n := g.metrics.durableTimeouts.Load(); n != 0 {
		t.Errorf("%d durable timeouts counted", n)
	}
	g.waitIdle(t)
}

type recorderCounts struct{}

func (recorderCounts) Written(int)  {}
func (recorderCounts) WriteFailed() {}
func (recorderCounts) Dropped()     {}
