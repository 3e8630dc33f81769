package cli

import (
	"cmp"
	"context"
	"fmt"
	"sync"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/screen"
)

// seedSettings are a new household's dashboard settings, from the configuration file. The
// file's own lists stay in force whatever the guardians add.
func seedSettings(cfg *config.Config) dash.Settings {
	l := cfg.Listening
	return dash.Settings{Allow: []dash.Contact{}, Block: []dash.Contact{}, Bank: cfg.Callback.Bank, Police: cfg.Callback.Police,
		QuietHours: cfg.Screening.QuietHours, Warn: l.Warn, WarnAt: l.WarnAt, Alert: l.Alert, AlertAt: l.AlertAt}
}

// lineStore is what the keeper reads the households' numbers and phones from.
type lineStore interface {
	Households(ctx context.Context) ([]dash.Household, error)
	Phones(ctx context.Context, household string) ([]dash.Phone, error)
}

// rulesKeeper puts every household's rules into force on the running guard whenever a
// part of them changes: the guardians' settings on the dashboard, the hub's shared
// block-list, or the households and phones an admin adds.
type rulesKeeper struct {
	cfg *config.Config
	g   *guard.Guard
	lis *listen.Listener
	db  lineStore // nil without a store: the file's household only

	mu     sync.Mutex
	houses map[string]dash.Household // the saved settings, by household
	homes  []guard.Home              // the store's households and phones, as last read
	shared screen.List
}

// household applies saved settings for one household.
func (k *rulesKeeper) household(h dash.Household) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.houses == nil {
		k.houses = map[string]dash.Household{}
	}
	k.houses[h.ID] = h
	return k.applyOne(h.ID)
}

// lines reads every household's numbers and phones from the store and puts them, and each
// household's settings, in force. Households the guard does not serve yet are served from
// the next call.
func (k *rulesKeeper) lines(ctx context.Context) error {
	if k.db == nil {
		return nil
	}
	hs, err := k.db.Households(ctx)
	if err != nil {
		return fmt.Errorf("households: %w", err)
	}
	phones, err := k.db.Phones(ctx, "")
	if err != nil {
		return fmt.Errorf("phones: %w", err)
	}
	byHouse := map[string][]config.Phone{}
	for _, p := range phones {
		byHouse[p.Household] = append(byHouse[p.Household], config.Phone{User: p.User, Password: p.Password, Contact: p.Contact})
	}
	homes := make([]guard.Home, 0, len(hs))
	for _, h := range hs {
		homes = append(homes, guard.Home{ID: h.ID, District: h.District, Numbers: h.Numbers, Phones: byHouse[h.ID]})
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.g.SetHouseholds(homes); err != nil {
		return err
	}
	k.homes = homes
	if k.houses == nil {
		k.houses = map[string]dash.Household{}
	}
	for _, h := range hs {
		k.houses[h.ID] = h
	}
	return k.applyAll()
}

// replace moves the rules onto a rebuilt guard with its configuration.
func (k *rulesKeeper) replace(cfg *config.Config, g *guard.Guard) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg, k.g = cfg, g
	if err := g.SetHouseholds(k.homes); err != nil {
		return err
	}
	return k.applyAll()
}

// sharedBlocklist applies the hub's block-list.
func (k *rulesKeeper) sharedBlocklist(l screen.List) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.shared = l
	return k.applyAll()
}

// districts is each household the guard serves with its district.
func (k *rulesKeeper) districts() map[string]string {
	k.mu.Lock()
	g := k.g
	k.mu.Unlock()
	return g.Districts()
}

// sharedSize is how many numbers of the hub's block-list are in force.
func (k *rulesKeeper) sharedSize() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.shared)
}

// applyAll puts every served household's rules in force; the first failure is returned
// after the others were applied.
func (k *rulesKeeper) applyAll() error {
	var first error
	for _, id := range k.g.Households() {
		if err := k.applyOne(id); err != nil && first == nil {
			first = fmt.Errorf("household %s: %w", id, err)
		}
	}
	return first
}

func (k *rulesKeeper) applyOne(id string) error {
	own := id == k.cfg.Household.ID
	h, saved := k.houses[id]
	if !saved && !own {
		return nil // served from the next store read, with the guard's defaults meanwhile
	}
	if !saved {
		chain, err := k.cfg.Screening.ChainWith(k.shared)
		if err != nil {
			return err
		}
		k.g.SetRules(chain, k.cfg.Callback)
		return nil
	}
	c, err := choices(k.cfg, h, own, k.shared)
	if err != nil {
		return err
	}
	if own {
		// The file's household's thresholds are the listener's own too (replays, tests).
		k.lis.SetPolicy(*c.Listening)
	}
	return k.g.SetChoices(id, c)
}

// choices are a household's rules from its guardians' settings over the configuration's
// screening: the configuration's own lists, directory and bank are the file's household's
// only; every household gets the hub's shared block-list.
func choices(cfg *config.Config, h dash.Household, own bool, shared screen.List) (guard.Choices, error) {
	s := h.Settings
	sc := cfg.Screening
	cb := config.Callback{Police: cfg.Callback.Police}
	if own {
		sc.Allow = append([]string{}, sc.Allow...)
		sc.Block = append([]string{}, sc.Block...)
		cb = cfg.Callback
	} else {
		sc.Allow, sc.Block = nil, nil
	}
	for _, c := range s.Allow {
		sc.Allow = append(sc.Allow, c.Number)
	}
	for _, c := range s.Block {
		sc.Block = append(sc.Block, c.Number)
	}
	sc.QuietHours = s.QuietHours
	sc.Unknown, sc.Warned = cmp.Or(s.Unknown, sc.Unknown), cmp.Or(s.Warned, sc.Warned)
	chain, err := sc.ChainWith(shared)
	if err != nil {
		return guard.Choices{}, err
	}
	if s.Bank != "" {
		cb.Bank = s.Bank
	}
	if s.Police != "" {
		cb.Police = s.Police
	}
	ask, err := claim.ParseAsking(cmp.Or(s.Ask, cfg.Screening.Ask))
	if err != nil {
		return guard.Choices{}, fmt.Errorf("settings: ask: %w", err)
	}
	return guard.Choices{Chain: chain, Callback: cb, Ask: ask, UnknownScreened: sc.Unknown != "allow",
		Unknown: sc.Unknown, Warned: sc.Warned,
		Listening: &listen.Policy{Warn: s.Warn, WarnAt: s.WarnAt, Alert: s.Alert, AlertAt: s.AlertAt}}, nil
}
