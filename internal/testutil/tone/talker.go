package tone

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// G.711 payload types.
const (
	PCMU = 0
	PCMA = 8
)

// Talker is an RTP peer on a UDP socket: it sends its own tone, 20 ms a packet in its codec,
// to the address given by To or else to whoever first sends it audio (symmetric RTP), and
// keeps what it receives, decoded, with when it came.
type Talker struct {
	Freq float64
	conn *net.UDPConn
	pt   byte
	amp  float64

	mu    sync.Mutex
	dst   *net.UDPAddr
	heard []frame
	muted bool
}

type frame struct {
	at      time.Time
	samples []int16
}

// NewTalker binds a socket on ip and starts talking once it knows where to; it stops when
// the test ends.
func NewTalker(t testing.TB, ip string, pt byte, freq, amp float64) *Talker {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	tk := &Talker{Freq: freq, conn: c, pt: pt, amp: amp}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		c.Close()
	})
	go tk.listen()
	go tk.talk(done)
	return tk
}

// Port is the talker's port, for its session description.
func (tk *Talker) Port() int { return tk.conn.LocalAddr().(*net.UDPAddr).Port }

// Conn is the talker's socket, to send other packets (key presses) from it.
func (tk *Talker) Conn() *net.UDPConn { return tk.conn }

// To sends the talker's audio to addr from now on.
func (tk *Talker) To(addr *net.UDPAddr) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.dst = addr
}

// Mute stops (true) or restarts the talker's audio.
func (tk *Talker) Mute(on bool) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.muted = on
}

func (tk *Talker) listen() {
	buf := make([]byte, 1500)
	for {
		n, src, err := tk.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt, payload := buf[1]&0x7f, buf[12:n]
		if pt != PCMU && pt != PCMA {
			continue
		}
		f := frame{at: time.Now(), samples: make([]int16, len(payload))}
		for i, b := range payload {
			if pt == PCMA {
				f.samples[i] = g711.DecodeAlawFrame(b)
			} else {
				f.samples[i] = g711.DecodeUlawFrame(b)
			}
		}
		tk.mu.Lock()
		if tk.dst == nil {
			tk.dst = src
		}
		tk.heard = append(tk.heard, f)
		tk.mu.Unlock()
	}
}

func (tk *Talker) talk(done <-chan struct{}) {
	samples := Sine(tk.Freq, Rate, tk.amp) // a second: a whole number of cycles
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, tk.pt
	binary.BigEndian.PutUint32(pkt[8:], uint32(tk.Freq)) // an SSRC of its own
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		tk.mu.Lock()
		dst, muted := tk.dst, tk.muted
		tk.mu.Unlock()
		if dst == nil || muted {
			continue
		}
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		for k := range 160 {
			v := samples[(i*160+k)%len(samples)]
			if tk.pt == PCMA {
				pkt[12+k] = g711.EncodeAlawFrame(v)
			} else {
				pkt[12+k] = g711.EncodeUlawFrame(v)
			}
		}
		_, _ = tk.conn.WriteToUDP(pkt, dst)
		i++
	}
}

// Windows is what the talker received between from and to (zero times: no bound), in
// pieces of 200 ms.
func (tk *Talker) Windows(from, to time.Time) [][]int16 {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	var out [][]int16
	var cur []int16
	for _, f := range tk.heard {
		if f.at.Before(from) || (!to.IsZero() && f.at.After(to)) {
			continue
		}
		cur = append(cur, f.samples...)
		if len(cur) >= Rate/5 {
			out = append(out, cur)
			cur = nil
		}
	}
	return out
}

// Heard counts the 200 ms windows between from and to in which every one of freqs is at
// least min, and returns the highest level of own in those windows.
func (tk *Talker) Heard(from, to time.Time, min float64, freqs ...float64) (windows int, own float64) {
	for _, w := range tk.Windows(from, to) {
		all := true
		for _, f := range freqs {
			if Level(w, f) < min {
				all = false
			}
		}
		if all {
			windows++
			own = max(own, Level(w, tk.Freq))
		}
	}
	return windows, own
}
