package guard

import (
	"fmt"
	"sort"

	"github.com/emiago/sipgo/sip"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/screen"
)

// Home is a household as the store keeps it, for the guard to serve: the numbers its calls
// come in on and go out with, and its phones. The configuration file's household may be one
// too: its numbers and phones are then added to the file's.
type Home struct {
	ID       string
	District string
	Numbers  []string // E.164; the first is the number its calls go out with
	Phones   []config.Phone
}

// homes is every household the guard serves, found by the number called or a phone's user
// name. It is replaced whole (SetHouseholds) and read without locks.
type homes struct {
	// config is the configuration file's household. Without a trunk.did it takes every
	// inbound call no other household's number matches, as a one-home guard does.
	config   *household
	byID     map[string]*household
	byNumber map[string]*household // canonical number
	byPhone  map[string]*household // SIP user name
}

func newHomes(config *household) *homes {
	d := &homes{config: config, byID: map[string]*household{}, byNumber: map[string]*household{}, byPhone: map[string]*household{}}
	d.add(config)
	return d
}

func (d *homes) add(h *household) {
	d.byID[h.id] = h
	for _, n := range h.line.Load().numbers {
		d.byNumber[n] = h
	}
	for _, u := range h.phones.names() {
		d.byPhone[u] = h
	}
}

// inbound finds the household a trunk call is for: a number or phone named by the
// Request-URI, then by To, else the configuration's household when the call is for it.
func (d *homes) inbound(req *sip.Request) (*household, bool) {
	users := []string{req.Recipient.User}
	if to := req.To(); to != nil && to.Address.User != req.Recipient.User {
		users = append(users, to.Address.User)
	}
	for _, u := range users {
		if u == "" {
			continue
		}
		if h, ok := d.byPhone[u]; ok {
			return h, true
		}
		if len(d.byNumber) > 0 {
			if n, err := screen.Canonical(u); err == nil {
				if h, ok := d.byNumber[n]; ok {
					return h, true
				}
			}
		}
	}
	if d.config.answersTo(req.Recipient.User) {
		return d.config, true
	}
	return nil, false
}

// ofPhone is the household of the phone with SIP user name user; a name no phone has is
// the configuration's household's (an emergency call from it still goes out as that
// household's, and anything else fails authentication).
func (d *homes) ofPhone(user string) *household {
	if h, ok := d.byPhone[user]; ok {
		return h
	}
	return d.config
}

// SetHouseholds puts the store's households in force: the next call and REGISTER find them.
// A household already served keeps what its calls taught the guard and its phones'
// registrations; a new one starts with the configuration's screening (without the file's
// own lists), until SetChoices gives it its own. A number or user name that two households
// claim is refused, and nothing changes.
func (g *Guard) SetHouseholds(hs []Home) error {
	g.homesMu.Lock()
	defer g.homesMu.Unlock()
	old := g.homes.Load()
	cfgHome := old.config
	d := newHomes(cfgHome)
	cfgLine := *cfgHome.line.Load()
	cfgLine.numbers = nil
	if n, err := screen.Canonical(cfgLine.did); err == nil && cfgLine.did != "" {
		cfgLine.numbers = []string{n}
	}
	cfgPhones := append([]config.Phone(nil), g.cfg.Phones...)
	type update struct {
		h      *household
		line   *line
		phones []config.Phone
	}
	var updates []update
	numbers := map[string]string{}
	users := map[string]string{}
	for _, p := range g.cfg.Phones {
		users[p.User] = cfgHome.id
	}
	for _, n := range cfgLine.numbers {
		numbers[n] = cfgHome.id
	}
	for _, home := range hs {
		for _, n := range home.Numbers {
			if other, taken := numbers[n]; taken && other != home.ID {
				return fmt.Errorf("guard: number %s is both household %s's and %s's", n, other, home.ID)
			}
			numbers[n] = home.ID
		}
		for _, p := range home.Phones {
			if other, taken := users[p.User]; taken {
				return fmt.Errorf("guard: phone user name %s is both household %s's and %s's", p.User, other, home.ID)
			}
			users[p.User] = home.ID
		}
		if home.ID == cfgHome.id {
			cfgLine.numbers = append(cfgLine.numbers, home.Numbers...)
			cfgPhones = append(cfgPhones, home.Phones...)
			continue
		}
		h := old.byID[home.ID]
		if h == nil {
			h = g.newStoreHousehold(home.ID)
		}
		l := &line{numbers: home.Numbers, district: home.District}
		if len(home.Numbers) > 0 {
			l.did = home.Numbers[0]
		}
		updates = append(updates, update{h, l, home.Phones})
	}
	cfgHome.line.Store(&cfgLine)
	cfgHome.phones.update(cfgPhones)
	d.add(cfgHome)
	for _, u := range updates {
		u.h.line.Store(u.line)
		u.h.phones.update(u.phones)
		d.add(u.h)
	}
	g.homes.Store(d)
	return nil
}

// newStoreHousehold is a household from the store, with the configuration's screening
// until its own choices are set.
func (g *Guard) newStoreHousehold(id string) *household {
	h := g.adopt(&household{id: id, phones: newPhones(nil)})
	h.line.Store(&line{})
	h.rules.Store(g.base.Load())
	h.asks.Store(g.homes.Load().config.asks.Load())
	h.carer.Store(g.homes.Load().config.carer.Load())
	return h
}

// Choices are what a household's guardians decide about its calls.
type Choices struct {
	// Chain screens its inbound calls; nil allows every call.
	Chain    screen.Chain
	Callback config.Callback
	// Ask is which callers are asked who they are; UnknownScreened is screening.unknown:
	// screen (or carer): a caller who will not answer is then offered as an unknown caller.
	Ask             claim.Asking
	UnknownScreened bool
	// Unknown and Warned are screening.unknown and screening.warned (Carer Check).
	Unknown, Warned string
	// Listening is when its calls warn and alert; nil keeps the listener's own.
	Listening *listen.Policy
}

// SetChoices puts a household's choices in force; its next call uses them.
func (g *Guard) SetChoices(household string, c Choices) error {
	h, ok := g.homes.Load().byID[household]
	if !ok {
		return fmt.Errorf("guard: no household %q", household)
	}
	h.setRules(c.Chain, c.Callback)
	h.asks.Store(&askRules{ask: c.Ask, unknownScreened: c.UnknownScreened})
	h.carer.Store(&carerRules{unknown: c.Unknown, warned: c.Warned})
	h.policy.Store(c.Listening)
	return nil
}

// Households lists the IDs of the households the guard serves, the configuration's first.
func (g *Guard) Households() []string {
	d := g.homes.Load()
	ids := make([]string, 0, len(d.byID))
	for id := range d.byID {
		if id != d.config.id {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return append([]string{d.config.id}, ids...)
}

// Districts is each household the guard serves with its district ("" for none).
func (g *Guard) Districts() map[string]string {
	d := g.homes.Load()
	out := make(map[string]string, len(d.byID))
	for id, h := range d.byID {
		out[id] = h.district()
	}
	return out
}
