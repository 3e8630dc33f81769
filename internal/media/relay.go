// Package media anchors a call's audio: for every call the relay owns two UDP port pairs,
// one facing the trunk and one facing the household, and copies RTP (on the even port) and
// RTCP (on the odd port above it, as RFC 3550 has it by default) between them. Because the
// guard owns both ports, it can stop one side's media the moment that leg is released,
// and later issues can tap the audio or play prompts into one leg only.
package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/clearline/clearline/internal/call"
)

// Stats receives the relay's counters, for /metrics.
type Stats interface {
	SessionOpened()
	SessionClosed()
	// Packet counts one packet relayed from side.
	Packet(from call.Side)
}

// Relay hands out port pairs from a range on one IP address.
type Relay struct {
	ip     netip.Addr
	lo, hi int
	stats  Stats
	// NoRTCP binds RTP ports only (two a call instead of four); peers' RTCP is not carried.
	NoRTCP bool

	mu   sync.Mutex
	next int
}

// NewRelay relays on ip using even ports from lo to hi.
func NewRelay(ip netip.Addr, lo, hi int, stats Stats) *Relay {
	lo += lo % 2
	return &Relay{ip: ip, lo: lo, hi: hi, next: lo, stats: stats}
}

// IP is the address the relay binds and advertises in SDP.
func (r *Relay) IP() netip.Addr { return r.ip }

// ErrNoPorts means every port of the range is in use.
var ErrNoPorts = errors.New("media: no free RTP port in range")

// bind takes an even port for RTP and the odd port above it for RTCP.
func (r *Relay) bind() (rtp, rtcp *net.UDPConn, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tries := 0; tries <= (r.hi-r.lo)/2; tries++ {
		port := r.next
		r.next += 2
		if r.next+1 > r.hi {
			r.next = r.lo
		}
		if port+1 > r.hi {
			continue
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.ip, uint16(port))))
		if err != nil {
			continue
		}
		if r.NoRTCP {
			return c, nil, nil
		}
		c2, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.ip, uint16(port+1))))
		if err != nil {
			c.Close()
			continue
		}
		return c, c2, nil
	}
	return nil, nil, ErrNoPorts
}

// Session is the media of one call.
type Session struct {
	stats   Stats
	relay   *Relay
	trunk   endpoint
	house   endpoint
	carer   endpoint // the guardian's, bound by AddGuardian (Carer Check, mix.go)
	mix     atomic.Pointer[mixer]
	relayed atomic.Uint64 // packets relayed either way
	closing sync.Once
	wg      sync.WaitGroup
	carerMu sync.Mutex // guards binding the guardian's port against Close
	closed  bool
}

type endpoint struct {
	conn    *net.UDPConn
	port    int
	remote  atomic.Pointer[netip.AddrPort]
	rtcp    *net.UDPConn                   // port+1
	control atomic.Pointer[netip.AddrPort] // where this side takes RTCP
	packets atomic.Uint64                  // packets received on this port
	stopped atomic.Bool                    // no more media to or from this side
	playing atomic.Bool                    // a prompt is playing to this side: relay nothing to it or from it
	capture atomic.Pointer[capture]        // set while what this side says is recorded
	dtmf    atomic.Pointer[dtmfWatch]      // set while key presses from this side are awaited
	tap     atomic.Pointer[func([]byte)]   // given every RTP packet this side sends, for analysis
	secure  atomic.Pointer[secureLeg]      // set when this side's media is SRTP (srtp.go)
	offered atomic.Pointer[Crypto]         // the guard's key in an SRTP offer to this side
	latch   atomic.Pointer[func(netip.Addr) bool]
	batched atomic.Int64 // the most packets one read has taken from this port (batch.go)
}

// Open binds a port pair and starts relaying as soon as both remotes are known.
func (r *Relay) Open() (*Session, error) {
	tc, tcc, err := r.bind()
	if err != nil {
		return nil, err
	}
	hc, hcc, err := r.bind()
	if err != nil {
		tc.Close()
		if tcc != nil {
			tcc.Close()
		}
		return nil, err
	}
	s := &Session{stats: r.stats, relay: r}
	s.trunk.conn, s.trunk.rtcp, s.trunk.port = tc, tcc, tc.LocalAddr().(*net.UDPAddr).Port
	s.house.conn, s.house.rtcp, s.house.port = hc, hcc, hc.LocalAddr().(*net.UDPAddr).Port
	r.stats.SessionOpened()
	s.wg.Add(2)
	go s.pump(call.Trunk, &s.trunk, &s.house)
	go s.pump(call.Household, &s.house, &s.trunk)
	if !r.NoRTCP {
		s.wg.Add(2)
		go s.pumpControl(&s.trunk, &s.house)
		go s.pumpControl(&s.house, &s.trunk)
	}
	return s, nil
}

func (s *Session) side(sd call.Side) *endpoint {
	switch sd {
	case call.Trunk:
		return &s.trunk
	case call.Guardian:
		return &s.carer
	}
	return &s.house
}

// Port is the relay's port facing side sd.
func (s *Session) Port(sd call.Side) int { return s.side(sd).port }

// SetRemote says where side sd wants its audio sent; its RTCP goes to the port above.
func (s *Session) SetRemote(sd call.Side, addr netip.AddrPort) {
	s.SetRemoteOffer(sd, Offer{Addr: addr})
}

// SetRemoteOffer takes side sd's RTP and RTCP addresses from its session description.
func (s *Session) SetRemoteOffer(sd call.Side, o Offer) {
	e := s.side(sd)
	if o.Addr.Addr().IsUnspecified() {
		// RFC 2543's hold (c=0.0.0.0): send the side nothing — 0.0.0.0 would be this host.
		e.remote.Store(nil)
		e.control.Store(nil)
		return
	}
	e.remote.Store(&o.Addr)
	ctl := o.RTCP
	if !ctl.IsValid() {
		ctl = netip.AddrPortFrom(o.Addr.Addr(), o.Addr.Port()+1)
	}
	e.control.Store(&ctl)
}

// Packets is the number of RTP packets received from side sd.
func (s *Session) Packets(sd call.Side) uint64 { return s.side(sd).packets.Load() }

// Relayed is the number of packets relayed either way; a caller that samples it can tell
// when media has stopped without the relay reading a clock per packet.
func (s *Session) Relayed() uint64 { return s.relayed.Load() }

// Stop cuts side sd off at once: nothing more is sent to it or taken from it. The ports
// stay bound until Close so that stray packets are not answered with ICMP errors.
func (s *Session) Stop(sd call.Side) { s.side(sd).stopped.Store(true) }

// Resume lets side sd's media flow again after Stop.
func (s *Session) Resume(sd call.Side) { s.side(sd).stopped.Store(false) }

// Latch makes the relay send side sd's media where it really comes from (symmetric RTP:
// a peer behind NAT, or an SBC sending from another port than it offered): to the source
// of its packets when they come from the address its description gave, on another port,
// or from an address provider says is its own.
func (s *Session) Latch(sd call.Side, provider func(netip.Addr) bool) {
	s.side(sd).latch.Store(&provider)
}

// latchTo moves e's remote to src, a source its packets came from, if e latches and src
// may be trusted with the call's audio.
func (e *endpoint) latchTo(src netip.AddrPort, remote *atomic.Pointer[netip.AddrPort]) {
	l := e.latch.Load()
	if l == nil {
		return
	}
	cur := remote.Load()
	if cur != nil && *cur == src {
		return
	}
	if (cur != nil && cur.Addr() == src.Addr()) || (*l)(src.Addr()) {
		moved := src // on the heap only when the remote moves, not for every packet
		remote.Store(&moved)
	}
}

// Punch sends an empty datagram (RFC 6263 §4.1) from side sd's RTP and RTCP ports to where
// that side takes them, so that a router in front of the guard maps those ports before
// the far side's media arrives; RTP receivers ignore it.
func (s *Session) Punch(sd call.Side) {
	e := s.side(sd)
	if dst := e.remote.Load(); dst != nil {
		_, _ = e.conn.WriteToUDPAddrPort(nil, *dst)
	}
	if dst := e.control.Load(); dst != nil && e.rtcp != nil {
		_, _ = e.rtcp.WriteToUDPAddrPort(nil, *dst)
	}
}

// Tap gives f every RTP packet side sd sends from now on, whatever is relayed; f must copy
// what it keeps and must not block. Tap(sd, nil) stops it.
func (s *Session) Tap(sd call.Side, f func(pkt []byte)) {
	if f == nil {
		s.side(sd).tap.Store(nil)
		return
	}
	s.side(sd).tap.Store(&f)
}

// Close releases both ports.
func (s *Session) Close() {
	s.closing.Do(func() {
		s.trunk.stopped.Store(true)
		s.house.stopped.Store(true)
		s.carer.stopped.Store(true)
		if m := s.mix.Swap(nil); m != nil {
			m.halt()
		}
		s.carerMu.Lock() // no guardian's port is bound after this
		s.closed = true
		s.carerMu.Unlock()
		for _, c := range []*net.UDPConn{s.trunk.conn, s.house.conn, s.trunk.rtcp, s.house.rtcp, s.carer.conn, s.carer.rtcp} {
			if c != nil {
				c.Close()
			}
		}
		s.wg.Wait()
		s.stats.SessionClosed()
	})
}

// pump copies packets arriving on from's port out of to's port to to's remote, a batch at
// a time (batch.go): while packets queue, every one already there is read at once, each is
// dealt with as it comes, and those relayed are sent together.
func (s *Session) pump(side call.Side, from, to *endpoint) {
	defer s.wg.Done()
	b := newBatch(from.conn, to)
	for {
		n, err := b.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from.packets.Add(uint64(n))
		if int64(n) > from.batched.Load() {
			from.batched.Store(int64(n))
		}
		for i := range n {
			s.relayPacket(side, from, to, b, i)
		}
		if len(b.wr) > 0 {
			sent := b.flush()
			s.relayed.Add(uint64(sent))
			for range sent {
				s.stats.Packet(side)
			}
		}
		b.adapt(n)
	}
}

// relayPacket does with packet i of a batch from side what the relay does with every
// packet, and queues it in the batch if it is to go to to's remote.
func (s *Session) relayPacket(side call.Side, from, to *endpoint, b *batch, i int) {
	pkt, src := b.packet(i)
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		return // not RTP version 2
	}
	var err error
	if sec := from.secure.Load(); sec != nil {
		if pkt, err = sec.open(b.openBuf(i), pkt); err != nil {
			return // not sealed with this side's key: nothing to relay
		}
	}
	from.latchTo(src, &from.remote) // only what opened under the side's key, if SRTP
	if w := from.dtmf.Load(); w != nil {
		w.see(pkt)
	}
	if c := from.capture.Load(); c != nil {
		c.add(pkt)
	}
	if t := from.tap.Load(); t != nil && !from.stopped.Load() {
		(*t)(pkt)
	}
	if m := s.mix.Load(); m != nil {
		if !from.stopped.Load() && !from.playing.Load() {
			m.put(side, pkt) // the mixer sends each party the others (mix.go)
		}
		return
	}
	if to == nil || from.stopped.Load() || to.stopped.Load() || to.playing.Load() || from.playing.Load() {
		return // a released side, or a prompt playing
	}
	dst := to.remote.Load()
	if dst == nil {
		return
	}
	if sec := to.secure.Load(); sec != nil {
		if pkt, err = sec.seal(b.sealBuf(i), pkt); err != nil {
			return
		}
	}
	b.queue(pkt, dst)
}

// pumpControl copies RTCP arriving on from's odd port to to's RTCP address, while both
// sides are up (prompts do not stop it: the reports describe the streams, not the words).
func (s *Session) pumpControl(from, to *endpoint) {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	clear := make([]byte, 1500)
	sealed := make([]byte, 1500+20) // room for the SRTCP index and tag
	for {
		n, src, err := from.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		// RTCP: version 2, packet types 192-223 (RFC 5761), at least a header.
		if n < 8 || buf[0]>>6 != 2 || buf[1] < 192 || buf[1] > 223 || from.stopped.Load() || to.stopped.Load() {
			continue
		}
		pkt := buf[:n]
		if sec := from.secure.Load(); sec != nil {
			if pkt, err = sec.openRTCP(clear[:0], pkt); err != nil {
				continue
			}
		}
		from.latchTo(src, &from.control)
		if sec := to.secure.Load(); sec != nil {
			if pkt, err = sec.sealRTCP(sealed[:0], pkt); err != nil {
				continue
			}
		}
		if dst := to.control.Load(); dst != nil {
			_, _ = to.rtcp.WriteToUDPAddrPort(pkt, *dst)
		}
	}
}

// String describes the session's ports for logs.
func (s *Session) String() string {
	return fmt.Sprintf("rtp trunk:%d household:%d (rtcp +1)", s.trunk.port, s.house.port)
}
