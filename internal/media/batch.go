package media

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Batched socket I/O for the RTP pumps (relay.go): one read takes every packet already
// queued on a port, up to batchMax (recvmmsg on Linux), and one write sends the packets of
// that batch that are relayed (sendmmsg), each to its own destination. Nothing waits to
// fill a batch: a read returns what has arrived, and sleeps only while nothing has, so
// batching adds no latency. A batch holds more than one packet only when packets come in
// faster than the pump takes them — a relay falling behind, when its cost matters.
// (Elsewhere than Linux, x/net reads and writes one packet a call.)

// batchMax is the most packets one read takes. A pump starts with room for one and doubles
// its room each time a read fills it, so a call's pumps hold 3 KB each until the relay
// falls behind, and at most batchMax packets' worth (48 KB, twice that again with SRTP).
const batchMax = 32

// slotSize is room for one packet: the largest that crosses an Ethernet path unfragmented.
const slotSize = 1500

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
	in, out batchConn // out is nil for a pump that relays to no side (the guardian's)
	slots   []slot
	rd      []ipv4.Message // rd[i] reads into slots[i].buf
	wr      []ipv4.Message // what this batch sends, in the order it was read
	bufs    [][]byte       // wr's Buffers, one per message
	dst     dstCache
}

// slot is room for one packet read and, once its side or the other is on SRTP, for it
// opened and sealed: each packet of a batch keeps its own until the batch is sent.
type slot struct {
	buf, clear, sealed []byte
}

func newBatch(from *net.UDPConn, to *endpoint) *batch {
	b := &batch{in: newBatchConn(from)}
	if to != nil && to.conn != nil {
		b.out = newBatchConn(to.conn)
	}
	b.resize(1)
	return b
}

// read waits for packets and takes every one already queued, up to the batch's room.
func (b *batch) read() (int, error) { return b.in.ReadBatch(b.rd, 0) }

// packet is the i'th packet read and where it came from.
func (b *batch) packet(i int) ([]byte, netip.AddrPort) {
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
	b.bufs[i] = pkt
	b.wr = append(b.wr, ipv4.Message{Buffers: b.bufs[i : i+1 : i+1], Addr: b.dst.to(dst)})
}

// flush sends what was queued and says how many packets went. A packet the socket refuses
// is dropped, as a single write's would be, and the rest still go.
func (b *batch) flush() int {
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

// grow doubles the batch's room after a read of n packets filled it.
func (b *batch) grow(n int) {
	if n >= len(b.slots) && len(b.slots) < batchMax {
		b.resize(min(2*len(b.slots), batchMax))
	}
}

func (b *batch) resize(size int) {
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
