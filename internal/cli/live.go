package cli

import (
	"context"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/web"
)

// liveView is the guard's calls in progress as the dashboard sees them (web.Live): those of
// the guard serving now, whichever that is after the first-run setup rebuilt it.
type liveView struct{ l *line }

var _ web.Live = liveView{}

func (v liveView) Live() []call.Call { return v.l.current().g.Live() }

func (v liveView) Call(id string) (call.Call, bool) { return v.l.current().g.Call(id) }

func (v liveView) End(ctx context.Context, id, who string) (call.Call, error) {
	return v.l.current().g.End(ctx, id, who)
}
