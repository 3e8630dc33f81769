// Package guard is clearline's SIP back-to-back agent. It sits between the household's
// phones and the provider's trunk and makes every call two dialogs it owns:
//
//	trunk ──INVITE──▶ guard ──INVITE (fork)──▶ every registered phone   (inbound)
//	phone ──INVITE──▶ guard ──INVITE──────────▶ trunk                   (outbound)
//
// Media is anchored in the guard's relay. When either leg ends — BYE, CANCEL, an error or
// silence past the RTP timeout — the other leg is released at once, so a caller who "stays
// on the line" holds nothing and the household's next INVITE is always a fresh call.
// Emergency numbers are routed before authentication or anything else runs, and nothing on
// a call's path waits for storage: call records go to a Recorder that never blocks.
package guard

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/speech"
)

// Recorder takes call events for storage; it must not block.
type Recorder interface {
	Record(call.Event)
}

// Metrics receives what the guard counts.
type Metrics interface {
	CallStarted(call.Direction)
	CallEnded(call.Call)
	// Teardown observes the time from one leg's end to the other leg's release.
	Teardown(time.Duration)
	AuthFailed()
	Malformed()
	// Prompt counts a spoken prompt played to the end.
	Prompt(name string)
}

// Guard is a running B2BUA.
type Guard struct {
	cfg       *config.Config
	log       *slog.Logger
	rec       Recorder
	metrics   Metrics
	relay     *media.Relay
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	udp, tcp  *sipgo.DialogUA
	tls       *sipgo.DialogUA // nil without sip.tls_listen or a TLS trunk
	tlsServer *tls.Config
	public    atomic.Pointer[netip.Addr] // the router's public address, behind NAT (nat.go)
	host      string                     // the guard's IP, for URIs and SDP
	port      int
	homes     atomic.Pointer[homes] // every household served; replaced whole (homes.go)
	homesMu   sync.Mutex            // serialises SetHouseholds
	remote    *remoteBindings       // other guards' registrations (location.go)
	location  Location              // nil: registrations stay here
	memory    func(MemoryEvent)     // nil: what calls teach stays here (memory.go)
	base      atomic.Pointer[rules] // a new household's screening until its own is set
	digest    *diago.DigestAuthServer
	throttle  *throttle
	trunk     trunk
	lbs       []netip.Prefix              // sip.load_balancers (source.go)
	reg       atomic.Pointer[TrunkStatus] // the provider's last answer to a REGISTER
	listener  *listen.Listener
	// grammar hears asked callers' answers; nil when there is no recogniser for it, and
	// then no caller is asked.
	grammar   speech.Grammar
	claims    *claim.Catalogue
	carers    func(ctx context.Context, household string) ([]Carer, error)
	emergency map[string]bool
	// handset saves what the handset codes change (handset.go).
	handset Handset

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	legs  map[string]*leg    // by SIP Call-ID, every dialog of every live call
	calls map[string]*bridge // by call ID
	// recent are the last calls to end, as they ended (remote.go).
	recent recentCalls
}

// SetRules replaces the screening chain and the safe call-back directory; the next call
// uses them. A nil chain allows every call.
func (g *Guard) SetRules(chain screen.Chain, callback config.Callback) {
	g.configHome().setRules(chain, callback)
}

// SetAsking sets which callers are asked who they are; the next call uses it.
func (g *Guard) SetAsking(a claim.Asking, unknownScreened bool) {
	g.configHome().asks.Store(&askRules{ask: a, unknownScreened: unknownScreened})
}

// SetCarer sets screening.unknown and screening.warned as the household has them now: with
// carer, a guardian decides about those callers first. The next call uses them.
func (g *Guard) SetCarer(unknown, warned string) {
	g.configHome().carer.Store(&carerRules{unknown: unknown, warned: warned})
}

// configHome is the configuration file's household.
func (g *Guard) configHome() *household { return g.homes.Load().config }

// Options are what New needs besides the configuration.
type Options struct {
	Log      *slog.Logger
	Recorder Recorder
	Metrics  Metrics
	Media    media.Stats
	// Screening judges inbound calls; nil allows every call.
	Screening screen.Chain
	// Listener analyses what callers say in answered calls; nil listens to nothing.
	Listener *listen.Listener
	// Grammar hears the answers of callers the guard asks who they are; nil asks no one.
	Grammar speech.Grammar
	// Handset saves the blocks the handset codes make; nil when there is no store.
	Handset Handset
	// Location shares registrations with the other guards of a service; nil keeps them here.
	Location Location
	// Memory is told every change of what a household's calls taught the guard, for the
	// other guards of a service (their Remember); it must not block. Nil keeps it here.
	Memory func(MemoryEvent)
	// Carers lists the household's guardians the guard may ring for Carer Check, first
	// to ring first; nil rings no one (Carer Check then goes straight to its fallback).
	Carers func(ctx context.Context, household string) ([]Carer, error)
}

// udpLimit lets the SIP stack send any datagram UDP can carry. The guard keeps to RFC 3261
// §18.1.1 itself: a request over 1,300 bytes goes over TCP when the peer takes it
// (transport.go), and over UDP, fragmented, only when it does not; a response goes back
// the way its request came, whatever its size.
var udpLimit sync.Once

// New builds a guard from a checked configuration; Serve starts it.
func New(cfg *config.Config, o Options) (*Guard, error) {
	udpLimit.Do(func() { sip.UDPMTUSize = 65535 + 200 })
	host, portStr, _ := net.SplitHostPort(cfg.SIP.Listen)
	port, _ := strconv.Atoi(portStr)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("guard: sip.listen: %w", err)
	}
	if ip.IsUnspecified() {
		return nil, fmt.Errorf("guard: sip.listen %s: give the address phones and the trunk reach, not a wildcard", cfg.SIP.Listen)
	}
	lo, hi, _ := cfg.Media.PortRange()
	tr, err := newTrunk(cfg.Trunk)
	if err != nil {
		return nil, err
	}
	tlsServer, tlsClient, err := tlsConfigs(cfg)
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("clearline"), sipgo.WithUserAgentHostname(host), sipgo.WithUserAgenTLSConfig(tlsClient),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerParseErrorHandler(func(data []byte, err error) []byte {
			o.Metrics.Malformed()
			return answerUnparsed(data, err)
		})))
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(o.Log.With("part", "sip")))
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	// UDP requests leave from the listening socket, so phones and the trunk see one address.
	udpClient, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port), sipgo.WithClientNAT(),
		sipgo.WithClientConnectionAddr(cfg.SIP.Listen), sipgo.WithClientLogger(o.Log.With("part", "sip")))
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	tcpClient, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientNAT(), sipgo.WithClientLogger(o.Log.With("part", "sip")))
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "clearline", Host: host, Port: port}}
	tcpContact := contact
	tcpContact.Address.UriParams = sip.NewParams()
	tcpContact.Address.UriParams.Add("transport", "tcp")
	var tlsUA *sipgo.DialogUA
	if tlsServer != nil || cfg.Trunk.Transport == "tls" {
		tlsContact := contact
		tlsContact.Address.UriParams = sip.NewParams()
		tlsContact.Address.UriParams.Add("transport", "tls")
		if cfg.SIP.TLSListen != "" {
			_, p, _ := net.SplitHostPort(cfg.SIP.TLSListen)
			tlsContact.Address.Port, _ = strconv.Atoi(p)
		}
		tlsUA = &sipgo.DialogUA{Client: tcpClient, ContactHDR: tlsContact, RewriteContact: true}
	}
	g := &Guard{
		cfg:     cfg,
		log:     o.Log,
		rec:     o.Recorder,
		metrics: o.Metrics,
		relay:   newRelay(ip, lo, hi, o.Media, cfg.Media.RTCP),
		ua:      ua,
		srv:     srv,
		udp:     &sipgo.DialogUA{Client: udpClient, ContactHDR: contact},
		// Over a stream, requests inside a dialog go back over the connection it came on:
		// a phone's Contact is often a port it takes no connections on.
		tcp:       &sipgo.DialogUA{Client: tcpClient, ContactHDR: tcpContact, RewriteContact: true},
		tls:       tlsUA,
		tlsServer: tlsServer,
		host:      host,
		port:      port,
		digest:    diago.NewDigestServer(),
		throttle:  newThrottle(5, time.Minute, time.Minute),
		trunk:     tr,
		lbs:       loadBalancers(cfg.SIP.LoadBalancers),
		listener:  o.Listener,
		grammar:   o.Grammar,
		handset:   o.Handset,
		carers:    o.Carers,
		claims:    claim.Builtin(),
		emergency: map[string]bool{},
		remote:    newRemoteBindings(),
		location:  o.Location,
		memory:    o.Memory,
		legs:      map[string]*leg{},
		calls:     map[string]*bridge{},
	}
	for _, n := range cfg.Emergency {
		g.emergency[n] = true
	}
	if a := cfg.SIP.ExternalAddress; a != "" {
		ip, _ := netip.ParseAddr(a) // checked by config
		g.public.Store(&ip)
	}
	g.homes.Store(newHomes(g.adopt(newHousehold(cfg))))
	g.SetRules(o.Screening, cfg.Callback)
	base := cfg.Screening
	base.Allow, base.Block = nil, nil // the file's lists are its own household's
	baseChain, err := base.Chain()
	if err != nil {
		return nil, fmt.Errorf("guard: screening: %w", err)
	}
	if o.Screening == nil {
		baseChain = screen.Chain{} // a guard told to screen nothing screens no household
	}
	g.base.Store(&rules{chain: baseChain, callback: config.Callback{Police: cfg.Callback.Police}})
	ask, err := claim.ParseAsking(cfg.Screening.Ask)
	if err != nil {
		return nil, fmt.Errorf("guard: screening.ask: %w", err)
	}
	g.SetAsking(ask, cfg.Screening.Unknown != "allow")
	g.SetCarer(cfg.Screening.Unknown, cfg.Screening.Warned)
	srv.OnInvite(g.safe(g.onInvite))
	srv.OnAck(g.safe(g.onAck))
	srv.OnBye(g.safe(g.onBye))
	srv.OnCancel(g.safe(g.onCancel))
	srv.OnRegister(g.safe(g.onRegister))
	srv.OnInfo(g.safe(g.onInfo))
	srv.OnRequest(sip.UPDATE, g.safe(g.onOffer))
	srv.OnRequest(sip.PRACK, g.safe(g.onPrack))
	srv.OnOptions(g.safe(g.onOptions))
	srv.OnNoRoute(g.safe(func(req *sip.Request, tx sip.ServerTransaction) {
		if r := checkMethod(req); r != nil {
			g.refuse(tx, req, r)
		}
	}))
	return g, nil
}

// Serve listens on UDP and TCP and runs until ctx ends; then it releases every call.
func (g *Guard) Serve(ctx context.Context) error {
	g.ctx, g.cancel = context.WithCancel(ctx)
	udp, err := net.ListenPacket("udp", g.cfg.SIP.Listen)
	if err != nil {
		return fmt.Errorf("guard: sip udp: %w", err)
	}
	tcp, err := net.Listen("tcp", g.cfg.SIP.Listen)
	if err != nil {
		udp.Close()
		return fmt.Errorf("guard: sip tcp: %w", err)
	}
	errc := make(chan error, 3)
	go func() { errc <- g.srv.ServeUDP(udp) }()
	go func() { errc <- g.srv.ServeTCP(tcp) }()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.lookupTrunk(g.ctx, net.DefaultResolver.LookupNetIP)
	}()
	if g.tlsServer != nil {
		tl, err := tls.Listen("tcp", g.cfg.SIP.TLSListen, g.tlsServer)
		if err != nil {
			udp.Close()
			tcp.Close()
			return fmt.Errorf("guard: sip tls: %w", err)
		}
		defer tl.Close()
		go func() { errc <- g.srv.ServeTLS(tl) }()
	}
	if s := g.cfg.SIP; s.STUN != "" && s.ExternalAddress == "" {
		go g.discoverPublic(g.ctx, s.STUN, 5*time.Minute)
	}
	if s := g.cfg.SIP; s.BehindNAT() && s.Keepalive.D() > 0 {
		go g.keepAlive(g.ctx, s.Keepalive.D())
	}
	if g.cfg.Trunk.Username != "" {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.registerTrunk(g.ctx)
		}()
	}
	g.log.Info("guard listening", "sip", g.cfg.SIP.Listen, "trunk", g.cfg.Trunk.Address, "phones", len(g.cfg.Phones))
	select {
	case <-g.ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("guard: sip listener: %w", err)
	}
	// Under g.mu, so that a call that add counted is counted before Wait starts,
	// and any call after it sees the cancelled context and is refused.
	g.mu.Lock()
	g.cancel()
	g.mu.Unlock()
	g.waitCalls(5 * time.Second) // every bridge releases its legs on g.ctx
	udp.Close()
	tcp.Close()
	g.ua.Close()
	g.digest.Close()
	return err
}

// waitCalls waits for the bridges to finish, but not for peers that never answer.
func (g *Guard) waitCalls(limit time.Duration) {
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		g.log.Warn("stopping with calls still winding down", "calls", g.Active())
	}
}

// Active is the number of calls in progress.
func (g *Guard) Active() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// safe keeps one bad request from taking the guard, and every call on it, down, and
// refuses requests that are not well-formed SIP/2.0 before any handler sees them. An ACK
// is never answered (RFC 3261 §17.1.1.3).
func (g *Guard) safe(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if p := recover(); p != nil {
				g.log.Error("request handler panicked", "method", req.Method.String(), "source", req.Source(), "via", req.GetHeader(sourceHeader), "panic", p, "stack", string(debug.Stack()))
				if !req.IsAck() {
					respond(tx, req, sip.StatusInternalServerError, "Server Internal Error")
				}
			}
		}()
		if !req.IsAck() {
			if r := checkSyntax(req); r != nil {
				g.metrics.Malformed()
				g.refuse(tx, req, r)
				return
			}
			if r := g.checkSource(req); r != nil {
				g.metrics.Malformed()
				g.refuse(tx, req, r)
				return
			}
		}
		h(req, tx)
	}
}

// refuse answers req with r.
func (g *Guard) refuse(tx sip.ServerTransaction, req *sip.Request, r *refusal) {
	respond(tx, req, r.code, r.reason, append(r.headers, warning(r.why))...)
}

// onOptions answers OPTIONS with what the guard can do (RFC 3261 §11.2).
func (g *Guard) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if r := checkRequire(req); r != nil {
		g.refuse(tx, req, r)
		return
	}
	respond(tx, req, sip.StatusOK, "OK", allowHeader(), sip.NewHeader("Accept", "application/sdp"))
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, headers ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range headers {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// warning explains a refusal in words, in a Warning header (RFC 3261 20.43).
func warning(text string) sip.Header {
	return sip.NewHeader("Warning", "399 clearline "+strconv.Quote(text))
}

func (g *Guard) dialogUA(transport string) *sipgo.DialogUA {
	switch transport {
	case "tcp", "TCP":
		return g.tcp
	case "tls", "TLS":
		if g.tls != nil {
			return g.tls
		}
	}
	return g.udp
}

func newRelay(ip netip.Addr, lo, hi int, stats media.Stats, rtcp bool) *media.Relay {
	r := media.NewRelay(ip, lo, hi, stats)
	r.NoRTCP = !rtcp
	return r
}
