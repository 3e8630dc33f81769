// Package config reads the guard's YAML configuration. Decoding is strict: an unknown key,
// a value of the wrong type, a bad address or a missing password is an error that names
// the key and its line, and nothing starts. With no file, Default gives a guard that works
// on loopback.
package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // quiet hours work on machines without a zoneinfo database

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/screen"
)

// Config is the whole of a guard's configuration.
type Config struct {
	SIP    SIP     `yaml:"sip"`
	Trunk  Trunk   `yaml:"trunk"`
	Phones []Phone `yaml:"phones"`
	HTTP   HTTP    `yaml:"http"`
	Media  Media   `yaml:"media"`
	// DataDir holds the SQLite database (unless Database names another).
	DataDir string `yaml:"data_dir"`
	// Database is where the guard keeps calls, households, people, alerts and the outbox:
	// empty for SQLite (clearline.db in data_dir), or a postgres:// URL.
	Database string `yaml:"database"`
	// Emergency lists the numbers routed to the trunk before anything else runs.
	Emergency []string `yaml:"emergency"`
	// Screening is the household's inbound call policy.
	Screening Screening `yaml:"screening"`
	// Callback is the household's directory of numbers it can trust, for safe call-back.
	Callback Callback `yaml:"callback"`
	// Codes are the handset codes that block or report the last caller (codes.go).
	Codes Codes `yaml:"codes"`
	// Listening is speech analysis in the call and the interventions it makes.
	Listening Listening `yaml:"listening"`
	// Household names the home this guard protects, as its guardians see it.
	Household Household `yaml:"household"`
	// Alerts is how alerts reach the household's guardians.
	Alerts Alerts `yaml:"alerts"`
	// Hub is the regional hub: reports, community alerts and the shared block-list.
	Hub Hub `yaml:"hub"`
}

// Hub configures the guard's link to the regional hub, and running the hub itself.
type Hub struct {
	// Run runs the hub in this process (clearline run); clearline hub always runs it.
	Run bool `yaml:"run"`
	// NATS lists the URLs of an external NATS cluster, comma-separated. Empty: the NATS
	// server embedded in this process when the hub runs here, else no hub at all.
	NATS string `yaml:"nats"`
	// Listen is the embedded NATS server's address, for guards on other machines.
	Listen string `yaml:"nats_listen"`
	// Replicas is how many NATS servers keep each stream: 1, or 3 on a cluster.
	Replicas int `yaml:"replicas"`
	// Database is where the hub keeps reports: empty for SQLite (hub.db in data_dir), or a
	// postgres:// URL.
	Database string `yaml:"database"`
	// Report sends this guard's reports (blocked spoofs, risky calls) to the hub.
	Report bool `yaml:"report"`
	// ShareWords adds the words of a risky call to its report (the household opted in).
	ShareWords bool `yaml:"share_words"`
}

// Enabled says whether the guard has a hub to talk to.
func (h Hub) Enabled() bool { return h.Run || h.NATS != "" }

// Household identifies the guard's household on the dashboard.
type Household struct {
	// ID is a short name (lowercase letters, digits, dashes) the dashboard keys it by.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// District is the local authority district the household is in (Winchester, Test
	// Valley...): its reports carry it, and community alerts for it reach its guardians.
	District string `yaml:"district"`
}

// Alerts configures delivery to guardians. Each guardian chooses their own channels on
// the dashboard; e-mail needs the SMTP server here.
type Alerts struct {
	SMTP SMTP `yaml:"smtp"`
	// BaseURL is the dashboard's address as guardians reach it, for links in alerts.
	BaseURL string `yaml:"base_url"`
}

// SMTP is the server alert e-mails are sent through.
type SMTP struct {
	Address  string `yaml:"address"`
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Listening chooses the speech recogniser and the household's interventions.
type Listening struct {
	// Recogniser is auto (pocketsphinx when this build and machine have it, else none),
	// pocketsphinx, external or none.
	Recogniser string `yaml:"recogniser"`
	// Mode is pocketsphinx's: domain (default), keyphrase or general.
	Mode string `yaml:"mode"`
	// ModelDir holds Debian's pocketsphinx-en-us model.
	ModelDir string `yaml:"model_dir"`
	// Decoders is how many calls pocketsphinx analyses at once; more calls go unanalysed.
	Decoders int `yaml:"decoders"`
	// External is the recogniser a deployment runs itself (protocol clearline-asr/1).
	External ExternalRecogniser `yaml:"external"`
	// Warn plays a spoken warning to the resident when the risk reaches WarnAt.
	Warn   bool    `yaml:"warn"`
	WarnAt float64 `yaml:"warn_at"`
	// Alert tells the household's guardians when the risk reaches AlertAt.
	Alert   bool    `yaml:"alert"`
	AlertAt float64 `yaml:"alert_at"`
}

// ExternalRecogniser is reached at Address (host:port) or started as Command per call.
type ExternalRecogniser struct {
	Address string   `yaml:"address"`
	Command []string `yaml:"command"`
}

// Callback holds the verified numbers the feature codes ring as fresh calls.
type Callback struct {
	// Police is rung by *88 (default 101).
	Police string `yaml:"police"`
	// Bank is rung by *89: the number on the back of the household's bank card.
	Bank string `yaml:"bank"`
}

// Screening is a household's choices for inbound calls.
type Screening struct {
	// Allow lists trusted contacts: they always ring through.
	Allow []string `yaml:"allow"`
	// Block lists numbers the household never wants to hear from.
	Block []string `yaml:"block"`
	// CommunityBlocklist is a CSV file of numbers blocked for everyone (number,reason,...).
	CommunityBlocklist string `yaml:"community_blocklist"`
	// DoNotOriginate is what happens to a call presenting a number that never calls out
	// (101, 999, a bank's card-back number): block (default) or warn.
	DoNotOriginate string `yaml:"do_not_originate"`
	// QuietHours, like "22:00-07:00", keeps unknown callers from ringing at night.
	QuietHours string `yaml:"quiet_hours"`
	// Timezone for quiet hours (default Europe/London).
	Timezone string `yaml:"timezone"`
	// Unknown is what happens to callers no rule allowed or judged: allow (default) rings
	// through; screen announces them first (announce-and-screen); carer records their name
	// and rings the household's first guardian with a phone number, who decides (Carer Check).
	Unknown string `yaml:"unknown"`
	// Warned is what happens to callers screening warned about: ring (default) rings the
	// phones and warns the resident first; carer asks a guardian first, as Unknown's carer.
	Warned string `yaml:"warned"`
	// CarerWait is how long the guardian's phone rings before the call goes on without them
	// (default 25s); CarerFallback is what happens then: screen (default) announces the
	// caller to the resident, ring rings the phones as without Carer Check.
	CarerWait     Duration `yaml:"carer_wait"`
	CarerFallback string   `yaml:"carer_fallback"`
	// Ask is which callers the guard asks who they are before the phones ring: never,
	// unknown (callers not on the allow-list the household has not rung lately), warned
	// (default: callers screening warned about) or always (every caller but trusted contacts).
	Ask string `yaml:"ask"`
	// StirTrustStore is a directory with roots.pem and the providers' signing certificates
	// (named as the end of their x5u URLs), for checking STIR/SHAKEN signatures offline.
	StirTrustStore string `yaml:"stir_trust_store"`
}

// SIP is where phones and the trunk reach the guard.
type SIP struct {
	// Listen is host:port for both UDP and TCP.
	Listen string `yaml:"listen"`
	// Realm is the digest realm phones authenticate in.
	Realm string `yaml:"realm"`
	// RingTimeout is how long the phones ring before an inbound call gets no answer.
	RingTimeout Duration `yaml:"ring_timeout"`
	// TLSListen, when set, is host:port for SIP over TLS (RFC 3261 §26.2; 5061 by
	// convention), for phones and the trunk; TLSCert and TLSKey are the guard's certificate
	// chain and private key, PEM files.
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
	// ExternalAddress is the public IP a home router gives the guard, for its Contact and
	// session descriptions toward the trunk; STUN (host:port) finds it instead when empty.
	ExternalAddress string `yaml:"external_address"`
	STUN            string `yaml:"stun"`
	// Keepalive is how often the guard, behind NAT (either of the above set), refreshes the
	// router's mapping toward the trunk: OPTIONS over UDP, a blank line over TCP and TLS.
	Keepalive Duration `yaml:"keepalive"`
	// LoadBalancers lists the addresses (IPs or CIDR prefixes) of the SIP load balancers in
	// front of the guard (Kamailio's dispatcher, a provider's service of several guards). A
	// request from one of them names where it really came from in X-Clearline-Source, which
	// the guard believes from these addresses alone, and a REGISTER's Path is kept (RFC 3327).
	LoadBalancers []string `yaml:"load_balancers"`
}

// BehindNAT says whether the guard is told it sits behind a router that translates addresses.
func (s SIP) BehindNAT() bool { return s.ExternalAddress != "" || s.STUN != "" }

// Trunk is the upstream provider.
type Trunk struct {
	// Address is host:port where outbound calls go.
	Address string `yaml:"address"`
	// Transport is udp (default), tcp or tls.
	Transport string `yaml:"transport"`
	// TLSCA is a PEM file of the certificate authorities the provider's TLS certificate is
	// checked against; empty: the machine's. TLSServerName is the name its certificate must
	// carry; empty: the host of Address.
	TLSCA         string `yaml:"tls_ca"`
	TLSServerName string `yaml:"tls_server_name"`
	// SRTP makes the guard offer the provider SRTP (SDES, RFC 4568) on the calls it places
	// there, for a provider that requires it; a provider's own SRTP offer is taken either way.
	SRTP bool `yaml:"srtp"`
	// InboundFrom lists extra source IPs or CIDRs the provider sends INVITEs from
	// (a provider's SBC often sends from other ports or hosts than it receives on).
	InboundFrom []string `yaml:"inbound_from"`
	// DID is the household's number at the provider; inbound calls to it ring every phone.
	DID string `yaml:"did"`
	// Username and Password, when set, make the guard register to the trunk as a home
	// ATA would, and answer the trunk's digest challenges on outbound calls.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// RegisterExpiry is the registration lifetime asked of the trunk.
	RegisterExpiry Duration `yaml:"register_expiry"`
}

// Phone is one household handset.
type Phone struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// Contact, when set, is a static SIP URI used instead of registration.
	Contact string `yaml:"contact"`
}

// Check says what is wrong with a phone's account, by field (user, password, contact).
func (p Phone) Check() map[string]string {
	errs := map[string]string{}
	switch {
	case p.User == "":
		errs["user"] = "missing: every phone needs a user name"
	case len(p.User) > 64 || strings.ContainsAny(p.User, "@:; <>\"'\t\r\n"):
		errs["user"] = fmt.Sprintf("%q is not a plain SIP user name", p.User)
	}
	if p.Password == "" {
		errs["password"] = fmt.Sprintf("missing: phone %q needs a password for digest authentication", p.User)
	}
	if p.Contact != "" {
		if err := checkContact(p.Contact); err != nil {
			errs["contact"] = err.Error()
		}
	}
	return errs
}

// CheckDistrict checks a local authority district's name ("" is none).
func CheckDistrict(d string) error {
	if d != "" && (len(d) > 100 || strings.Trim(d, " -'.,&()") == "" || strings.ContainsAny(d, "\n\r\t")) {
		return fmt.Errorf("%q is not a district name like Winchester or Test Valley", d)
	}
	return nil
}

// HTTP is the web server for health, metrics, the dashboard and the API.
type HTTP struct {
	Listen string `yaml:"listen"`
	// APIToken lets the operator's own tools read every call through the API
	// (Authorization: Bearer <token>); empty turns that off.
	APIToken string `yaml:"api_token"`
	// SecureCookies marks session cookies Secure: set it when guardians reach the
	// dashboard through an HTTPS proxy.
	SecureCookies bool `yaml:"secure_cookies"`
}

// Media is the RTP relay.
type Media struct {
	// Ports is the UDP range the relay binds, "min-max".
	Ports string `yaml:"ports"`
	// Timeout ends an answered call when no RTP arrives from either side for this long.
	// Zero turns the check off.
	Timeout Duration `yaml:"timeout"`
	// RTCP relays RTCP on the port above each RTP port (four ports a call). Off, a call
	// takes two ports and peers' RTCP is not carried.
	RTCP bool `yaml:"rtcp"`
}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded configuration `clearline run` uses without --config.
func Default() (*Config, error) { return Parse(defaultYAML) }

// Load reads and checks the configuration file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Source is one YAML document of a configuration, named for error messages.
type Source struct {
	Name string
	YAML []byte
}

// Parse decodes YAML strictly over the defaults and checks every value.
func Parse(src []byte) (*Config, error) { return ParseSources(Source{YAML: src}) }

// ParseSources decodes each document in turn over the defaults — a later one's keys
// replace an earlier one's, a list whole — and checks the result. A problem names the
// key and the line of the last document that set it (the first is named only when a
// problem lies in a later one).
func ParseSources(srcs ...Source) (*Config, error) {
	c := defaults()
	files := make([]*ast.File, len(srcs))
	for i, s := range srcs {
		file, err := parser.ParseBytes(s.YAML, 0)
		if err != nil {
			return nil, fmt.Errorf("config: %s%s", prefix(srcs, i), yaml.FormatError(err, false, false))
		}
		files[i] = file
		if empty(file) {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(s.YAML), yaml.DisallowUnknownField(), yaml.Strict())
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config: %s%s", prefix(srcs, i), yaml.FormatError(err, false, false))
		}
	}
	if errs := c.check(); len(errs) > 0 {
		e := &Error{}
		for _, fe := range errs {
			p := Problem{Key: strings.TrimPrefix(fe.path, "$."), Msg: fe.msg}
			for i := len(files) - 1; i >= 0; i-- {
				if line := lineOf(files[i], fe.path); line > 0 {
					p.Line = line
					if i > 0 {
						p.File = srcs[i].Name
					}
					break
				}
			}
			e.Problems = append(e.Problems, p)
		}
		return nil, e
	}
	return c, nil
}

// prefix names the document a syntax error is in, when it is not the first.
func prefix(srcs []Source, i int) string {
	if i == 0 || srcs[i].Name == "" {
		return ""
	}
	return srcs[i].Name + ": "
}

// Error lists every bad value of a configuration.
type Error struct {
	Problems []Problem
}

// Problem is one bad value: its key (like phones[0].password), where it was written (File
// is empty for the first document), and what is wrong with it.
type Problem struct {
	Key  string
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.File != "":
		return fmt.Sprintf("%s (%s line %d): %s", p.Key, p.File, p.Line, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s (line %d): %s", p.Key, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Key, p.Msg)
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return "config: " + strings.Join(msgs, "; ")
}

// empty reports whether a document holds nothing but comments, so the defaults stand.
func empty(file *ast.File) bool {
	for _, d := range file.Docs {
		if d.Body != nil && d.Body.Type() != ast.CommentType {
			return false
		}
	}
	return true
}

// Duration is a time.Duration written as "45s" or "1m30s". A value that is not a duration
// is kept so that the check can name its key and line.
type Duration struct {
	v   time.Duration
	bad string
}

// Dur makes a Duration.
func Dur(v time.Duration) Duration { return Duration{v: v} }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		*d = Duration{bad: string(b)}
		return nil
	}
	*d = Duration{v: v}
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return d.v }

func (d Duration) check(path string, bad func(path, format string, args ...any)) {
	if d.bad != "" {
		bad(path, "%q is not a duration like 45s or 2m", d.bad)
	}
}

func defaults() *Config {
	return &Config{
		SIP:       SIP{Listen: "127.0.0.1:5060", Realm: "clearline", RingTimeout: Dur(45 * time.Second), Keepalive: Dur(30 * time.Second)},
		Trunk:     Trunk{Address: "127.0.0.1:5080", Transport: "udp", RegisterExpiry: Dur(time.Hour)},
		HTTP:      HTTP{Listen: "127.0.0.1:8080"},
		Media:     Media{Ports: "20000-29999", Timeout: Dur(60 * time.Second), RTCP: true},
		DataDir:   "./clearline-data",
		Emergency: []string{"999", "112"},
		Screening: Screening{DoNotOriginate: "block", Timezone: "Europe/London", Unknown: "allow", Ask: "warned",
			Warned: "ring", CarerWait: Dur(25 * time.Second), CarerFallback: "screen"},
		Callback:  Callback{Police: "101"},
		Codes:     Codes{BlockLast: "*84", ReportLast: "*85"},
		Household: Household{ID: "home", Name: "Home"},
		Hub:       Hub{Run: true, Listen: "127.0.0.1:4222", Replicas: 1, Report: true},
		Listening: Listening{Recogniser: "auto", Mode: "domain", ModelDir: "/usr/share/pocketsphinx/model/en-us", Decoders: 4,
			Warn: true, WarnAt: dash.DefaultWarnAt, Alert: true, AlertAt: dash.DefaultAlertAt},
	}
}

// fieldError is a problem with the value at a YAML path such as $.phones[0].password.
type fieldError struct {
	path string
	msg  string
}

// lineOf finds the line of path in the document, or of its nearest parent that is there.
func lineOf(file *ast.File, path string) int {
	for p := path; p != "$" && p != ""; {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(file); err == nil && n != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (c *Config) check() []fieldError {
	var errs []fieldError
	bad := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
	}
	if err := checkHostPort(c.SIP.Listen); err != nil {
		bad("$.sip.listen", "%v", err)
	}
	c.SIP.RingTimeout.check("$.sip.ring_timeout", bad)
	c.Trunk.RegisterExpiry.check("$.trunk.register_expiry", bad)
	c.Media.Timeout.check("$.media.timeout", bad)
	if c.SIP.RingTimeout.D() <= 0 {
		bad("$.sip.ring_timeout", "must be more than zero")
	}
	if err := checkServer(c.Trunk.Address); err != nil {
		bad("$.trunk.address", "%v", err)
	}
	if c.Trunk.Transport != "udp" && c.Trunk.Transport != "tcp" && c.Trunk.Transport != "tls" {
		bad("$.trunk.transport", "must be udp, tcp or tls, not %q", c.Trunk.Transport)
	}
	c.checkTLS(bad)
	c.SIP.Keepalive.check("$.sip.keepalive", bad)
	if a := c.SIP.ExternalAddress; a != "" {
		if ip, err := netip.ParseAddr(a); err != nil || ip.IsUnspecified() {
			bad("$.sip.external_address", "%q is not an IP address (the router's public address, like 203.0.113.7)", a)
		}
	}
	if s := c.SIP.STUN; s != "" {
		if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
			bad("$.sip.stun", "%q is not host:port of a STUN server (like stun.example.org:3478)", s)
		}
	}
	if c.SIP.BehindNAT() && c.SIP.Keepalive.D() < 5*time.Second && c.SIP.Keepalive.D() != 0 {
		bad("$.sip.keepalive", "%s is too often; 15s to 60s keeps a home router's mapping (0 turns it off)", c.SIP.Keepalive.D())
	}
	for i, s := range c.Trunk.InboundFrom {
		if _, err := ParsePrefix(s); err != nil {
			bad(fmt.Sprintf("$.trunk.inbound_from[%d]", i), "%v", err)
		}
	}
	for i, s := range c.SIP.LoadBalancers {
		if _, err := ParsePrefix(s); err != nil {
			bad(fmt.Sprintf("$.sip.load_balancers[%d]", i), "%v (the load balancer's address, like 192.0.2.5 or 192.0.2.0/29)", err)
		}
	}
	if d := c.Trunk.DID; d != "" {
		if _, err := screen.Canonical(d); err != nil {
			bad("$.trunk.did", "%v", err)
		}
	}
	if c.Trunk.Username != "" && c.Trunk.Password == "" {
		bad("$.trunk.password", "missing: trunk.username is set, so a password is needed")
	}
	seen := map[string]bool{}
	for i, p := range c.Phones {
		at := fmt.Sprintf("$.phones[%d]", i)
		for _, f := range []string{"user", "password", "contact"} {
			if msg, ok := p.Check()[f]; ok {
				bad(at+"."+f, "%s", msg)
			}
		}
		if p.User != "" && seen[p.User] {
			bad(at+".user", "%q is listed twice", p.User)
		}
		seen[p.User] = true
	}
	if err := checkHostPort(c.HTTP.Listen); err != nil {
		bad("$.http.listen", "%v", err)
	}
	if _, _, err := c.Media.PortRange(); err != nil {
		bad("$.media.ports", "%v", err)
	}
	if c.Media.Timeout.D() < 0 {
		bad("$.media.timeout", "must not be negative")
	}
	if c.DataDir == "" {
		bad("$.data_dir", "missing: the guard needs a directory for its database")
	}
	if d := c.Database; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		bad("$.database", "must be empty (SQLite in data_dir) or a postgres:// URL")
	}
	for i, n := range c.Screening.Allow {
		if _, err := screen.Canonical(n); err != nil {
			bad(fmt.Sprintf("$.screening.allow[%d]", i), "%v", err)
		}
	}
	for i, n := range c.Screening.Block {
		if _, err := screen.Canonical(n); err != nil {
			bad(fmt.Sprintf("$.screening.block[%d]", i), "%v", err)
		}
	}
	if p := c.Screening.CommunityBlocklist; p != "" {
		if _, err := screen.LoadList(p); err != nil {
			bad("$.screening.community_blocklist", "%v", err)
		}
	}
	if d := c.Screening.StirTrustStore; d != "" {
		if _, err := screen.LoadTrustStore(d); err != nil {
			bad("$.screening.stir_trust_store", "%v", err)
		}
	}
	if u := c.Screening.Unknown; u != "allow" && u != "screen" && u != "carer" {
		bad("$.screening.unknown", "must be allow, screen or carer, not %q", u)
	}
	if w := c.Screening.Warned; w != "ring" && w != "carer" {
		bad("$.screening.warned", "must be ring or carer, not %q", w)
	}
	c.Screening.CarerWait.check("$.screening.carer_wait", bad)
	if d := c.Screening.CarerWait.D(); c.Screening.CarerWait.bad == "" && (d < 5*time.Second || d > 2*time.Minute) {
		bad("$.screening.carer_wait", "%s: must be from 5s to 2m (how long the guardian's phone rings)", d)
	}
	if f := c.Screening.CarerFallback; f != "screen" && f != "ring" {
		bad("$.screening.carer_fallback", "must be screen or ring, not %q", f)
	}
	if _, err := claim.ParseAsking(c.Screening.Ask); err != nil {
		bad("$.screening.ask", "%v", err)
	}
	if a := c.Screening.DoNotOriginate; a != "block" && a != "warn" {
		bad("$.screening.do_not_originate", "must be block or warn, not %q", a)
	}
	loc, err := time.LoadLocation(c.Screening.Timezone)
	if err != nil {
		bad("$.screening.timezone", "%q is not a time zone like Europe/London", c.Screening.Timezone)
	}
	if q := c.Screening.QuietHours; q != "" && loc != nil {
		if _, err := screen.ParseQuietHours(q, loc); err != nil {
			bad("$.screening.quiet_hours", "%v", err)
		}
	}
	c.checkListening(bad)
	if !dash.ValidID(c.Household.ID) {
		bad("$.household.id", "%q must be 1 to 40 lowercase letters, digits or dashes, like mum-house", c.Household.ID)
	}
	if c.Household.Name == "" {
		bad("$.household.name", "missing: the name guardians see on the dashboard")
	}
	if err := CheckDistrict(c.Household.District); err != nil {
		bad("$.household.district", "%v", err)
	}
	c.checkHub(bad)
	if a := c.Alerts.SMTP.Address; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("$.alerts.smtp.address", "%q is not host:port", a)
		}
		if _, err := mail.ParseAddress(c.Alerts.SMTP.From); err != nil {
			bad("$.alerts.smtp.from", "%q is not an e-mail address to send from", c.Alerts.SMTP.From)
		}
	}
	if n := c.Callback.Police; n != "" {
		if _, err := screen.Canonical(n); err != nil {
			bad("$.callback.police", "%v", err)
		}
	}
	if n := c.Callback.Bank; n != "" {
		if _, err := screen.Canonical(n); err != nil {
			bad("$.callback.bank", "%v", err)
		}
	}
	for i, n := range c.Emergency {
		if n == "" || strings.Trim(n, "0123456789") != "" {
			bad(fmt.Sprintf("$.emergency[%d]", i), "%q is not a dialled number (digits only)", n)
		}
	}
	c.checkCodes(bad)
	return errs
}

func (c *Config) checkHub(bad func(path, format string, args ...any)) {
	h := c.Hub
	if h.Run || h.Listen != "" {
		if err := checkHostPort(h.Listen); err != nil {
			bad("$.hub.nats_listen", "%v", err)
		}
	}
	for _, u := range strings.Split(h.NATS, ",") {
		if u = strings.TrimSpace(u); u == "" && h.NATS == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "nats" && p.Scheme != "tls" && p.Scheme != "ws" && p.Scheme != "wss") || p.Host == "" {
			bad("$.hub.nats", "%q is not a NATS URL like nats://hub.example.org:4222", u)
		}
	}
	if h.Replicas < 1 || h.Replicas > 5 {
		bad("$.hub.replicas", "%d: must be 1 to 5 (3 on a three-node cluster)", h.Replicas)
	}
	if d := h.Database; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		bad("$.hub.database", "must be empty (SQLite in data_dir) or a postgres:// URL")
	}
}

// Chain builds the screening chain the configuration describes. Call it on a checked
// configuration: the lists load again here, so a file that changed since is re-read.
func (s Screening) Chain() (screen.Chain, error) { return s.ChainWith(nil) }

// ChainWith is Chain with the hub's shared block-list added to the community list.
func (s Screening) ChainWith(shared screen.List) (screen.Chain, error) {
	allow, err := screen.ListOf(s.Allow, "household")
	if err != nil {
		return nil, fmt.Errorf("screening.allow: %w", err)
	}
	block, err := screen.ListOf(s.Block, "household")
	if err != nil {
		return nil, fmt.Errorf("screening.block: %w", err)
	}
	community := screen.List{}
	if s.CommunityBlocklist != "" {
		if community, err = screen.LoadList(s.CommunityBlocklist); err != nil {
			return nil, fmt.Errorf("screening.community_blocklist: %w", err)
		}
	}
	for n, e := range shared {
		if _, ok := community[n]; !ok {
			community[n] = e
		}
	}
	set := screen.Settings{Allow: allow, Block: block, Community: community, DoNotOriginate: screen.Block, ScreenUnknown: s.Unknown != "allow"}
	if s.DoNotOriginate == "warn" {
		set.DoNotOriginate = screen.Warn
	}
	if s.StirTrustStore != "" {
		if set.Stir, err = screen.LoadTrustStore(s.StirTrustStore); err != nil {
			return nil, fmt.Errorf("screening.stir_trust_store: %w", err)
		}
	}
	if s.QuietHours != "" {
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("screening.timezone: %w", err)
		}
		q, err := screen.ParseQuietHours(s.QuietHours, loc)
		if err != nil {
			return nil, fmt.Errorf("screening.quiet_hours: %w", err)
		}
		set.Quiet = &q
	}
	return screen.NewChain(set), nil
}

// PortRange returns the relay's first and last port.
func (m Media) PortRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(m.Ports, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range like 20000-29999", m.Ports)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("%q is not a range like 20000-29999", m.Ports)
	case lo < 1024 || hi > 65535 || lo > hi:
		return 0, 0, fmt.Errorf("%q must lie within 1024-65535, low end first", m.Ports)
	case hi-lo < 1:
		return 0, 0, fmt.Errorf("%q has room for no call", m.Ports)
	}
	return lo, hi, nil
}

// ParsePrefix reads an IP address or a CIDR prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if host == "" {
		return fmt.Errorf("%q has no host; use 0.0.0.0 to listen everywhere", s)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("%q: host must be an IP address", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port must be 1-65535", s)
	}
	return nil
}

// checkServer checks a provider's address: host:port, the host an IP address or a DNS
// name (looked up when the guard starts).
func checkServer(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port, like sip.example.net:5060", s)
	}
	if _, err := netip.ParseAddr(host); err != nil && !isDNSName(host) {
		return fmt.Errorf("%q: host must be an IP address or a name like sip.example.net", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port must be 1-65535", s)
	}
	return nil
}

// isDNSName says whether s is a host name: dot-separated labels of letters, digits and
// inner dashes, with a letter in the last.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

func checkContact(s string) error {
	rest, ok := strings.CutPrefix(s, "sip:")
	if !ok {
		return fmt.Errorf("%q is not a sip: URI", s)
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		rest = rest[:i]
	}
	if !strings.Contains(rest, ":") {
		rest += ":5060"
	}
	if err := checkHostPort(rest); err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	return nil
}

func (c *Config) checkListening(bad func(path, format string, args ...any)) {
	l := c.Listening
	switch l.Recogniser {
	case "auto", "pocketsphinx", "none":
	case "external":
		if (l.External.Address == "") == (len(l.External.Command) == 0) {
			bad("$.listening.external", "set exactly one of address (host:port of a clearline-asr/1 server) and command (a program and its arguments)")
		}
		if l.External.Address != "" {
			if err := checkHostPort(l.External.Address); err != nil {
				bad("$.listening.external.address", "%v", err)
			}
		}
	default:
		bad("$.listening.recogniser", "must be auto, pocketsphinx, external or none, not %q", l.Recogniser)
	}
	if m := l.Mode; m != "domain" && m != "mixed" && m != "keyphrase" && m != "general" {
		bad("$.listening.mode", "must be domain, mixed, keyphrase or general, not %q", m)
	}
	if l.Decoders < 1 || l.Decoders > 64 {
		bad("$.listening.decoders", "must be from 1 to 64, not %d", l.Decoders)
	}
	for _, t := range []struct {
		path string
		v    float64
	}{{"$.listening.warn_at", l.WarnAt}, {"$.listening.alert_at", l.AlertAt}} {
		if err := dash.CheckThreshold(t.v); err != nil {
			bad(t.path, "%v", err)
		}
	}
}

// checkTLS checks the TLS listener's certificate and key, and the provider's CA file.
func (c *Config) checkTLS(bad func(path, format string, args ...any)) {
	s := c.SIP
	if s.TLSListen != "" {
		if err := checkHostPort(s.TLSListen); err != nil {
			bad("$.sip.tls_listen", "%v", err)
		}
		switch {
		case s.TLSCert == "":
			bad("$.sip.tls_cert", "missing: sip.tls_listen needs the guard's certificate (a PEM file)")
		case s.TLSKey == "":
			bad("$.sip.tls_key", "missing: sip.tls_listen needs the certificate's private key (a PEM file)")
		default:
			if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
				bad("$.sip.tls_cert", "%s and %s are not a certificate and its key: %v", s.TLSCert, s.TLSKey, err)
			}
		}
	} else if s.TLSCert != "" || s.TLSKey != "" {
		bad("$.sip.tls_listen", "missing: a certificate is given, so say where to listen for TLS (like 0.0.0.0:5061)")
	}
	if f := c.Trunk.TLSCA; f != "" {
		if _, err := LoadCAs(f); err != nil {
			bad("$.trunk.tls_ca", "%v", err)
		}
	}
}

// LoadCAs reads a PEM file of certificate authorities.
func LoadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
