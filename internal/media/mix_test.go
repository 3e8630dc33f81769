package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/testutil/tone"
)

// talker is one party of a three-way call on loopback: it sends its own tone as 20 ms
// RTP packets in its codec and keeps what it receives, decoded.
type talker struct {
	conn *net.UDPConn
	pt   int
	freq float64

	mu    sync.Mutex
	heard []int16
	pkts  int
}

func newTalker(t testing.TB, pt int, freq float64) *talker {
	tk := &talker{conn: peer(t), pt: pt, freq: freq}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := tk.conn.Read(buf)
			if err != nil {
				return
			}
			pt, payload, ok := RTPPayload(buf[:n])
			if !ok {
				continue
			}
			tk.mu.Lock()
			tk.pkts++
			for _, b := range payload {
				if pt == PCMA {
					tk.heard = append(tk.heard, g711.DecodeAlawFrame(b))
				} else {
					tk.heard = append(tk.heard, g711.DecodeUlawFrame(b))
				}
			}
			tk.mu.Unlock()
		}
	}()
	return tk
}

// talk sends d of the talker's tone at amplitude amp to the relay's port at to.
func (tk *talker) talk(t testing.TB, to int, d time.Duration, amp float64) {
	samples := tone.Sine(tk.freq, int(d.Seconds()*tone.Rate), amp)
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}
	pkt := make([]byte, 12+frameSamples)
	pkt[0], pkt[1] = 0x80, byte(tk.pt)
	binary.BigEndian.PutUint32(pkt[8:], uint32(tk.freq))
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i+frameSamples <= len(samples); i += frameSamples {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i/frameSamples))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i))
		for k, v := range samples[i : i+frameSamples] {
			if tk.pt == PCMA {
				pkt[12+k] = g711.EncodeAlawFrame(v)
			} else {
				pkt[12+k] = g711.EncodeUlawFrame(v)
			}
		}
		if _, err := tk.conn.WriteToUDP(pkt, dst); err != nil {
			t.Error(err)
			return
		}
		<-tick.C
	}
}

func (tk *talker) received() []int16 {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return append([]int16(nil), tk.heard...)
}

func (tk *talker) reset() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.heard, tk.pkts = nil, 0
}

// A three-way mix: the caller (PCMA), the resident and the guardian (PCMU) each send their
// own tone, and each hears the other two — and not themselves — at about the level sent.
// Then the guardian leaves: the resident and the caller hear each other through the plain
// relay again, and the guardian hears nothing.
func TestMixThreeWays(t *testing.T) {
	var n counter
	s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 42000, 42100, &n).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.AddGuardian(); err != nil {
		t.Fatal(err)
	}
	parties := map[call.Side]*talker{
		call.Trunk:     newTalker(t, PCMA, 400),
		call.Household: newTalker(t, PCMU, 700),
		call.Guardian:  newTalker(t, PCMU, 1100),
	}
	codecs := map[call.Side]int{}
	for sd, tk := range parties {
		s.SetRemote(sd, addrPort(tk.conn))
		codecs[sd] = tk.pt
	}
	if err := s.Mix(codecs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for sd, tk := range parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk.talk(t, s.Port(sd), time.Second, 6000)
		}()
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	for sd, tk := range parties {
		heard := tk.received()
		if len(heard) < tone.Rate/2 {
			t.Fatalf("%s received %d samples in a second", sd, len(heard))
		}
		for osd, other := range parties {
			l := tone.Level(heard, other.freq)
			switch {
			case osd == sd && l > 300:
				t.Errorf("%s hears itself: %.0f Hz at %.0f", sd, other.freq, l)
			case osd != sd && l < 3000: // 6000 sent; a little is lost to the edges of the second
				t.Errorf("%s hears %s's %.0f Hz at only %.0f", sd, osd, other.freq, l)
			}
		}
	}

	s.StopMix()
	for _, tk := range parties {
		tk.reset()
	}
	wg.Add(2)
	for _, sd := range []call.Side{call.Trunk, call.Household} {
		go func() {
			defer wg.Done()
			parties[sd].talk(t, s.Port(sd), 300*time.Millisecond, 6000)
		}()
	}
	parties[call.Guardian].talk(t, s.Port(call.Guardian), 300*time.Millisecond, 6000)
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	if l := tone.Level(parties[call.Household].received(), 400); l < 3000 {
		t.Errorf("after the mix the resident hears the caller at %.0f", l)
	}
	if l := tone.Level(parties[call.Trunk].received(), 700); l < 3000 {
		t.Errorf("after the mix the caller hears the resident at %.0f", l)
	}
	if l := tone.Level(parties[call.Trunk].received(), 1100); l > 300 {
		t.Errorf("after the mix the caller still hears the guardian at %.0f", l)
	}
	if got := parties[call.Guardian].received(); len(got) > 0 {
		t.Errorf("the guardian who left received %d samples", len(got))
	}
}

// Two loud parties sum past 16 bits: the mix stays at full scale with their sign, never
// wrapping round to the other sign.
func TestMixSaturates(t *testing.T) {
	var out, x, y [frameSamples]int16
	for i := range x {
		x[i], y[i] = 30000, 20000
		if i%2 == 1 {
			x[i], y[i] = -30000, -20000
		}
	}
	x[2], y[2] = 1000, -300
	mixOthers(&out, &x, &y)
	if out[0] != 32767 || out[1] != -32768 || out[2] != 700 {
		t.Errorf("mix = %d, %d, %d; want 32767, -32768, 700", out[0], out[1], out[2])
	}
}

// A session without a guardian's port cannot mix, and one mix at a time.
func TestMixNeedsTheGuardian(t *testing.T) {
	var n counter
	s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 42200, 42300, &n).Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Mix(nil); err == nil {
		t.Error("mixed without the guardian's port")
	}
	if err := s.AddGuardian(); err != nil {
		t.Fatal(err)
	}
	if err := s.Mix(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Mix(nil); err == nil {
		t.Error("a second mix started")
	}
	s.Close()
	if err := s.AddGuardian(); err == nil {
		t.Error("a port bound on a closed session")
	}
}

// BenchmarkCallMedia is what one call's media costs the guard for each 20 ms of audio: a
// plain relayed call (a packet each way) beside a three-way call (a packet from each of
// three parties, decoded, mixed and encoded for each, one packet to each), on loopback
// sockets, the mixer's clock driven by the benchmark. cpu-ns/op is the process's CPU time
// (the relay's and the test peers' socket work); a core carries 20 ms / cpu-ns/op calls.
func BenchmarkCallMedia(b *testing.B) {
	b.Run("relayed", func(b *testing.B) {
		var n counter
		s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 42400, 42500, &n).Open()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		caller, phone := peer(b), peer(b)
		s.SetRemote(call.Trunk, addrPort(caller))
		s.SetRemote(call.Household, addrPort(phone))
		benchFrames(b, map[*net.UDPConn]int{caller: s.Port(call.Trunk), phone: s.Port(call.Household)}, nil)
	})
	b.Run("mixed", func(b *testing.B) {
		var n counter
		s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 42600, 42700, &n).Open()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if err := s.AddGuardian(); err != nil {
			b.Fatal(err)
		}
		caller, phone, guardian := peer(b), peer(b), peer(b)
		s.SetRemote(call.Trunk, addrPort(caller))
		s.SetRemote(call.Household, addrPort(phone))
		s.SetRemote(call.Guardian, addrPort(guardian))
		tick := make(chan time.Time)
		m := newMixer(s, map[call.Side]int{call.Trunk: PCMA, call.Household: PCMU, call.Guardian: PCMU}, tick)
		s.mix.Store(m)
		go m.run()
		defer s.StopMix()
		benchFrames(b, map[*net.UDPConn]int{caller: s.Port(call.Trunk), phone: s.Port(call.Household), guardian: s.Port(call.Guardian)}, tick)
	})
}

// benchFrames sends a 20 ms packet of speech-like audio from each peer to its relay port,
// ticks the mixer if there is one, and waits for each peer to receive a packet.
func benchFrames(b *testing.B, peers map[*net.UDPConn]int, tick chan<- time.Time) {
	pkt := make([]byte, 12+frameSamples)
	pkt[0] = 0x80
	for i, v := range tone.Sine(440, frameSamples, 8000) {
		pkt[12+i] = g711.EncodeUlawFrame(v)
	}
	dst := map[*net.UDPConn]*net.UDPAddr{}
	for c, port := range peers {
		dst[c] = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	}
	buf := make([]byte, 1500)
	var before, after syscall.Rusage
	b.ReportAllocs()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		for c, d := range dst {
			if _, err := c.WriteToUDP(pkt, d); err != nil {
				b.Fatal(err)
			}
		}
		if tick != nil {
			tick <- time.Time{}
		}
		for c := range dst {
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	b.ReportMetric(float64(cpu.Nanoseconds()), "cpu-ns/op")
}

// BenchmarkMixWork is the mixer's own work for 20 ms of a three-way call, without sockets:
// three packets decoded, three mixes of two parties, three frames encoded.
func BenchmarkMixWork(b *testing.B) {
	var n counter
	s, err := NewRelay(netip.MustParseAddr("127.0.0.1"), 42800, 42900, &n).Open()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := newMixer(s, map[call.Side]int{call.Trunk: PCMA, call.Household: PCMU, call.Guardian: PCMU}, nil)
	pkt := make([]byte, 12+frameSamples)
	pkt[0] = 0x80
	for i, v := range tone.Sine(440, frameSamples, 8000) {
		pkt[12+i] = g711.EncodeUlawFrame(v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, sd := range []call.Side{call.Trunk, call.Household, call.Guardian} {
			m.put(sd, pkt)
		}
		m.mixFrames()
	}
}
