package guard

import (
	"sort"
	"time"
)

// Status is what the dashboard tells a carer about the guard's line: whether the provider
// took its registration, and which phones can be rung.
type Status struct {
	Trunk  TrunkStatus
	Phones []PhoneStatus
}

// TrunkStatus is the guard's registration to the provider.
type TrunkStatus struct {
	Address string
	// Registers says whether the guard registers at all (trunk.username is set).
	Registers bool
	// Registered is true after the provider accepted the last REGISTER; Error says why
	// the last one failed. At is when either happened (zero before the first answer).
	Registered bool
	Error      string
	At         time.Time
}

// PhoneStatus is one handset: a static contact, or the addresses it registered from.
type PhoneStatus struct {
	User     string
	Static   string
	Contacts []string
}

// Reachable says whether the guard can ring the phone.
func (p PhoneStatus) Reachable() bool { return p.Static != "" || len(p.Contacts) > 0 }

// Status reads the guard's line as it is now.
func (g *Guard) Status() Status {
	s := Status{Trunk: TrunkStatus{Address: g.cfg.Trunk.Address, Registers: g.cfg.Trunk.Username != ""}}
	if r := g.reg.Load(); r != nil {
		s.Trunk = *r
	}
	s.Phones = g.configHome().phones.status(time.Now())
	return s
}

// registration records the provider's answer to a REGISTER.
func (g *Guard) registration(err error) {
	r := &TrunkStatus{Address: g.cfg.Trunk.Address, Registers: true, Registered: err == nil, At: time.Now()}
	if err != nil {
		r.Error = err.Error()
	}
	g.reg.Store(r)
}

// status lists every phone with where it can be rung.
func (p *phones) status(now time.Time) []PhoneStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PhoneStatus, 0, len(p.order))
	for _, user := range p.order {
		ph := p.users[user]
		st := PhoneStatus{User: user}
		if ph.static != nil {
			st.Static = ph.static.String()
		}
		for _, b := range ph.bindings {
			if now.Before(b.expires) {
				st.Contacts = append(st.Contacts, hostPort(b.uri))
			}
		}
		sort.Strings(st.Contacts)
		out = append(out, st)
	}
	return out
}
