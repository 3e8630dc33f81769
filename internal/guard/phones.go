package guard

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/config"
)

// phones is the household's handsets: the configured users and where each can be reached,
// by registration or by a static contact.
type phones struct {
	mu    sync.Mutex
	users map[string]*phone
	order []string
	// remote are the bindings other guards of the service took (location.go); nil on a
	// guard alone.
	remote *remoteBindings
}

type phone struct {
	user, password string
	static         *sip.Uri
	bindings       map[string]binding // by contact URI
}

type binding struct {
	uri     sip.Uri
	expires time.Time
	// flow is the address a phone registered from over TCP or TLS: requests to it go back
	// over that connection (RFC 5626 §5.3, RFC 3261 §18.2.2 in spirit), as a phone behind
	// TLS usually cannot take a connection of the guard's.
	flow string
	// path is the route set toward the phone, from the REGISTER's Path (RFC 3327 §5): kept
	// only from a load balancer, which then delivers the guard's requests to the phone.
	path []sip.Uri
}

// target is where to ring b, a binding of user's: along its path when it has one (the first
// hop, the load balancer, decides the transport), else over its flow or to its contact.
func (b binding) target(user string) target {
	if len(b.path) > 0 {
		return target{user: user, uri: b.uri, transport: uriTransport(b.path[0]), route: b.path}
	}
	return target{user: user, uri: b.uri, transport: uriTransport(b.uri), flow: b.flow}
}

// target is one place to ring.
type target struct {
	user      string
	uri       sip.Uri
	transport string
	flow      string    // the connection to reuse (a phone's registration over TCP or TLS)
	route     []sip.Uri // Route headers to send it with, in order (a registration's Path)
	// username and password answer a digest challenge from the target (the trunk).
	username, password string
}

func newPhones(cfg []config.Phone) *phones {
	p := &phones{users: map[string]*phone{}}
	p.update(cfg)
	return p
}

// update makes the handsets cfg's. A phone kept keeps its registrations; a phone removed
// loses them.
func (p *phones) update(cfg []config.Phone) {
	p.mu.Lock()
	defer p.mu.Unlock()
	users := make(map[string]*phone, len(cfg))
	order := make([]string, 0, len(cfg))
	for _, c := range cfg {
		ph := &phone{user: c.User, password: c.Password, bindings: map[string]binding{}}
		if old, ok := p.users[c.User]; ok {
			ph.bindings = old.bindings
		}
		if c.Contact != "" {
			var u sip.Uri
			if err := sip.ParseUri(c.Contact, &u); err == nil {
				ph.static = &u
			}
		}
		users[c.User] = ph
		order = append(order, c.User)
	}
	p.users, p.order = users, order
}

// names lists the phones' user names.
func (p *phones) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.order...)
}

func (p *phones) password(user string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph, ok := p.users[user]
	if !ok {
		return "", false
	}
	return ph.password, true
}

// targets lists every reachable contact of every phone, static ones first.
func (p *phones) targets(now time.Time) []target {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []target
	for _, user := range p.order {
		ph := p.users[user]
		if ph.static != nil {
			ts = append(ts, target{user: user, uri: *ph.static, transport: uriTransport(*ph.static)})
		}
		keys := make([]string, 0, len(ph.bindings))
		for k, b := range ph.bindings {
			if now.After(b.expires) {
				delete(ph.bindings, k)
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ts = append(ts, ph.bindings[k].target(user))
		}
		ts = append(ts, p.remote.targets(user, ph.bindings, now)...)
	}
	return ts
}

// bind records (or with expires zero, removes) a contact for user, reached along path, or
// over flow if that is not empty. A contact removed here is removed from other guards'
// bindings too (the shared location service removes it there).
func (p *phones) bind(user string, u sip.Uri, expires time.Duration, now time.Time, flow string, path []sip.Uri) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph, ok := p.users[user]
	if !ok {
		return // removed since it authenticated
	}
	key := u.String()
	if expires <= 0 {
		delete(ph.bindings, key)
		p.remote.forget(user, key)
		return
	}
	ph.bindings[key] = binding{uri: u, expires: now.Add(expires), flow: flow, path: path}
}

func (p *phones) unbindAll(user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ph, ok := p.users[user]; ok {
		ph.bindings = map[string]binding{}
		p.remote.drop(user)
	}
}

// current lists user's live contacts, this guard's and other guards', with their remaining
// lifetimes (RFC 3261 §10.3 step 8: every current binding).
func (p *phones) current(user string, now time.Time) []sip.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	var hs []sip.Header
	ph, ok := p.users[user]
	if !ok {
		return nil
	}
	for _, b := range append(slices.Collect(maps.Values(ph.bindings)), p.remote.live(user, ph.bindings, now)...) {
		if left := b.expires.Sub(now); left > 0 {
			hs = append(hs, sip.NewHeader("Contact", "<"+b.uri.String()+">;expires="+strconv.Itoa(int(left.Seconds()+0.5))))
		}
	}
	return hs
}

func uriTransport(u sip.Uri) string {
	if u.UriParams != nil {
		if t, ok := u.UriParams.Get("transport"); ok {
			return strings.ToLower(t)
		}
	}
	return "udp"
}
