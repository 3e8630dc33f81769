// Package ports finds free ports for tests that start real listeners.
package ports

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// given are the ports handed out in this process. The kernel may give a port a test was
// handed (and has not bound yet) to the next test that asks; every port is handed out once.
var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// take marks ports first..first+n-1 handed out, unless one of them already was.
func take(first, n int) bool {
	givenMu.Lock()
	defer givenMu.Unlock()
	for p := first; p < first+n; p++ {
		if given[p] {
			return false
		}
	}
	for p := first; p < first+n; p++ {
		given[p] = true
	}
	return true
}

// Free returns a port free on ip for both UDP and TCP (a SIP listener takes both).
func Free(t testing.TB, ip string) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			if take(port, 1) {
				return port
			}
		}
	}
	t.Fatal("no port free for both UDP and TCP on " + ip)
	return 0
}

// FreeRun finds n consecutive UDP ports free on ip and returns the first: SIPp's -mp
// takes the audio port given and binds the ports after it for RTCP and video too.
func FreeRun(t testing.TB, ip string, n int) int {
	t.Helper()
	for range 100 {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		first := u.LocalAddr().(*net.UDPAddr).Port
		held := []*net.UDPConn{u}
		ok := first%2 == 0 && first+n-1 <= 65535 // RTP on an even port, as SIPp expects
		for p := first + 1; ok && p < first+n; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok && take(first, n) {
			return first
		}
	}
	t.Fatalf("no %d consecutive UDP ports free on %s", n, ip)
	return 0
}
