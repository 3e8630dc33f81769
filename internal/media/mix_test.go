package media

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/testutil/tone"
)

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
	const amp = 6000
	parties := map[call.Side]*tone.Talker{
		call.Trunk:     tone.NewTalker(t, "127.0.0.1", PCMA, 400, amp),
		call.Household: tone.NewTalker(t, "127.0.0.1", PCMU, 700, amp),
		call.Guardian:  tone.NewTalker(t, "127.0.0.1", PCMU, 1100, amp),
	}
	codecs := map[call.Side]int{call.Trunk: PCMA, call.Household: PCMU, call.Guardian: PCMU}
	for sd, tk := range parties {
		s.SetRemote(sd, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(tk.Port())))
	}
	if err := s.Mix(codecs); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for sd, tk := range parties {
		tk.To(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port(sd)})
	}
	time.Sleep(1200 * time.Millisecond)
	stopped := time.Now()
	for sd, tk := range parties {
		var others []float64
		for osd, o := range parties {
			if osd != sd {
				others = append(others, o.Freq)
			}
		}
		windows, own := tk.Heard(start, stopped, amp*0.7, others...)
		if windows < 4 {
			t.Errorf("%s heard both others in %d windows of 200 ms out of about 6", sd, windows)
		}
		if own > amp/20 {
			t.Errorf("%s hears itself at %.0f", sd, own)
		}
		for _, w := range tk.Windows(start, stopped) {
			for _, f := range others {
				if l := tone.Level(w, f); l > amp*1.3 {
					t.Errorf("%s hears %.0f Hz at %.0f; it was sent at %d", sd, f, l, amp)
				}
			}
		}
	}

	s.StopMix()
	left := time.Now()
	time.Sleep(600 * time.Millisecond)
	if w, _ := parties[call.Household].Heard(left.Add(100*time.Millisecond), time.Time{}, amp*0.7, 400); w < 2 {
		t.Errorf("after the mix the resident hears the caller in %d windows", w)
	}
	if w, _ := parties[call.Trunk].Heard(left.Add(100*time.Millisecond), time.Time{}, amp*0.7, 700); w < 2 {
		t.Errorf("after the mix the caller hears the resident in %d windows", w)
	}
	if w, _ := parties[call.Trunk].Heard(left.Add(100*time.Millisecond), time.Time{}, amp/20, 1100); w > 0 {
		t.Errorf("after the mix the caller still hears the guardian in %d windows", w)
	}
	if got := parties[call.Guardian].Windows(left.Add(100*time.Millisecond), time.Time{}); len(got) > 0 {
		t.Errorf("the guardian who left received %d windows", len(got))
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
