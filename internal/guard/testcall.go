package guard

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/media"
)

// testRingFor is how long the test call rings before giving up.
const testRingFor = 30 * time.Second

// TestCall is how the setup's "ring my phone" went.
type TestCall struct {
	// Rang lists the phones the guard rang; Answered the one that answered.
	Rang     []string
	Answered string
}

// ErrNoPhone is RingPhones' answer when no phone is registered or configured.
var ErrNoPhone = errors.New("no phone is registered or configured")

// RingPhones is the setup's test call: the guard itself rings every phone of the household
// at once; the first to answer hears that this is a test call, then the guard hangs up. It
// is not a call of the household's and is not recorded. It waits while the phones ring;
// ctx should end when the guard stops.
func (g *Guard) RingPhones(ctx context.Context) (TestCall, error) {
	targets := g.configHome().phones.targets(time.Now())
	if len(targets) == 0 {
		return TestCall{}, ErrNoPhone
	}
	var tc TestCall
	for _, t := range targets {
		tc.Rang = append(tc.Rang, t.user)
	}
	ms, err := g.relay.Open()
	if err != nil {
		return tc, err
	}
	defer ms.Close()
	ctx, cancel := context.WithTimeout(ctx, testRingFor)
	defer cancel()
	body := media.AnswerSDP(g.host, ms.Port(call.Household), media.PCMU, "sendrecv")
	type answer struct {
		t   target
		cs  *sipgo.DialogClientSession
		err error
	}
	answers := make(chan answer, len(targets))
	rctx, stopRinging := context.WithCancel(ctx)
	defer stopRinging()
	for _, t := range targets {
		go func() {
			cs, err := g.dialogUA(t.transport).WriteInvite(rctx, g.testInvite(t, body))
			if err == nil {
				err = cs.WaitAnswer(rctx, sipgo.AnswerOptions{})
			}
			answers <- answer{t, cs, err}
		}()
	}
	var won *answer
	for range targets {
		a := <-answers
		if a.err != nil {
			continue
		}
		if won != nil { // answered too late: hang up at once
			_ = a.cs.Ack(ctx)
			_ = a.cs.Bye(ctx)
			continue
		}
		won = &a
		stopRinging()
	}
	if won == nil {
		if ctx.Err() != nil {
			return tc, errors.New("no phone answered within " + testRingFor.String())
		}
		return tc, errors.New("no phone took the call")
	}
	cs := won.cs
	tc.Answered = won.t.user
	_ = cs.Ack(ctx)
	defer func() {
		bctx, bcancel := context.WithTimeout(context.Background(), byeTimeout)
		defer bcancel()
		_ = cs.Bye(bctx)
	}()
	if ans, err := media.ParseSDP(cs.InviteResponse.Body()); err == nil {
		ms.SetRemoteOffer(call.Household, ans)
		pt, ok := media.ChooseCodec(ans.Formats)
		if samples, err := media.Prompt("test_call"); ok && err == nil {
			pctx, pcancel := whileUp(ctx, cs)
			if ms.Play(pctx, call.Household, samples, pt) == nil {
				g.metrics.Prompt("test_call")
			}
			pcancel()
		}
	}
	g.log.Info("test call", "rang", tc.Rang, "answered", tc.Answered)
	return tc, nil
}

// testInvite is the test call's INVITE to one phone, from the guard itself.
func (g *Guard) testInvite(t target, body []byte) *sip.Request {
	req := sip.NewRequest(sip.INVITE, t.uri)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	from := &sip.FromHeader{DisplayName: "Call guard test", Address: sip.Uri{Scheme: "sip", User: "clearline", Host: g.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host}, Params: sip.NewParams()})
	if t.transport == "tcp" {
		req.SetTransport("TCP")
	}
	t.addRoute(req) // through the load balancer the phone registered through
	if t.flow != "" {
		req.SetDestination(t.flow) // over the phone's own connection
	}
	return req
}
