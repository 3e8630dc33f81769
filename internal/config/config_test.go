package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings the error must contain
	}{
		{"unknown key", "sip:\n  listen: 127.0.0.1:5060\n  lisen: 1.2.3.4:5\n", []string{"lisen", "[3:"}},
		{"unknown top key", "trunks:\n  address: 1.2.3.4:5060\n", []string{"trunks"}},
		{"bad sip address", "sip:\n  listen: localhost\n", []string{"sip.listen (line 2)", "not host:port"}},
		{"host name not ip", "sip:\n  listen: provider.example:5060\n", []string{"sip.listen (line 2)", "IP address"}},
		{"bad port", "http:\n  listen: 127.0.0.1:99999\n", []string{"http.listen (line 2)", "1-65535"}},
		{"missing password", "phones:\n  - user: kitchen\n    contact: sip:kitchen@127.0.0.1:5090\n", []string{"phones[0].password (line 2)", "missing"}},
		{"duplicate phone", "phones:\n  - user: a\n    password: x\n  - user: a\n    password: y\n", []string{"phones[1].user (line 4)", "twice"}},
		{"bad contact", "phones:\n  - user: a\n    password: x\n    contact: http://x\n", []string{"phones[0].contact (line 4)", "sip: URI"}},
		{"wrong type", "sip:\n  ring_timeout: soon\n", []string{"ring_timeout"}},
		{"bad range", "media:\n  ports: 30000-20000\n", []string{"media.ports (line 2)"}},
		{"trunk user without password", "trunk:\n  username: home\n", []string{"trunk.password (line 2)", "missing"}},
		{"bad emergency", "emergency: ['999', 'nine']\n", []string{"emergency[1]", "digits"}},
		{"bad inbound_from", "trunk:\n  inbound_from: [10.0.0.0/33]\n", []string{"trunk.inbound_from[0]"}},
		{"bad load balancer", "sip:\n  load_balancers: [192.0.2.5, kamailio.example]\n", []string{"sip.load_balancers[1] (line 2)", "not an IP address or CIDR prefix"}},
		{"bad load balancer prefix", "sip:\n  load_balancers: [192.0.2.0/40]\n", []string{"sip.load_balancers[0]"}},
		{"bad allow entry", "screening:\n  allow:\n    - 01632 960 001\n    - grandson\n", []string{"screening.allow[1] (line 4)", "not a phone number"}},
		{"bad quiet hours", "screening:\n  quiet_hours: late\n", []string{"screening.quiet_hours (line 2)", "22:00-07:00"}},
		{"bad do_not_originate", "screening:\n  do_not_originate: ignore\n", []string{"screening.do_not_originate (line 2)", "block or warn"}},
		{"bad unknown", "screening:\n  unknown: ring\n", []string{"screening.unknown (line 2)", "allow, screen or carer"}},
		{"bad warned", "screening:\n  warned: screen\n", []string{"screening.warned (line 2)", "ring or carer"}},
		{"carer wait too short", "screening:\n  carer_wait: 1s\n", []string{"screening.carer_wait (line 2)", "5s to 2m"}},
		{"carer wait not a duration", "screening:\n  carer_wait: soon\n", []string{"screening.carer_wait (line 2)", "not a duration"}},
		{"bad carer fallback", "screening:\n  carer_fallback: block\n", []string{"screening.carer_fallback (line 2)", "screen or ring"}},
		{"bad ask", "screening:\n  ask: sometimes\n", []string{"screening.ask (line 2)", "never, unknown, warned or always"}},
		{"bad timezone", "screening:\n  timezone: Mars/Olympus\n", []string{"screening.timezone (line 2)"}},
		{"bad recogniser", "listening:\n  recogniser: whisper\n", []string{"listening.recogniser (line 2)", "auto, pocketsphinx, external or none"}},
		{"external without address", "listening:\n  recogniser: external\n", []string{"listening.external", "exactly one of address"}},
		{"bad warn_at", "listening:\n  warn_at: 7\n", []string{"listening.warn_at (line 2)", "at most 1"}},
		{"bad mode", "listening:\n  mode: loud\n", []string{"listening.mode (line 2)", "domain, mixed, keyphrase or general"}},
		{"no decoders", "listening:\n  decoders: 0\n", []string{"listening.decoders (line 2)"}},
		{"bad nats url", "hub:\n  nats: hub.example.org:4222\n", []string{"hub.nats (line 2)", "not a NATS URL"}},
		{"bad nats listen", "hub:\n  nats_listen: everywhere\n", []string{"hub.nats_listen (line 2)"}},
		{"no replicas", "hub:\n  replicas: 0\n", []string{"hub.replicas (line 2)", "1 to 5"}},
		{"bad hub database", "hub:\n  database: mysql://hub@db/clearline\n", []string{"hub.database (line 2)", "postgres:// URL"}},
		{"bad database", "data_dir: /var/lib/clearline\ndatabase: /var/lib/clearline/clearline.db\n", []string{"config: database (line 2)", "postgres:// URL"}},
		{"bad district", "household:\n  district: '--'\n", []string{"household.district (line 2)", "not a district name"}},
		{"missing community list", "screening:\n  community_blocklist: /nonexistent/list.csv\n", []string{"screening.community_blocklist (line 2)", "no such file"}},
		{"bad trunk transport", "trunk:\n  transport: sctp\n", []string{"trunk.transport (line 2)", "udp, tcp or tls"}},
		{"tls without certificate", "sip:\n  tls_listen: 127.0.0.1:5061\n", []string{"sip.tls_cert", "missing"}},
		{"tls certificate without key", "sip:\n  tls_listen: 127.0.0.1:5061\n  tls_cert: /etc/ssl/x.pem\n", []string{"sip.tls_key", "missing"}},
		{"tls certificate that is not one", "sip:\n  tls_listen: 127.0.0.1:5061\n  tls_cert: /nonexistent/cert.pem\n  tls_key: /nonexistent/key.pem\n", []string{"sip.tls_cert (line 3)", "not a certificate and its key"}},
		{"certificate without listener", "sip:\n  tls_cert: /etc/ssl/x.pem\n", []string{"sip.tls_listen", "where to listen"}},
		{"bad tls listen", "sip:\n  tls_listen: anywhere\n  tls_cert: a\n  tls_key: b\n", []string{"sip.tls_listen (line 2)", "host:port"}},
		{"bad trunk CA", "trunk:\n  transport: tls\n  tls_ca: /nonexistent/ca.pem\n", []string{"trunk.tls_ca (line 3)", "no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.yaml)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseIssueExample(t *testing.T) {
	c, err := Parse([]byte(`
sip:
  listen: 127.0.0.1:5060          # where phones and the trunk reach the guard (UDP and TCP)
trunk:
  address: 127.0.0.1:5080
phones:
  - user: kitchen
    password: s3cret
    contact: sip:kitchen@127.0.0.1:5090
http:
  listen: 127.0.0.1:8080
data_dir: ./clearline-data
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Phones) != 1 || c.Phones[0].Contact != "sip:kitchen@127.0.0.1:5090" {
		t.Errorf("phones = %+v", c.Phones)
	}
	if c.SIP.RingTimeout.D() != 45*time.Second || c.Media.Timeout.D() != 60*time.Second {
		t.Errorf("defaults not kept: ring %v media %v", c.SIP.RingTimeout, c.Media.Timeout)
	}
	if strings.Join(c.Emergency, ",") != "999,112" {
		t.Errorf("emergency = %v", c.Emergency)
	}
}

func TestDefaultAndEmpty(t *testing.T) {
	if _, err := Default(); err != nil {
		t.Fatalf("embedded default does not parse: %v", err)
	}
	c, err := Parse([]byte("# nothing but a comment\n"))
	if err != nil {
		t.Fatalf("empty config: %v", err)
	}
	if c.SIP.Listen != "127.0.0.1:5060" {
		t.Errorf("listen = %q", c.SIP.Listen)
	}
	if c.Screening.Ask != "warned" {
		t.Errorf("screening.ask = %q; the default asks callers screening warned about", c.Screening.Ask)
	}
}

// The guard's database: SQLite in data_dir by default, PostgreSQL by URL.
func TestDatabase(t *testing.T) {
	c, err := Parse([]byte("# nothing but a comment\n"))
	if err != nil || c.Database != "" {
		t.Fatalf("default database = %q, %v; want empty (SQLite in data_dir)", c.Database, err)
	}
	for _, u := range []string{"postgres://guard:secret@db.example.org/clearline", "postgresql://guard@db.example.org:5433/clearline?sslmode=verify-full"} {
		c, err := Parse([]byte("database: " + u + "\n"))
		if err != nil || c.Database != u {
			t.Errorf("database: %s read as %q, %v", u, c.Database, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("sip:\n  listen: 127.0.0.1:5060\n"))
	f.Add([]byte("phones:\n  - user: a\n    password: b\n"))
	f.Add([]byte("media: {ports: 1-2}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && c.check() != nil {
			t.Fatalf("accepted config fails its own check")
		}
	})
}

func TestCommunityListErrorsNameFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "community.csv")
	os.WriteFile(path, []byte("+442079460777,campaign\nnot a number,oops\n"), 0o600)
	_, err := Parse([]byte("screening:\n  community_blocklist: " + path + "\n"))
	if err == nil || !strings.Contains(err.Error(), "community.csv:2:") {
		t.Fatalf("error %v does not name the file and line", err)
	}
	path2 := filepath.Join(t.TempDir(), "good.csv")
	os.WriteFile(path2, []byte("+442079460777,campaign\n"), 0o600)
	c, err := Parse([]byte("screening:\n  community_blocklist: " + path2 + "\n  quiet_hours: 22:00-07:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Screening.Chain(); err != nil {
		t.Fatal(err)
	}
}

func TestHostNameTrunk(t *testing.T) {
	c, err := Parse([]byte("trunk:\n  address: sip.provider.example:5060\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Trunk.Address != "sip.provider.example:5060" {
		t.Errorf("address %q", c.Trunk.Address)
	}
	for _, bad := range []string{"sip..example:5060", "-x.example:5060", "pro vider:5060", "10.0.0.300:5060", "sip.example"} {
		if _, err := Parse([]byte("trunk:\n  address: " + bad + "\n")); err == nil || !strings.Contains(err.Error(), "trunk.address (line 2)") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}

// A later document's keys win; a problem in it names that document and its line, one in
// the first names only the line, as for a single file.
func TestParseSourcesLayers(t *testing.T) {
	base := Source{Name: "clearline.yaml", YAML: []byte("trunk:\n  address: 127.0.0.1:5080\n  did: '01632960123'\nphones:\n  - user: a\n    password: x\n  - user: b\n    password: y\n")}
	over := Source{Name: "setup.yaml", YAML: []byte("trunk:\n  address: 127.0.0.2:5080\nphones:\n  - user: kitchen\n    password: pw\n")}
	c, err := ParseSources(base, over)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trunk.Address != "127.0.0.2:5080" || c.Trunk.DID != "01632960123" || len(c.Phones) != 1 || c.Phones[0].User != "kitchen" {
		t.Errorf("layered: trunk %+v phones %+v", c.Trunk, c.Phones)
	}
	_, err = ParseSources(base, Source{Name: "setup.yaml", YAML: []byte("trunk:\n  transport: carrier-pigeon\nphones:\n  - user: kitchen\n")})
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("error %v: want two problems", err)
	}
	want := []string{"trunk.transport (setup.yaml line 2): must be udp, tcp or tls", "phones[0].password (setup.yaml line 4): missing"}
	for i, w := range want {
		if !strings.HasPrefix(ce.Problems[i].String(), w) {
			t.Errorf("problem %d %q, want %q…", i, ce.Problems[i], w)
		}
	}
	_, err = ParseSources(Source{Name: "clearline.yaml", YAML: []byte("http:\n  listen: nowhere\n")}, over)
	if err == nil || !strings.Contains(err.Error(), "http.listen (line 2)") {
		t.Errorf("a problem in the first document: %v", err)
	}
}

// The export, given alone as the configuration, makes the same configuration; so does the
// setup document over the embedded defaults.
func TestExportRoundTrip(t *testing.T) {
	c, err := Parse([]byte("trunk:\n  address: sip.provider.example:5060\n  username: u\n  password: p\n  register_expiry: 30m\nphones:\n  - user: kitchen\n    password: pw\ncallback:\n  bank: 0345 734 5345\nscreening:\n  quiet_hours: 22:00-07:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Export(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	out2, _ := Export(again)
	if string(out) != string(out2) {
		t.Errorf("export changed on the way round:\n%s\n---\n%s", out, out2)
	}
	if again.Trunk.RegisterExpiry.D() != 30*time.Minute || again.Phones[0].Password != "pw" {
		t.Errorf("round trip lost values: %+v", again.Trunk)
	}
	doc, err := SetupOf(c).YAML()
	if err != nil {
		t.Fatal(err)
	}
	layered, err := ParseSources(Source{YAML: defaultYAML}, Source{Name: SetupFile, YAML: doc})
	if err != nil {
		t.Fatalf("setup document: %v\n%s", err, doc)
	}
	if doc2, _ := SetupOf(layered).YAML(); string(doc2) != string(doc) {
		t.Errorf("setup over the defaults reads back as\n%s\nnot\n%s", doc2, doc)
	}
}

// What the setup saved in data_dir is read over the file; a bad value in it names it.
func TestLoadWithSetup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clearline.yaml")
	os.WriteFile(path, []byte("data_dir: "+dir+"\nphones: []\n"), 0o600)
	c, err := LoadWithSetup(path)
	if err != nil || len(c.Phones) != 0 {
		t.Fatalf("without a setup file: %v %+v", err, c)
	}
	if err := SaveSetup(dir, []byte("phones:\n  - user: kitchen\n    password: pw\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, SetupFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("setup file: %v %v", fi, err)
	}
	c, err = LoadWithSetup(path)
	if err != nil || len(c.Phones) != 1 || c.Phones[0].User != "kitchen" {
		t.Fatalf("with a setup file: %v %+v", err, c)
	}
	SaveSetup(dir, []byte("phones:\n  - user: kitchen\n"))
	if _, err := LoadWithSetup(path); err == nil || !strings.Contains(err.Error(), "phones[0].password ("+filepath.Join(dir, SetupFile)+" line 2)") {
		t.Errorf("a bad setup file: %v", err)
	}
}

// The Debian package's conffile is a valid configuration for the box: the dashboard on the
// home network, data in /var/lib/clearline.
func TestPackagedConfig(t *testing.T) {
	c, err := Load("../../packaging/clearline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/clearline" || c.HTTP.Listen != "0.0.0.0:8080" || len(c.Phones) != 0 || c.Hub.Run {
		t.Errorf("packaged config: data %s http %s phones %v hub %v", c.DataDir, c.HTTP.Listen, c.Phones, c.Hub.Run)
	}
}

// The load balancers in front of a guard are addresses or prefixes, kept as written.
func TestLoadBalancers(t *testing.T) {
	c, err := Parse([]byte("sip:\n  load_balancers: [192.0.2.5, 10.1.0.0/16, '2001:db8::7']\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.5", "10.1.0.0/16", "2001:db8::7"}
	if strings.Join(c.SIP.LoadBalancers, ",") != strings.Join(want, ",") {
		t.Errorf("load_balancers %q; want %q", c.SIP.LoadBalancers, want)
	}
	d, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SIP.LoadBalancers) != 0 {
		t.Errorf("the default configuration trusts load balancers %q; want none", d.SIP.LoadBalancers)
	}
}
