package guard

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/config"
)

func TestThrottle(t *testing.T) {
	th := newThrottle(3, time.Minute, 30*time.Second)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 2 {
		th.failed("10.0.0.9", t0.Add(time.Duration(i)*time.Second))
	}
	if _, blocked := th.refused("10.0.0.9", "hall", t0.Add(2*time.Second)); blocked {
		t.Fatal("blocked after 2 of 3 allowed failures")
	}
	th.failed("10.0.0.9", t0.Add(2*time.Second))
	if left, blocked := th.refused("10.0.0.9", "hall", t0.Add(3*time.Second)); !blocked || left != 29*time.Second {
		t.Fatalf("after 3 failures: blocked=%v for %v; want 29s left", blocked, left)
	}
	if _, blocked := th.refused("10.0.0.10", "hall", t0.Add(3*time.Second)); blocked {
		t.Error("another address was blocked")
	}
	if _, blocked := th.refused("10.0.0.9", "hall", t0.Add(33*time.Second)); blocked {
		t.Error("still blocked after the block ended")
	}
	// Failures spread wider than the window never add up to a block.
	th2 := newThrottle(3, time.Minute, time.Minute)
	for i := range 10 {
		th2.failed("10.0.0.11", t0.Add(time.Duration(i)*31*time.Second))
	}
	if _, blocked := th2.refused("10.0.0.11", "hall", t0.Add(5*time.Minute)); blocked {
		t.Error("slow failures blocked the address")
	}
}

// Five wrong guesses from a phone's address, by someone forging it, do not keep the phone
// out; they still keep out every name that has not proved its password there, and the
// forger's own address stays blocked.
func TestThrottleCannotLockOutAPhone(t *testing.T) {
	th := newThrottle(5, time.Minute, time.Minute)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	th.succeeded("192.168.1.20", "kitchen", t0) // Mum's phone registers
	for i := range 5 {
		th.failed("192.168.1.20", t0.Add(time.Duration(i+1)*time.Second)) // forged guesses
		th.failed("192.168.1.66", t0.Add(time.Duration(i+1)*time.Second)) // the neighbour's own
	}
	at := t0.Add(6 * time.Second)
	if _, refused := th.refused("192.168.1.20", "kitchen", at); refused {
		t.Error("the phone that registered from this address is refused")
	}
	if _, refused := th.refused("192.168.1.20", "hall", at); !refused {
		t.Error("another name from the blocked address is not refused: guessing it is not slowed")
	}
	if _, refused := th.refused("192.168.1.66", "kitchen", at); !refused {
		t.Error("the guesser's own address is not refused")
	}
	// A success from a blocked address does not lift the block for others.
	th.succeeded("192.168.1.20", "kitchen", at)
	if _, refused := th.refused("192.168.1.20", "hall", at); !refused {
		t.Error("a phone's success unblocked the address for every name")
	}
	// A phone not heard from at that address for a day is not known there any more: the
	// address is an ordinary one again, refused while blocked, free after.
	later := t0.Add(25 * time.Hour)
	for i := range 5 {
		th.failed("192.168.1.20", later.Add(time.Duration(i)*time.Second))
	}
	if _, refused := th.refused("192.168.1.20", "kitchen", later.Add(5*time.Second)); !refused {
		t.Error("a phone last seen here a day ago still passes the block")
	}
	if _, refused := th.refused("192.168.1.20", "kitchen", later.Add(2*time.Minute)); refused {
		t.Error("still refused after the block")
	}
}

func TestTrunkSource(t *testing.T) {
	tr, err := newTrunk(config.Trunk{Address: "192.0.2.1:5060", Transport: "udp", InboundFrom: []string{"198.51.100.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]bool{
		"192.0.2.1:5060":    true,  // the trunk itself
		"192.0.2.1:5070":    false, // same host, other port: could be a phone on a shared host
		"198.51.100.7:4000": true,  // the provider's SBC range
		"203.0.113.5:5060":  false,
		"garbage":           false,
	} {
		if got := tr.isSource(src); got != want {
			t.Errorf("isSource(%s) = %v; want %v", src, got, want)
		}
	}
}

// A trunk named by DNS is sent to by name and recognised by the addresses the name had.
func TestTrunkByName(t *testing.T) {
	tr, err := newTrunk(config.Trunk{Address: "sip.provider.example:5060", Transport: "udp"})
	if err != nil {
		t.Fatal(err)
	}
	if u := tr.target("01632960000").uri; u.String() != "sip:01632960000@sip.provider.example:5060" {
		t.Errorf("target %s", u.String())
	}
	if tr.isSource("192.0.2.10:5060") {
		t.Error("a source taken for the trunk before its name was looked up")
	}
	g := &Guard{trunk: tr, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	looked := make(chan struct{})
	go g.lookupTrunk(ctx, func(_ context.Context, network, host string) ([]netip.Addr, error) {
		defer close(looked)
		if host != "sip.provider.example" {
			t.Errorf("looked up %q", host)
		}
		return []netip.Addr{netip.MustParseAddr("::ffff:192.0.2.10"), netip.MustParseAddr("192.0.2.11")}, nil
	})
	<-looked
	cancel()
	for src, want := range map[string]bool{"192.0.2.10:5060": true, "192.0.2.11:5060": true, "192.0.2.11:5070": false, "192.0.2.12:5060": false} {
		deadline := time.Now().Add(2 * time.Second)
		for tr.isSource(src) != want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := tr.isSource(src); got != want {
			t.Errorf("isSource(%s) = %v; want %v", src, got, want)
		}
	}
}

func TestPhoneTargets(t *testing.T) {
	p := newPhones([]config.Phone{
		{User: "kitchen", Password: "a", Contact: "sip:kitchen@127.0.0.1:5090;transport=tcp"},
		{User: "hall", Password: "b"},
	})
	now := time.Now()
	var u sip.Uri
	if err := sip.ParseUri("sip:hall@127.0.0.1:5092", &u); err != nil {
		t.Fatal(err)
	}
	p.bind("hall", u, time.Minute, now, "", nil)
	ts := p.targets(now)
	if len(ts) != 2 || ts[0].user != "kitchen" || ts[0].transport != "tcp" || ts[1].user != "hall" || ts[1].transport != "udp" {
		t.Fatalf("targets = %+v", ts)
	}
	if ts := p.targets(now.Add(2 * time.Minute)); len(ts) != 1 {
		t.Errorf("expired binding still rung: %+v", ts)
	}
	p.bind("hall", u, time.Minute, now, "", nil)
	p.bind("hall", u, 0, now, "", nil)
	if ts := p.targets(now); len(ts) != 1 {
		t.Errorf("unregistered binding still rung: %+v", ts)
	}
}

func TestDialled(t *testing.T) {
	for in, want := range map[string]string{"999": "999", "01632 960-000": "01632960000", "(112)": "112", "+44.20": "+4420"} {
		if got := dialled(sip.Uri{User: in}); got != want {
			t.Errorf("dialled(%q) = %q; want %q", in, got, want)
		}
	}
}
