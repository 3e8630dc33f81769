package guard

import (
	"time"

	"github.com/emiago/sipgo"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/media"
)

// scamWarningPrompt is what the resident hears when the call turns risky.
const scamWarningPrompt = "scam_warning"

// listen starts analysing what the party on the trunk side says (the caller, on inbound
// calls) in an answered call. Emergency calls are never listened to. The analysis reports
// into the call's record; a warning is played to the household's leg only, while the call
// stays up, and an alert goes to the outbox for the guardians.
func (b *bridge) listen(cs *sipgo.DialogClientSession) {
	g := b.g
	if g.listener == nil || b.ms == nil || b.c.Emergency {
		return
	}
	if b.c.Direction == call.Outbound && b.h.callbackPrompt(call.Party(b.c.To)) != "" {
		return // the police, the bank or a trusted contact: they may well talk about fraud
	}
	ans, err := media.ParseSDP(cs.InviteResponse.Body())
	if err != nil {
		return
	}
	pt, ok := media.ChooseCodec(ans.Formats)
	if !ok {
		return
	}
	b.mu.Lock()
	facts := known(b.c.Claim)
	b.mu.Unlock()
	tap := g.listener.Listen(b.c.ID, listenHooks(b, cs, pt), facts...)
	b.mu.Lock()
	b.tap = tap // the record gets the analysis once the caller is heard
	b.mu.Unlock()
	b.ms.Tap(call.Trunk, tap.Packet)
}

// listenHooks keep the call's record up to date with its risk. Each Risk handed over is a
// fresh copy, so snapshots of the call never share it with the analysis.
func listenHooks(b *bridge, cs *sipgo.DialogClientSession, pt int) listen.Hooks {
	update := func(r *call.Risk, kind call.EventKind) {
		b.mu.Lock()
		b.c.Risk = r
		b.mu.Unlock()
		for _, n := range b.h.noteDictated(r, time.Now()) {
			b.g.log.Info("caller gave a number to ring back on; the household's calls to it will not be placed", "number", n, "for", dictatedFor)
		}
		b.record(kind)
	}
	return listen.Hooks{
		Policy:   b.h.policy.Load,
		Assessed: func(r *call.Risk) { update(r, call.CallAssessed) },
		Alert:    func(r *call.Risk, _ string) { update(r, call.CallAlert) },
		Warn: func(r *call.Risk, _ string) {
			// The resident's next call to the police, the bank or a trusted contact is
			// announced as a fresh call, as after a call screening judged risky.
			b.h.noteRisky(time.Now())
			update(r, call.CallWarned)
			go b.warnInCall(cs, pt)
		},
	}
}

// warnInCall plays the scam warning to the resident. Meanwhile nothing is relayed either
// way: the resident hears only the warning, the caller silence.
func (b *bridge) warnInCall(cs *sipgo.DialogClientSession, pt int) {
	samples, err := media.Prompt(scamWarningPrompt)
	if err != nil {
		b.g.log.Error("no warning prompt", "err", err)
		return
	}
	ctx, cancel := whileUp(b.g.ctx, cs, b.in)
	defer cancel()
	if err := b.ms.Play(ctx, call.Household, samples, pt); err == nil {
		b.g.metrics.Prompt(scamWarningPrompt)
	} else {
		b.g.log.Debug("warning not played to the end", "call", b.c.ID, "err", err)
	}
}

// userOf is the user part of a URI written as text, like 101 in sip:101@guard.
