package guard

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzInbound runs whatever arrives from outside through the guard's reading of it: the
// SIP parser, the checks every request passes, and the answer to what does not parse,
// which must itself be a SIP response (or nothing). Seeded with RFC 4475's messages:
// go test -fuzz FuzzInbound ./internal/guard
func FuzzInbound(f *testing.F) {
	for _, m := range tortureMessagesFor(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			if res := answerUnparsed(data, err); res != nil {
				if _, err := sip.ParseMessage(res); err != nil {
					t.Fatalf("the answer to %q does not parse: %v\n%s", data, err, res)
				}
			}
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.IsAck() {
			return
		}
		if r := checkSyntax(req); r != nil {
			return
		}
		checkMethod(req)
		checkRequire(req)
		checkOffer(req)
		withDigestOnly(req)
	})
}

// BenchmarkBurst sends 20,000 messages at a guard over UDP, from an address that is not the
// trunk's — RFC 4475's, each with random bytes changed (a fixed seed) — then checks the
// guard still answers, holds no call, and gives back its goroutines and memory once the
// transactions' timers (32 s over UDP) have run out:
// go test -run '^$' -bench Burst -benchtime 1x ./internal/guard
func BenchmarkBurst(b *testing.B) {
	g := startTestGuard(b, "")
	msgs := tortureMessagesFor(b)
	var seeds [][]byte
	for _, m := range msgs {
		seeds = append(seeds, m)
	}
	slices.SortFunc(seeds, bytes.Compare)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	rng := rand.New(rand.NewPCG(17, 4475))
	p := newPeer(b, "udp", testNet+"200", 0, g.addr)
	go func() { // answers are read and thrown away, so the socket never fills
		buf := make([]byte, 65535)
		for {
			p.udp.SetReadDeadline(time.Now().Add(time.Minute))
			if _, _, err := p.udp.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	const n = 20000
	start := time.Now()
	for i := range n {
		m := bytes.Clone(seeds[i%len(seeds)])
		for range 1 + rng.IntN(4) {
			m[rng.IntN(len(m))] = byte(rng.IntN(256))
		}
		if _, err := p.udp.WriteToUDP(m, p.to); err != nil {
			b.Fatal(err)
		}
		if i%20 == 19 {
			time.Sleep(time.Millisecond) // a heavy attack, but not a flood the kernel drops unread
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
	ok := newPeer(b, "udp", testNet+"201", 0, g.addr)
	var res *sip.Response
	for try := 0; try < 10 && res == nil; try++ { // the guard may still be working through the burst
		ok.send(fmt.Appendf(nil, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;rport;branch=z9hG4bK-after-burst-%d\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: after-burst-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", g.addr, ok.local, try, g.addr, try))
		res, _ = ok.final(time.Second)
	}
	if res == nil || res.StatusCode != 200 {
		b.Fatalf("after the burst OPTIONS got %v", res)
	}
	if g.Active() != 0 {
		b.Errorf("%d calls up after the burst", g.Active())
	}
	time.Sleep(35 * time.Second) // Timer J (64·T1) and the nonces' 30 s run out
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines+20 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines), "goroutines-left")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024, "heap-KiB-left")
	if left := runtime.NumGoroutine() - goroutines; left > 20 {
		b.Errorf("%d goroutines more than before the burst, 45 s after it", left)
	}
	if left := int64(after.HeapAlloc) - int64(before.HeapAlloc); left > 4<<20 {
		b.Errorf("%d KiB more heap than before the burst, 35 s after it", left>>10)
	}
}
