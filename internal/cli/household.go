package cli

import (
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/listen"
)

// seedSettings are a new household's dashboard settings, from the configuration file. The
// file's own lists stay in force whatever the guardians add.
func seedSettings(cfg *config.Config) dash.Settings {
	l := cfg.Listening
	return dash.Settings{Allow: []dash.Contact{}, Block: []dash.Contact{}, Bank: cfg.Callback.Bank, Police: cfg.Callback.Police,
		QuietHours: cfg.Screening.QuietHours, Warn: l.Warn, WarnAt: l.WarnAt, Alert: l.Alert, AlertAt: l.AlertAt}
}

// applyHousehold puts the guardians' settings into force on the running guard: the
// configuration's lists plus theirs, their quiet hours and directory, their thresholds.
func applyHousehold(cfg *config.Config, h dash.Household, g *guard.Guard, lis *listen.Listener) error {
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
	chain, err := sc.Chain()
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
	return nil
}
