package media

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/clearline/clearline/internal/call"
)

// A burst of 100 packets each way through the relay arrives whole and in order, read in
// batches; with both sides on SRTP every packet opens under the key the guard gave its
// receiver. A tap that holds the first packet of the burst makes the other 99 queue on the
// relay's port, so the relay must take them in batches, growing to its largest.
func TestRelayBatchOrderAndSRTP(t *testing.T) {
	const burst = 100
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "srtp"}[secure], func(t *testing.T) {
			rg := newRig(t, 43000)
			// seal[sd] is what side sd seals with, open[sd] what opens what is sent to it.
			seal, open := map[call.Side]*srtp.Context{}, map[call.Side]*srtp.Context{}
			if secure {
				for _, sd := range []call.Side{call.Trunk, call.Household} {
					own, offer := callerKey(t)
					o, err := ParseSDP([]byte(offer))
					if err != nil {
						t.Fatal(err)
					}
					guards, ok, err := rg.s.Secure(sd, o)
					if err != nil || !ok {
						t.Fatalf("Secure(%v) = %v, %v", sd, ok, err)
					}
					seal[sd], open[sd] = srtpContext(t, own), srtpContext(t, guards)
				}
			}
			for _, dir := range []struct {
				from, to     call.Side
				sender, recv *net.UDPConn
				via          *net.UDPAddr
				port         *endpoint
			}{
				{call.Trunk, call.Household, rg.caller, rg.phone, rg.trunk, &rg.s.trunk},
				{call.Household, call.Trunk, rg.phone, rg.caller, rg.house, &rg.s.house},
			} {
				hold, held := make(chan struct{}), make(chan struct{})
				var once sync.Once
				rg.s.Tap(dir.from, func([]byte) { once.Do(func() { close(held); <-hold }) })
				before := rg.s.Relayed()
				for seq := uint16(1); seq <= burst; seq++ {
					pkt := voice(seq)
					if secure {
						var err error
						if pkt, err = seal[dir.from].EncryptRTP(nil, pkt, nil); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := dir.sender.WriteToUDP(pkt, dir.via); err != nil {
						t.Fatal(err)
					}
					if seq == 1 {
						<-held // the relay holds packet 1 while the other 99 queue
					}
				}
				close(hold)
				buf := make([]byte, 2000)
				for seq := uint16(1); seq <= burst; seq++ {
					dir.recv.SetReadDeadline(time.Now().Add(time.Second))
					n, _, err := dir.recv.ReadFromUDP(buf)
					if err != nil {
						t.Fatalf("%v to %v: packet %d of %d lost: %v", dir.from, dir.to, seq, burst, err)
					}
					got := buf[:n]
					if secure {
						if got, err = open[dir.to].DecryptRTP(nil, got, nil); err != nil {
							t.Fatalf("%v to %v: packet %d does not open under the key the guard gave %v: %v", dir.from, dir.to, seq, dir.to, err)
						}
					}
					if !bytes.Equal(got, voice(seq)) {
						t.Fatalf("%v to %v: packet %d arrived as packet %d (%d bytes), not whole and in order",
							dir.from, dir.to, seq, binary.BigEndian.Uint16(got[2:]), len(got))
					}
				}
				if b := dir.port.batched.Load(); b != batchMax {
					t.Errorf("%v to %v: the largest read took %d packets; want %d (99 were queued)", dir.from, dir.to, b, batchMax)
				}
				deadline := time.Now().Add(time.Second)
				for rg.s.Relayed()-before < burst && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if n := rg.s.Relayed() - before; n != burst {
					t.Errorf("%v to %v: %d packets counted relayed; want %d", dir.from, dir.to, n, burst)
				}
				rg.s.Tap(dir.from, nil)
			}
			if rg.n.packets.Load() != 2*burst || rg.s.Packets(call.Trunk) != burst || rg.s.Packets(call.Household) != burst {
				t.Errorf("stats counted %d relayed, ports %d/%d received; want %d, %d/%d",
					rg.n.packets.Load(), rg.s.Packets(call.Trunk), rg.s.Packets(call.Household), 2*burst, burst, burst)
			}
		})
	}
}

// A pump reads one packet at a time the plain way while it keeps up, looks for more every
// probeEvery reads, takes ever more at once while packets queue, and goes back to single
// reads once probeEvery reads in a row find one packet each — every packet in order.
func TestBatchReadsSinglyUntilPacketsQueue(t *testing.T) {
	port, sender := peer(t), peer(t)
	b := newBatch(port, nil)
	next := byte(0)
	read := func(wantN int, wantSingle bool) {
		t.Helper()
		port.SetReadDeadline(time.Now().Add(time.Second))
		n, err := b.read()
		if err != nil || n != wantN || b.single != wantSingle {
			t.Fatalf("read %d packets (plain %v, err %v); want %d (plain %v)", n, b.single, err, wantN, wantSingle)
		}
		for i := range n {
			if pkt, src := b.packet(i); len(pkt) != 172 || pkt[3] != next || src != addrPort(sender) {
				t.Fatalf("packet %d of the read is number %d from %v; want %d from %v", i, pkt[3], src, next, addrPort(sender))
			}
			next++
		}
		b.adapt(n)
	}
	send := func(k int) {
		for i := range k {
			if _, err := sender.WriteToUDPAddrPort(rtp(next+byte(i)), addrPort(port)); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(40)
	for range probeEvery {
		read(1, true)
	}
	read(2, false) // the probe finds more queued
	read(4, false)
	read(8, false)
	read(10, false) // room for 16, 10 left
	for range probeEvery {
		send(1)
		read(1, false)
	}
	send(1)
	read(1, true) // caught up: plain reads again
}

// A relay on an IPv6 address batches too: a queued burst from and to IPv6 peers arrives
// whole and in order, taken in batches.
func TestRelayBatchIPv6(t *testing.T) {
	const burst = 100
	lo := netip.MustParseAddr("::1")
	var n counter
	s, err := NewRelay(lo, 43400, 43500, &n).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	caller, phone := listen(), listen()
	s.SetRemote(call.Household, addrPort(phone))
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.Tap(call.Trunk, func([]byte) { once.Do(func() { close(held); <-hold }) })
	via := netip.AddrPortFrom(lo, uint16(s.Port(call.Trunk)))
	for seq := uint16(1); seq <= burst; seq++ {
		if _, err := caller.WriteToUDPAddrPort(voice(seq), via); err != nil {
			t.Fatal(err)
		}
		if seq == 1 {
			<-held
		}
	}
	close(hold)
	buf := make([]byte, 2000)
	for seq := uint16(1); seq <= burst; seq++ {
		phone.SetReadDeadline(time.Now().Add(time.Second))
		k, _, err := phone.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("packet %d of %d lost: %v", seq, burst, err)
		}
		if !bytes.Equal(buf[:k], voice(seq)) {
			t.Fatalf("packet %d arrived as packet %d", seq, binary.BigEndian.Uint16(buf[2:]))
		}
	}
	if b := s.trunk.batched.Load(); b != batchMax {
		t.Errorf("the largest read took %d packets; want %d", b, batchMax)
	}
}
