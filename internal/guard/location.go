package guard

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Several guards of one service, behind a load balancer, share their phones' registrations
// through a location service (the shared database): each guard writes the bindings it takes
// (Location), and is given the bindings the others took (SetRemoteBindings). A phone
// registered through one guard is then rung by any of them: along the Path its REGISTER
// came with (RFC 3327), through the load balancer, which holds the phone's own UDP mapping
// or TCP/TLS connection. A binding over a connection to another guard itself (a phone that
// registered to it directly over TCP or TLS) cannot be reached from here and is skipped.

// Location shares registrations with the other guards of a service.
type Location interface {
	// Put is a binding this guard took, refreshed, or (Expires zero) removed; it must not
	// block.
	Put(b Binding)
	// DropAll is a Contact: * through this guard: every binding of user goes, whichever
	// guard took it (RFC 3261 §10.3 step 6).
	DropAll(user string)
}

// Binding is one registered contact of a phone.
type Binding struct {
	User    string
	Contact sip.Uri
	// Path is the route set toward the phone (the REGISTER's Path, from a load balancer).
	Path []sip.Uri
	// Flow is the address of the phone's TCP or TLS connection to the guard that took it
	// ("" through a load balancer or over UDP).
	Flow    string
	Expires time.Time
}

// SetRemoteBindings replaces one user's bindings taken by other guards (from the shared
// location service).
func (g *Guard) SetRemoteBindings(user string, bs []Binding) {
	g.remote.set(user, bs)
}

// ReplaceRemoteBindings replaces every user's remote bindings at once (after a resync);
// users absent get none.
func (g *Guard) ReplaceRemoteBindings(all map[string][]Binding) {
	g.remote.replace(all)
}

// RegisteredContacts counts the phones' live registered contacts, taken by this guard or
// by other guards of the service (clearline_registered_contacts).
func (g *Guard) RegisteredContacts() int {
	now := time.Now()
	n := 0
	for _, h := range g.homes.Load().byID {
		n += h.phones.registered(now)
	}
	return n
}

// UnreachableBindings counts the times a phone was not rung at a binding another guard took
// over its own connection to the phone (clearline_unreachable_bindings_total).
func (g *Guard) UnreachableBindings() int64 {
	return g.remote.unreachable.Load()
}

// share tells the location service about a binding this guard took or removed.
func (g *Guard) share(b Binding) {
	if g.location != nil {
		g.location.Put(b)
	}
}

// remoteBindings are the bindings other guards took: user → contact → binding. Methods are
// safe on a nil *remoteBindings (a household built without a guard, in tests).
type remoteBindings struct {
	mu    sync.Mutex
	users map[string]map[string]binding
	// unreachable counts bindings skipped when ringing (another guard's connection).
	unreachable atomic.Int64
}

func newRemoteBindings() *remoteBindings {
	return &remoteBindings{users: map[string]map[string]binding{}}
}

func toBindings(bs []Binding) map[string]binding {
	m := make(map[string]binding, len(bs))
	for _, b := range bs {
		if b.Expires.IsZero() {
			continue
		}
		m[b.Contact.String()] = binding{uri: b.Contact, expires: b.Expires, flow: b.Flow, path: append([]sip.Uri(nil), b.Path...)}
	}
	return m
}

func (r *remoteBindings) set(user string, bs []Binding) {
	m := toBindings(bs)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(m) == 0 {
		delete(r.users, user)
		return
	}
	r.users[user] = m
}

func (r *remoteBindings) replace(all map[string][]Binding) {
	users := make(map[string]map[string]binding, len(all))
	for user, bs := range all {
		if m := toBindings(bs); len(m) > 0 {
			users[user] = m
		}
	}
	r.mu.Lock()
	r.users = users
	r.mu.Unlock()
}

// live is user's unexpired remote bindings whose contact is not among local, by contact.
func (r *remoteBindings) live(user string, local map[string]binding, now time.Time) []binding {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.users[user]
	keys := make([]string, 0, len(m))
	for k, b := range m {
		if now.After(b.expires) {
			delete(m, k)
			continue
		}
		if _, mine := local[k]; !mine {
			keys = append(keys, k)
		}
	}
	if len(m) == 0 {
		delete(r.users, user)
	}
	sort.Strings(keys)
	out := make([]binding, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// targets are where to ring user at other guards' bindings: along a binding's path; one
// over another guard's own connection to the phone is skipped, and counted.
func (r *remoteBindings) targets(user string, local map[string]binding, now time.Time) []target {
	var ts []target
	for _, b := range r.live(user, local, now) {
		if b.flow != "" && len(b.path) == 0 {
			r.unreachable.Add(1)
			continue
		}
		t := b.target(user)
		t.flow = "" // another guard's connection, never this one's
		ts = append(ts, t)
	}
	return ts
}

// forget removes one remote binding (the phone removed it through this guard).
func (r *remoteBindings) forget(user, contact string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users[user], contact)
}

// drop removes every remote binding of user (Contact: * through this guard).
func (r *remoteBindings) drop(user string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, user)
}

// registered counts the phones' live contacts, this guard's and other guards'.
func (p *phones) registered(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ph := range p.users {
		for _, b := range ph.bindings {
			if !now.After(b.expires) {
				n++
			}
		}
		n += len(p.remote.live(ph.user, ph.bindings, now))
	}
	return n
}

// pathOf reads a REGISTER's Path header values in order (RFC 3327 §5.3); a value that is
// not a SIP URI is an error naming it.
func pathOf(req *sip.Request) ([]sip.Uri, error) {
	var path []sip.Uri
	for _, h := range req.GetHeaders("Path") {
		for _, v := range splitAddresses(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(v, &u, &params); err != nil || (u.Scheme != "sip" && u.Scheme != "sips") || u.Host == "" {
				return nil, fmt.Errorf("a Path value %q is not a SIP URI", v)
			}
			path = append(path, u)
		}
	}
	return path, nil
}

// splitAddresses splits a header value holding several name-addrs at the commas outside
// quotes and angle brackets.
func splitAddresses(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" || len(out) > 0 {
		out = append(out, s)
	}
	return out
}

// supportsPath says whether a REGISTER says Supported: path (RFC 3327 §5.3: the registrar
// then echoes the Path it stored in its 200).
func supportsPath(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Supported") {
		for _, o := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(o), "path") {
				return true
			}
		}
	}
	return false
}

// addRoute puts a target's route set on a request to it, in order: sipgo sends a request
// to its first Route (loose routing, RFC 3261 §16.12), the load balancer, which takes it on
// to the phone.
func (t target) addRoute(req *sip.Request) {
	for _, r := range t.route {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
}
