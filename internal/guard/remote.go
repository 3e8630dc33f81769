package guard

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/emiago/sipgo"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
)

// The family in the loop, live: the dashboard reads the calls in progress as they stand (Live,
// Call), and a guardian can end one (End). A remote end is one more way a connected call ends:
// the request goes to the bridge's own goroutine (hold), which cuts the media, releases the
// caller's leg at once, tells the resident why in their leg only, then releases that leg and
// records the end — the bridge still owns its legs, and finish is still the one end.

// Why End refused; the dashboard says each in words.
var (
	// ErrNoCall: the guard has no call with this ID in progress, nor one that just ended.
	ErrNoCall = errors.New("no call in progress with this id")
	// ErrEnded: the call has ended, or another guardian is ending it.
	ErrEnded = errors.New("this call has already ended")
	// ErrNotConnected: the call is ringing, or the guard is still screening or asking the
	// caller; it can be ended once it is connected.
	ErrNotConnected = errors.New("this call is not connected yet (it is ringing, or the guard is still screening the caller)")
	// ErrEmergency: emergency calls are never ended by anyone but the people on them.
	ErrEmergency = errors.New("an emergency call cannot be ended from the dashboard")
)

// familyEndedPrompt is what the resident hears when a guardian ends their call.
const familyEndedPrompt = "family_ended"

// endRequest is a guardian's request to end a connected call.
type endRequest struct {
	who  string
	done chan endResult // told once the caller's leg is released
}

type endResult struct {
	c   call.Call
	err error
}

// Live is a snapshot of the calls in progress, the oldest first: who is on, since when, the
// screening verdict and the risk and signs as the listener has them now.
func (g *Guard) Live() []call.Call {
	out := []call.Call{}
	for _, b := range g.bridges() {
		if c := b.snapshot(); c.EndedAt.IsZero() {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out
}

// Call is the call with this ID as it stands: in progress, or ended within the last few
// calls (the store may not have its final record yet).
func (g *Guard) Call(id string) (call.Call, bool) {
	g.mu.Lock()
	b := g.calls[id]
	g.mu.Unlock()
	if b != nil {
		return b.snapshot(), true
	}
	return g.recent.get(id)
}

// End ends a connected call at the request of who, one of the household's guardians (the
// caller checks they may). It returns once the caller's leg is released, with the call as
// it then stands; the resident then hears why, and their leg is released after.
func (g *Guard) End(ctx context.Context, id, who string) (call.Call, error) {
	g.mu.Lock()
	b := g.calls[id]
	g.mu.Unlock()
	if b == nil {
		if c, ok := g.recent.get(id); ok {
			return c, ErrEnded
		}
		return call.Call{}, ErrNoCall
	}
	r := endRequest{who: who, done: make(chan endResult, 1)}
	err := b.offerEnd(r)
	// An answered call reaches hold a moment after its answer (listening starts first).
	for wait := time.Now().Add(connectWait); errors.Is(err, errAnswering) && time.Now().Before(wait); err = b.offerEnd(r) {
		time.Sleep(5 * time.Millisecond)
	}
	if errors.Is(err, errAnswering) {
		err = ErrNotConnected
	}
	if err != nil {
		return b.snapshot(), err
	}
	select {
	case res := <-r.done:
		return res.c, res.err
	case <-ctx.Done():
		return b.snapshot(), ctx.Err()
	}
}

// connectWait bounds how long End waits for an answered call to be connected.
const connectWait = 250 * time.Millisecond

// errAnswering: the call is answered but not connected yet; End tries again.
var errAnswering = errors.New("the call is being connected")

// offerEnd hands r to the bridge's hold, if the call can be ended now.
func (b *bridge) offerEnd(r endRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.c.Emergency:
		return ErrEmergency
	case !b.c.EndedAt.IsZero() || b.c.EndedBy != call.NotEnded:
		return ErrEnded
	case b.ends == nil && !b.c.AnsweredAt.IsZero():
		return errAnswering
	case b.ends == nil:
		return ErrNotConnected
	}
	select {
	case b.ends <- r:
		return nil
	default:
		return ErrEnded // another guardian's request is being carried out
	}
}

func (g *Guard) bridges() []*bridge {
	g.mu.Lock()
	defer g.mu.Unlock()
	bs := make([]*bridge, 0, len(g.calls))
	for _, b := range g.calls {
		bs = append(bs, b)
	}
	return bs
}

// snapshot copies the call as it stands, sharing nothing with the bridge.
func (b *bridge) snapshot() call.Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.c
	c.Legs = append([]call.Leg(nil), b.c.Legs...)
	c.Reasons = append([]string(nil), b.c.Reasons...)
	c.Risk = b.c.Risk.Clone()
	if b.c.Claim != nil {
		cl := *b.c.Claim
		c.Claim = &cl
	}
	return c
}

// openEnds lets guardians' requests reach the call while hold runs; closeEnds stops them
// and answers one that came too late.
func (b *bridge) openEnds() <-chan endRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ends = make(chan endRequest, 1)
	return b.ends
}

func (b *bridge) closeEnds() {
	b.mu.Lock()
	ends := b.ends
	b.ends = nil
	b.mu.Unlock()
	select {
	case r := <-ends:
		r.done <- endResult{c: b.snapshot(), err: ErrEnded}
	default:
	}
}

// endForFamily carries out a guardian's end of a connected call: nothing more passes either
// way, the caller's leg is released at once, the resident hears why, and then their leg is
// released.
func (b *bridge) endForFamily(r endRequest, cs *sipgo.DialogClientSession, outSide call.Side) {
	why := "one of the household's guardians ended the call; the resident was told why"
	if b.ms != nil {
		b.ms.Stop(call.Trunk)
		b.ms.Stop(call.Household)
	}
	b.mu.Lock()
	b.c.EndedBy, b.c.EndedByUser = call.ByGuardian, r.who
	b.mu.Unlock()
	// The caller's BYE first: once it is answered their dialog has ended, and with it any
	// warning still playing to the resident, so the two prompts never overlap.
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	b.release(ctx, call.Trunk)
	cancel()
	r.done <- endResult{c: b.snapshot()}
	house, pt := b.householdLeg(cs, outSide)
	b.farewell(house, pt)
	if house.Context().Err() != nil { // the resident hung up during the prompt
		if at := b.g.byeReceived(b, call.Household); !at.IsZero() {
			b.setReleased(call.Household, at)
		}
		b.finish(call.Completed, call.ByGuardian, call.Household, "one of the household's guardians ended the call; the resident hung up while told why")
		return
	}
	ctx, cancel = context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	b.release(ctx, call.Household)
	b.finish(call.Completed, call.ByGuardian, 0, why)
}

// householdLeg is the resident's dialog in a connected call and the G.711 type their phone
// takes.
func (b *bridge) householdLeg(cs *sipgo.DialogClientSession, outSide call.Side) (dialog, int) {
	var d dialog = cs
	sdp := cs.InviteResponse.Body()
	if outSide != call.Household {
		d = b.first()
		if b.resident != nil {
			sdp = b.resident.InviteResponse.Body()
		} else {
			sdp = b.in.InviteRequest.Body()
		}
	}
	pt := media.PCMU
	if o, err := media.ParseSDP(sdp); err == nil {
		if p, ok := media.ChooseCodec(o.Formats); ok {
			pt = p
		}
	}
	return d, pt
}

// farewell tells the resident their family ended the call, unless they hang up first.
func (b *bridge) farewell(house dialog, pt int) {
	samples, err := media.Prompt(familyEndedPrompt)
	if err != nil || b.ms == nil {
		return
	}
	ctx, cancel := whileUp(b.g.ctx, house)
	defer cancel()
	if b.ms.Play(ctx, call.Household, samples, pt) == nil {
		b.g.metrics.Prompt(familyEndedPrompt)
	}
}

// recentCalls keeps the last calls to end, so that a call's page and a second request to
// end it see the end before the store has it.
type recentCalls struct {
	mu    sync.Mutex
	calls map[string]call.Call
	order []string
}

const recentKept = 64

func (r *recentCalls) add(c call.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]call.Call{}
	}
	if _, ok := r.calls[c.ID]; !ok {
		r.order = append(r.order, c.ID)
	}
	r.calls[c.ID] = c
	if len(r.order) > recentKept {
		delete(r.calls, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recentCalls) get(id string) (call.Call, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[id]
	return c, ok
}

// noteEnded keeps a finished call's last state among the recent calls.
func (g *Guard) noteEnded(b *bridge) {
	if c := b.snapshot(); !c.EndedAt.IsZero() {
		g.recent.add(c)
	}
}
