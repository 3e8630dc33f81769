package cli

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/clearline/clearline/internal/store/sqlite"
)

// handsetBlocks saves the blocks of the handset's block code (guard.Handset) the way the
// dashboard's Block button does: into the household's saved settings, then into force on
// the running guard, so the number shows on the dashboard and the next call is blocked.
type handsetBlocks struct {
	db     *sqlite.Store
	keeper atomic.Pointer[rulesKeeper] // set once the first guard runs
}

func (h *handsetBlocks) Block(ctx context.Context, household, number, name string) error {
	k := h.keeper.Load()
	if k == nil {
		return errors.New("handset: the household's rules are not loaded yet")
	}
	hh, err := h.db.Household(ctx, household)
	if err != nil {
		return err
	}
	set, changed, err := hh.Settings.WithBlocked(number, name)
	if err != nil || !changed {
		return err
	}
	if err := h.db.SaveSettings(ctx, household, set); err != nil {
		return err
	}
	hh.Settings = set
	return k.household(hh)
}
