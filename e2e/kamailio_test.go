package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kamailio is Debian's Kamailio running packaging/kamailio/clearline-lb.cfg: the SIP load
// balancer in front of a provider's guards.
type kamailio struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	addr string // udp and tcp
}

// kamailioBinary finds Debian's kamailio (in /usr/sbin, which may be off a user's PATH).
func kamailioBinary(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("kamailio"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/kamailio"); err == nil {
		return "/usr/sbin/kamailio"
	}
	t.Fatal("kamailio is not installed; `make test` installs it (Debian package kamailio)")
	return ""
}

// startKamailio runs Kamailio on addr (UDP and TCP) dispatching to guards (host:port each),
// probing them with OPTIONS every second; it stops when the test ends.
func startKamailio(t *testing.T, addr string, guards []string) *kamailio {
	t.Helper()
	bin := kamailioBinary(t)
	dir := t.TempDir()
	var list strings.Builder
	for i, g := range guards {
		fmt.Fprintf(&list, "1 sip:%s 0 0 duid=guard-%d\n", g, i)
	}
	dsList := filepath.Join(dir, "guards.list")
	if err := os.WriteFile(dsList, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := filepath.Abs("../packaging/kamailio/clearline-lb.cfg")
	if err != nil {
		t.Fatal(err)
	}
	k := &kamailio{out: &syncBuffer{}, addr: addr}
	k.cmd = exec.Command(bin, "-DD", "-E", "-f", cfg,
		"-A", `DS_LIST="`+dsList+`"`, "-A", "DS_PING=1",
		"-l", "udp:"+addr, "-l", "tcp:"+addr,
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-m", "64", "-M", "8", "-n", "2")
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("kamailio: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- k.cmd.Wait() }()
	t.Cleanup(func() {
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = k.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("kamailio output:\n%s", tail(k.out.String(), 40))
		}
	})
	// Ready when it answers an OPTIONS with no hops left itself (483), touching no guard.
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		select {
		case err := <-exited:
			t.Fatalf("kamailio stopped: %v\n%s", err, k.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio did not answer on %s:\n%s", addr, k.out.String())
		}
		local := c.LocalAddr().String()
		fmt.Fprintf(c, "OPTIONS sip:lb@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-ready%d\r\nFrom: <sip:test@%s>;tag=r%d\r\nTo: <sip:lb@%s>\r\nCall-ID: ready-%d@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n",
			addr, local, i, local, i, addr, i)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 483") {
			return k
		}
	}
}
