package guard

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
)

// Ringing a call's other leg: every target at once, the first to answer wins, the rest
// stop ringing. Every flow rings through ring.

var (
	errAllFailed = errors.New("every target refused or failed")
	errNoAnswer  = errors.New("no one answered")
)

// ring offers body to every target at once and returns the dialog of the first to answer
// on side outSide. It returns errAllFailed with the failures when none could take the
// call, errNoAnswer when ringFor (0: no limit) passed, or ctx's error when ctx ended.
// onRinging runs, on this goroutine, each time a target says it is ringing.
func (b *bridge) ring(ctx context.Context, req *sip.Request, targets []target, body []byte, outSide call.Side, ringFor time.Duration, onRinging func()) (*sipgo.DialogClientSession, []forkResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the others stop ringing
	var timeout <-chan time.Time
	if ringFor > 0 {
		t := time.NewTimer(ringFor)
		defer t.Stop()
		timeout = t.C
	}
	results := make(chan forkResult, len(targets))
	ringing := make(chan struct{}, 1)
	for _, t := range targets {
		go b.fork(ctx, req, t, body, results, ringing)
	}
	var failures []forkResult
	for pending := len(targets); pending > 0; {
		select {
		case <-ringing:
			if onRinging != nil {
				onRinging()
			}
		case r := <-results:
			pending--
			if r.err != nil {
				failures = append(failures, r)
				continue
			}
			go drain(results, pending)
			b.setPeer(outSide, hostPort(r.t.uri))
			return r.cs, nil, nil
		case <-timeout:
			go drain(results, pending)
			return nil, failures, errNoAnswer
		case <-ctx.Done():
			go drain(results, pending)
			return nil, failures, ctx.Err()
		}
	}
	return nil, failures, errAllFailed
}

type forkResult struct {
	t   target
	cs  *sipgo.DialogClientSession
	err error
}

// fork places one outbound INVITE and reports how it ended.
func (b *bridge) fork(ctx context.Context, orig *sip.Request, t target, body []byte, results chan<- forkResult, ringing chan<- struct{}) {
	cs, err := b.writeInvite(ctx, orig, t, body)
	if err == nil {
		acked := map[uint32]bool{} // the RSeqs acknowledged with PRACK (prack.go)
		err = cs.WaitAnswer(ctx, sipgo.AnswerOptions{
			Username: t.username,
			Password: t.password,
			OnResponse: func(r *sip.Response) error {
				b.prack(ctx, cs, r, acked)
				b.onProvisional(r)
				if r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress {
					select {
					case ringing <- struct{}{}:
					default:
					}
				}
				return nil
			},
		})
	}
	results <- forkResult{t: t, cs: cs, err: err}
}

// drain collects forks still in flight after the call was settled; a phone that answered
// too late is acknowledged and hung up at once.
func drain(results <-chan forkResult, pending int) {
	for range pending {
		r := <-results
		if r.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			_ = r.cs.Ack(ctx)
			_ = r.cs.Bye(ctx)
			cancel()
		}
	}
}

// refuseAfter answers the caller when every target failed, with the most telling answer.
func (b *bridge) refuseAfter(failures []forkResult) {
	outSide := other(b.inSide)
	best := 0
	var bestRes *sip.Response
	for _, f := range failures {
		var er *sipgo.ErrDialogResponse
		if errors.As(f.err, &er) && er.Res != nil && rank(er.Res.StatusCode) > best {
			best, bestRes = rank(er.Res.StatusCode), er.Res
		}
	}
	if bestRes == nil {
		b.refuse(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", call.Failed, call.ByGuard, "no answer from "+outSide.String()+": "+errors.Join(errsOf(failures)...).Error())
		return
	}
	outcome, reason := call.Failed, "refused with "+bestRes.StartLine()
	switch bestRes.StatusCode {
	case sip.StatusBusyHere, 600:
		outcome, reason = call.Busy, "busy"
	case 603:
		reason = "declined"
	}
	code, text := bestRes.StatusCode, bestRes.Reason
	if code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired {
		// The trunk refused the guard's credentials; the phone cannot answer that challenge.
		code, text = sip.StatusForbidden, "Forbidden"
		reason = "the trunk refused the guard's credentials"
	}
	b.refuse(code, text, outcome, endedBy(outSide), reason)
}

// rank orders final responses for choosing which to pass back (RFC 3261 16.7, simplified):
// busy and decline first, then any 4xx, 5xx, 6xx.
func rank(code int) int {
	switch {
	case code == sip.StatusBusyHere || code == 600 || code == 603:
		return 5
	case code >= 600:
		return 4
	case code >= 400 && code < 500:
		return 3
	case code >= 500:
		return 2
	}
	return 1
}

func errsOf(fs []forkResult) []error {
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = f.err
	}
	return errs
}
