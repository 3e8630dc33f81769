package cli

import (
	"cmp"
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

// rulesKeeper puts the household's rules into force on the running guard whenever a part
// of them changes: the guardians' settings on the dashboard, or the hub's shared block-list.
type rulesKeeper struct {
	cfg *config.Config
	g   *guard.Guard
	lis *listen.Listener

	mu     sync.Mutex
	house  *dash.Household
	shared screen.List
}

// household applies saved settings for the guard's household (others are ignored).
func (k *rulesKeeper) household(h dash.Household) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if h.ID != k.cfg.Household.ID {
		return nil
	}
	k.house = &h
	return k.apply()
}

// replace moves the rules onto a rebuilt guard with its configuration.
func (k *rulesKeeper) replace(cfg *config.Config, g *guard.Guard) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg, k.g = cfg, g
	return k.apply()
}

// sharedBlocklist applies the hub's block-list.
func (k *rulesKeeper) sharedBlocklist(l screen.List) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.shared = l
	return k.apply()
}

// sharedSize is how many numbers of the hub's block-list are in force.
func (k *rulesKeeper) sharedSize() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.shared)
}

func (k *rulesKeeper) apply() error {
	if k.house == nil {
		chain, err := k.cfg.Screening.ChainWith(k.shared)
		if err != nil {
			return err
		}
		k.g.SetRules(chain, k.cfg.Callback)
		return nil
	}
	return applyHousehold(k.cfg, *k.house, k.shared, k.g, k.lis)
}

// applyHousehold puts the guardians' settings into force on the running guard: the
// configuration's lists plus theirs and the hub's, their quiet hours and directory, their
// thresholds.
func applyHousehold(cfg *config.Config, h dash.Household, shared screen.List, g *guard.Guard, lis *listen.Listener) error {
	s := h.Settings
	sc := cfg.Screening
	sc.Allow = append([]string{}, sc.Allow...)
	sc.Block = append([]string{}, sc.Block...)
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
		return err
	}
	cb := cfg.Callback
	if s.Bank != "" {
		cb.Bank = s.Bank
	}
	if s.Police != "" {
		cb.Police = s.Police
	}
	g.SetRules(chain, cb)
	lis.SetPolicy(listen.Policy{Warn: s.Warn, WarnAt: s.WarnAt, Alert: s.Alert, AlertAt: s.AlertAt})
	ask, err := claim.ParseAsking(cmp.Or(s.Ask, cfg.Screening.Ask))
	if err != nil {
		return fmt.Errorf("settings: ask: %w", err)
	}
	g.SetAsking(ask, sc.Unknown != "allow")
	g.SetCarer(sc.Unknown, sc.Warned)
	return nil
}
