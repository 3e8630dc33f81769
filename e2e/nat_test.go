package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guardSelf, set in a child's environment to a configuration file, makes the test binary run
// `clearline run` (a guard in a network namespace of the test's).
const guardSelf = "CLEARLINE_E2E_GUARD"

// Network namespaces this test makes (it needs root, as CI has): a home with the guard and
// a phone, behind a router that masquerades it (NAT, as a home router does), and a provider
// that can reach the home only through the router's public address. Traffic never leaves
// them.
const (
	homeIP     = "10.217.1.2"
	routerHome = "10.217.1.1"
	routerOut  = "10.217.2.1" // the household's public address
	providerIP = "10.217.2.2"
)

type natNet struct{ home, router, provider string }

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNATNet(t *testing.T) natNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces (CI runs as root)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; `make test` installs it (Debian packages iproute2, iptables)", tool)
		}
	}
	id := strconv.Itoa(os.Getpid() % 100000)
	n := natNet{home: "cl-home-" + id, router: "cl-rtr-" + id, provider: "cl-prov-" + id}
	for _, ns := range []string{n.home, n.router, n.provider} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	hv, ho := "clh"+id, "clr"+id
	pv, po := "clp"+id, "clo"+id
	run(t, "ip", "link", "add", hv, "netns", n.home, "type", "veth", "peer", "name", ho, "netns", n.router)
	run(t, "ip", "link", "add", pv, "netns", n.provider, "type", "veth", "peer", "name", po, "netns", n.router)
	run(t, "ip", "-n", n.home, "addr", "add", homeIP+"/24", "dev", hv)
	run(t, "ip", "-n", n.router, "addr", "add", routerHome+"/24", "dev", ho)
	run(t, "ip", "-n", n.router, "addr", "add", routerOut+"/24", "dev", po)
	run(t, "ip", "-n", n.provider, "addr", "add", providerIP+"/24", "dev", pv)
	for _, l := range []struct{ ns, dev string }{{n.home, hv}, {n.router, ho}, {n.router, po}, {n.provider, pv}} {
		run(t, "ip", "-n", l.ns, "link", "set", l.dev, "up")
	}
	// The home reaches everything through the router; the provider has no route to the home.
	run(t, "ip", "-n", n.home, "route", "add", "default", "via", routerHome)
	run(t, "ip", "netns", "exec", n.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	run(t, "ip", "netns", "exec", n.router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", po, "-j", "MASQUERADE")
	return n
}

// startGuardIn runs a guard in the home namespace (this test binary as `clearline run`)
// with the router's public address as its external address and the provider as its trunk.
func startGuardIn(t *testing.T, n natNet) (metrics func() string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "guard.yaml")
	src := fmt.Sprintf(`
sip:
  listen: %s:5060
  ring_timeout: 5s
  external_address: %s
trunk:
  address: %s:5080
  did: "01632960123"
  username: "01632960123"
  password: trunk-pw
phones:
  - user: kitchen
    password: s3cret
    contact: sip:kitchen@%s:5070
http:
  listen: %s:8080
media:
  ports: 31000-31039
data_dir: %s
listening:
  recogniser: none
hub:
  run: false
`, homeIP, routerOut, providerIP, homeIP, homeIP, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command("ip", "netns", "exec", n.home, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), guardSelf+"="+cfg)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("guard output:\n%s", tail(out.String(), 40))
		}
	})
	metrics = func() string {
		b, _ := exec.Command("ip", "netns", "exec", n.home, "curl", "-s", "http://"+homeIP+":8080/metrics").Output()
		return string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(metrics(), "clearline_active_calls") {
		if time.Now().After(deadline) {
			t.Fatalf("the guard in the home did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return metrics
}

// sample reads one counter from a /metrics text.
func sample(text, name string) float64 {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// Through a masquerading router: the guard registers to the provider, the provider's call
// reaches the phone at the registered (public) address, the phone's call reaches the
// provider, and audio goes both ways through the router in both calls.
func TestCallsThroughHomeRouter(t *testing.T) {
	n := newNATNet(t)
	provider := runSIPpIn(t, n.provider, "provider", "provider_calls_through_nat.xml", "-i", providerIP, "-p", "5080",
		"-mi", providerIP, "-mp", "32000")
	phone := runSIPpIn(t, n.home, "phone", "phone_answers_talks.xml", "-i", homeIP, "-p", "5070", "-mi", homeIP, "-mp", "32100")
	metrics := startGuardIn(t, n)
	provider.wait()
	phone.wait()
	inv := provider.mustFind(false, "SIP/2.0 200")
	if ip, _ := inv.sdpAudio(); ip != routerOut {
		t.Errorf("the guard's answer gave the provider %s for media; want the router's public address", ip)
	}
	reg := provider.mustFind(false, "REGISTER ")
	if !strings.Contains(reg.header("Contact"), routerOut) || !strings.Contains(reg.header("Via"), "rport") {
		t.Errorf("REGISTER: Contact %q, Via %q; want the public address and rport", reg.header("Contact"), reg.header("Via"))
	}
	m := metrics()
	in, out := sample(m, `clearline_rtp_packets_relayed_total{from="trunk"}`), sample(m, `clearline_rtp_packets_relayed_total{from="household"}`)
	t.Logf("inbound call through the router: %v packets relayed from the provider, %v from the phone", in, out)
	if in < 50 || out < 50 {
		t.Errorf("inbound call: %v packets relayed from the provider, %v from the phone; want audio both ways", in, out)
	}

	// The phone's call out, through the same router.
	trunkSide := runSIPpIn(t, n.provider, "provider answers", "trunk_answers.xml", "-i", providerIP, "-p", "5080",
		"-mi", providerIP, "-mp", "32200", "-rtp_echo")
	dialler := runSIPpIn(t, n.home, "dialler", "phone_dials_talks.xml", "-i", homeIP, "-p", "5071", "-mi", homeIP, "-mp", "32300",
		"-s", "01632960999", "-au", "kitchen", "-ap", "s3cret", "-d", "3000", homeIP+":5060")
	dialler.wait()
	trunkSide.wait()
	m = metrics()
	in2, out2 := sample(m, `clearline_rtp_packets_relayed_total{from="trunk"}`)-in, sample(m, `clearline_rtp_packets_relayed_total{from="household"}`)-out
	t.Logf("outbound call through the router: %v packets relayed from the provider, %v from the phone", in2, out2)
	if in2 < 50 || out2 < 50 {
		t.Errorf("outbound call: %v packets relayed from the provider, %v from the phone; want audio both ways", in2, out2)
	}
}
