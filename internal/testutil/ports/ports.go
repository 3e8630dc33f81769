// Package ports finds free ports for tests that start real listeners.
package ports

import (
	"net"
	"strconv"
	"testing"
)

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
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP on " + ip)
	return 0
}
