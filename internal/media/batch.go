package media

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Batched socket I/O for the RTP pumps (relay.go): while packets queue on a port, one read
// takes every packet already there, up to batchMax (recvmmsg on Linux), and one write sends
// those of the batch that are relayed (sendmmsg), each to its own destination. Nothing
// waits to fill a batch: a read returns what has arrived, and sleeps only while nothing
// has, so batching adds no latency. Packets queue only when they come in faster than the
// pump takes them — a relay falling behind, when its cost matters; otherwise the pump reads
// and writes one packet at a time (probeEvery). (Elsewhere than Linux, x/net reads and
// writes one packet a call.)

// batchMax is the most packets one read takes. slotSize is room for one packet: the
// largest that crosses an Ethernet path unfragmented.
const batchMax, slotSize = 32, 1500

// probeEvery is how often a pump that reads one packet at a time looks for more queued,
// and how many reads in a row that find one packet each make it read one at a time again.
//
// A pump that keeps up (a call's 50 packets a second) finds one packet per read, and for
// that a batch costs more than a plain read and write: x/net's bookkeeping, a source
// address allocated per packet, and recvmmsg trying once more for a second packet. So it
// reads and writes one packet the plain way (no allocation), and every probeEvery'th read
// offers room for two. When that finds two, the relay is behind: its room doubles each
// time a read fills it, up to batchMax, and it stays batched until probeEvery reads in a
// row find one packet each. Its buffers stay allocated: 1.5 KB a port until the relay
// first falls behind, at most batchMax packets' worth (48 KB, and twice that again for
// SRTP's output).
const probeEvery = 16

// batchConn is a UDP socket's batched reads and writes: ipv4.PacketConn or ipv6.PacketConn
// (both take the same Message).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(c *net.UDPConn) batchConn {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(c)
	}
	return ipv4.NewPacketConn(c)
}

// batch is one pump's buffers: the slots a read fills, and the packets of the batch to send.
type batch struct {
	inConn, outConn *net.UDPConn
	in, out         batchConn // out is nil for a pump that relays to no side (the guardian's)
	slots           []slot
	rd              []ipv4.Message // rd[i] reads into slots[i].buf
	wr              []ipv4.Message // what this batch sends, in the order it was read
	bufs            [][]byte       // wr's Buffers, one per message
	first           netip.AddrPort // where wr[0] goes
	dst             dstCache

	room   int            // packets the next read may take; 1 reads one the plain way
	quiet  int            // reads since the last probe, or batch reads in a row of one packet
	used   int            // room the last batch read offered
	single bool           // the last read was a plain one, of one packet:
	n0     int            // its length
	src0   netip.AddrPort // and source
}

// slot is room for one packet read and, once its side or the other is on SRTP, for it
// opened and sealed: each packet of a batch keeps its own until the batch is sent.
type slot struct {
	buf, clear, sealed []byte
}

func newBatch(from *net.UDPConn, to *endpoint) *batch {
	b := &batch{inConn: from, in: newBatchConn(from), room: 1}
	if to != nil && to.conn != nil {
		b.outConn, b.out = to.conn, newBatchConn(to.conn)
	}
	b.ensure(1)
	return b
}

// read waits for packets and takes every one already queued, up to the batch's room.
func (b *batch) read() (int, error) {
	b.single = false
	if b.room == 1 && b.quiet < probeEvery {
		n, src, err := b.inConn.ReadFromUDPAddrPort(b.slots[0].buf)
		if err != nil {
			return 0, err
		}
		b.single, b.n0, b.src0 = true, n, src
		b.quiet++
		return 1, nil
	}
	b.used = max(b.room, 2)
	b.ensure(b.used)
	return b.in.ReadBatch(b.rd[:b.used], 0)
}

// adapt sets the next read's room after a read of n packets.
func (b *batch) adapt(n int) {
	switch {
	case b.single:
	case n >= b.used: // packets are queueing: take more at once
		b.room, b.quiet = min(2*b.used, batchMax), 0
	case n > 1:
		b.quiet = 0
	case b.room == 1: // a probe that found one packet
		b.quiet = 0
	default:
		if b.quiet++; b.quiet >= probeEvery { // caught up: read one at a time again
			b.room, b.quiet = 1, 0
		}
	}
}

// packet is the i'th packet read and where it came from.
func (b *batch) packet(i int) ([]byte, netip.AddrPort) {
	if b.single {
		return b.slots[0].buf[:b.n0], b.src0
	}
	m := &b.rd[i]
	var src netip.AddrPort
	if a, ok := m.Addr.(*net.UDPAddr); ok {
		src = a.AddrPort()
	}
	return b.slots[i].buf[:m.N], src
}

// openBuf and sealBuf are slot i's room for SRTP's output.
func (b *batch) openBuf(i int) []byte {
	s := &b.slots[i]
	if s.clear == nil {
		s.clear = make([]byte, slotSize)
	}
	return s.clear[:0]
}

func (b *batch) sealBuf(i int) []byte {
	s := &b.slots[i]
	if s.sealed == nil {
		s.sealed = make([]byte, slotSize+16) // room for the authentication tag
	}
	return s.sealed[:0]
}

// queue adds pkt, to be sent to dst when the batch is done.
func (b *batch) queue(pkt []byte, dst *netip.AddrPort) {
	i := len(b.wr)
	if i == 0 {
		b.first = *dst
	}
	b.bufs[i] = pkt
	b.wr = append(b.wr, ipv4.Message{Buffers: b.bufs[i : i+1 : i+1], Addr: b.dst.to(dst)})
}

// flush sends what was queued and says how many packets went. A packet the socket refuses
// is dropped, as a single write's would be, and the rest still go.
func (b *batch) flush() int {
	if len(b.wr) == 1 { // the plain way: see probeEvery
		_, err := b.outConn.WriteToUDPAddrPort(b.bufs[0], b.first)
		b.bufs[0], b.wr = nil, b.wr[:0]
		if err != nil {
			return 0
		}
		return 1
	}
	sent := 0
	for w := b.wr; len(w) > 0; {
		k, err := b.out.WriteBatch(w, 0)
		switch {
		case err != nil && errors.Is(err, net.ErrClosed):
			w = nil
		case err != nil || k <= 0:
			w = w[1:]
		default:
			sent += k
			w = w[k:]
		}
	}
	clear(b.bufs[:len(b.wr)])
	b.wr = b.wr[:0]
	return sent
}

// ensure makes room for size packets.
func (b *batch) ensure(size int) {
	if len(b.slots) >= size {
		return
	}
	for len(b.slots) < size {
		b.slots = append(b.slots, slot{buf: make([]byte, slotSize)})
	}
	b.rd = make([]ipv4.Message, size)
	for i := range b.rd {
		b.rd[i].Buffers = [][]byte{b.slots[i].buf}
	}
	b.wr = make([]ipv4.Message, 0, size)
	b.bufs = make([][]byte, size)
}

// dstCache is the socket address of a side's remote, made again only when the remote
// changes (SetRemote and latching store a new pointer), so that sending allocates nothing.
type dstCache struct {
	key  *netip.AddrPort
	addr *net.UDPAddr
}

func (c *dstCache) to(p *netip.AddrPort) *net.UDPAddr {
	if p != c.key {
		c.key, c.addr = p, net.UDPAddrFromAddrPort(*p)
	}
	return c.addr
}
