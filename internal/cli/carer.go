package cli

import (
	"context"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
)

// carers are the household's guardians Carer Check may ring: those with a phone number,
// in the order they were added to the dashboard (the first is rung).
func carers(ctx context.Context, db dash.Store, household string) ([]guard.Carer, error) {
	us, err := db.Guardians(ctx, household)
	if err != nil {
		return nil, err
	}
	var out []guard.Carer
	for _, u := range us {
		if u.Channels.Phone != "" {
			out = append(out, guard.Carer{Name: u.Name, Number: u.Channels.Phone})
		}
	}
	return out, nil
}
