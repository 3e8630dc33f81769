package media

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
)

// A three-way call (Carer Check's 3: the guardian joins the resident and the caller). The
// guardian's leg gets a port of its own in the call's session (AddGuardian); while Mix runs,
// the relay stops copying packets side to side and instead decodes each party's G.711 audio
// to linear samples, and every 20 ms sends each party the sum of the other two, saturated
// to 16 bits (a loud sum stays at full scale rather than wrapping round to the opposite
// sign, which is heard as a crack), encoded in that party's own codec. StopMix goes back to
// the plain relay between the trunk and the household.

// frameSamples is 20 ms at 8 kHz, one RTP packet of G.711.
const frameSamples = 160

// mixBacklog bounds what the mixer holds of a party's audio: a party sending faster than
// the mixer's clock loses its oldest audio rather than falling ever further behind.
const mixBacklog = 5 * frameSamples

// AddGuardian binds the port facing the guardian's leg; Port(call.Guardian) is then the
// one to offer them. Until Mix, what they send goes nowhere and they hear only Play.
func (s *Session) AddGuardian() error {
	s.carerMu.Lock()
	defer s.carerMu.Unlock()
	if s.closed {
		return errors.New("media: the call's session is closed")
	}
	if s.carer.conn != nil {
		return nil
	}
	c, rtcp, err := s.relay.bind()
	if err != nil {
		return err
	}
	s.carer.conn, s.carer.rtcp, s.carer.port = c, rtcp, c.LocalAddr().(*net.UDPAddr).Port
	s.wg.Add(1)
	go s.pump(call.Guardian, &s.carer, nil)
	return nil
}

// Mix starts the three-way call: the trunk, the household and the guardian each hear the
// other two. codecs gives the payload type (PCMU or PCMA) each side is sent.
func (s *Session) Mix(codecs map[call.Side]int) error {
	if s.carer.conn == nil {
		return errors.New("media: no guardian's port to mix")
	}
	t := time.NewTicker(20 * time.Millisecond)
	m := newMixer(s, codecs, t.C)
	if !s.mix.CompareAndSwap(nil, m) {
		t.Stop()
		return errors.New("media: already mixing")
	}
	go func() {
		defer t.Stop()
		m.run()
	}()
	return nil
}

// StopMix ends the three-way call: the trunk and the household go back to the plain relay
// and the guardian hears nothing more of either.
func (s *Session) StopMix() {
	if m := s.mix.Swap(nil); m != nil {
		m.halt()
	}
}

// Mixing says whether the session is mixing three ways.
func (s *Session) Mixing() bool { return s.mix.Load() != nil }

// mixer is one three-way mix: what each party sent, waiting for the next tick.
type mixer struct {
	s       *Session
	parties [3]*party
	tick    <-chan time.Time // every 20 ms
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// party is one side of the mix.
type party struct {
	side call.Side
	e    *endpoint
	pt   int

	mu      sync.Mutex
	pending []int16 // linear samples received, oldest first

	frame  [frameSamples]int16 // this tick's samples from the party
	out    [frameSamples]int16 // what the party is sent this tick
	pkt    []byte
	sealed []byte
	seq    uint16
	ts     uint32
	first  bool
}

func newMixer(s *Session, codecs map[call.Side]int, tick <-chan time.Time) *mixer {
	m := &mixer{s: s, tick: tick, stop: make(chan struct{}), done: make(chan struct{})}
	for i, sd := range []call.Side{call.Trunk, call.Household, call.Guardian} {
		p := &party{side: sd, e: s.side(sd), pt: codecs[sd], pkt: make([]byte, 12+frameSamples), sealed: make([]byte, 12+frameSamples+16),
			pending: make([]int16, 0, mixBacklog), first: true}
		var hdr [10]byte
		_, _ = rand.Read(hdr[:])
		p.seq, p.ts = binary.BigEndian.Uint16(hdr[0:2]), binary.BigEndian.Uint32(hdr[2:6])
		p.pkt[0] = 0x80
		copy(p.pkt[8:12], hdr[6:10]) // the party's own SSRC for the mixed stream
		m.parties[i] = p
	}
	return m
}

// put takes a packet side sent: its G.711 audio, decoded, waits for the next tick.
// Telephone events and comfort noise are not audio and are left out.
func (m *mixer) put(sd call.Side, pkt []byte) {
	pt, payload, ok := RTPPayload(pkt)
	if !ok || (pt != PCMU && pt != PCMA) {
		return
	}
	var p *party
	for _, q := range m.parties {
		if q.side == sd {
			p = q
		}
	}
	// Counted as relayed when it arrives: the mixer sends every tick, silence or not, and
	// the call's media timeout must still see parties that have gone quiet.
	m.s.relayed.Add(1)
	m.s.stats.Packet(sd)
	p.mu.Lock()
	defer p.mu.Unlock()
	if over := len(p.pending) + len(payload) - mixBacklog; over > 0 {
		n := copy(p.pending, p.pending[min(over, len(p.pending)):])
		p.pending = p.pending[:n]
	}
	for _, b := range payload[:min(len(payload), mixBacklog)] {
		if pt == PCMU {
			p.pending = append(p.pending, g711.DecodeUlawFrame(b))
		} else {
			p.pending = append(p.pending, g711.DecodeAlawFrame(b))
		}
	}
}

func (m *mixer) run() {
	defer close(m.done)
	for {
		select {
		case <-m.stop:
			return
		case <-m.tick:
			m.mixOnce()
		}
	}
}

// halt stops the mixer and waits for its last send.
func (m *mixer) halt() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

// mixOnce takes 20 ms from every party (silence from one that sent nothing) and sends
// each party the others' sum.
func (m *mixer) mixOnce() {
	m.mixFrames()
	for _, p := range m.parties {
		m.send(p)
	}
}

// mixFrames takes this tick's audio from each party, mixes the others' for each and
// encodes it in the party's codec, ready to send.
func (m *mixer) mixFrames() {
	for _, p := range m.parties {
		p.mu.Lock()
		n := copy(p.frame[:], p.pending)
		clear(p.frame[n:])
		k := copy(p.pending, p.pending[n:])
		p.pending = p.pending[:k]
		p.mu.Unlock()
	}
	a, b, c := m.parties[0], m.parties[1], m.parties[2]
	mixOthers(&a.out, &b.frame, &c.frame)
	mixOthers(&b.out, &a.frame, &c.frame)
	mixOthers(&c.out, &a.frame, &b.frame)
	for _, p := range m.parties {
		for i, v := range p.out {
			if p.pt == PCMA {
				p.pkt[12+i] = g711.EncodeAlawFrame(v)
			} else {
				p.pkt[12+i] = g711.EncodeUlawFrame(v)
			}
		}
	}
}

// mixOthers sets out to x + y, saturated to the 16-bit range.
func mixOthers(out, x, y *[frameSamples]int16) {
	for i := range out {
		out[i] = saturate(int32(x[i]) + int32(y[i]))
	}
}

func saturate(v int32) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}

// send sends the party's encoded mix as the next packet of its stream.
func (m *mixer) send(p *party) {
	e := p.e
	dst := e.remote.Load()
	if dst == nil || e.stopped.Load() || e.playing.Load() {
		return
	}
	pkt := p.pkt
	pkt[1] = byte(p.pt)
	if p.first {
		pkt[1] |= 0x80
		p.first = false
	}
	binary.BigEndian.PutUint16(pkt[2:4], p.seq)
	binary.BigEndian.PutUint32(pkt[4:8], p.ts)
	p.seq++
	p.ts += frameSamples
	out := pkt
	if sec := e.secure.Load(); sec != nil {
		var err error
		if out, err = sec.seal(p.sealed[:0], pkt); err != nil {
			return
		}
	}
	_, _ = e.conn.WriteToUDPAddrPort(out, *dst)
}
