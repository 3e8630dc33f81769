package guardian

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/site"
)

// Live is the running guard's calls in progress, as the live page and API show them, and a
// guardian's end of one. The server checks who may see and end which call.
type Live interface {
	// Live is a snapshot of the calls in progress.
	Live() []call.Call
	// Call is a call in progress, or one that has just ended, by ID.
	Call(id string) (call.Call, bool)
	// End ends a connected call for who; it returns once the caller's leg is released.
	// Its errors are guard.ErrNoCall, ErrEnded, ErrNotConnected and ErrEmergency.
	End(ctx context.Context, id, who string) (call.Call, error)
}

// LiveCall is a call in progress as the live page and API show it.
type LiveCall struct {
	call.Call
	// Live is true while the call is in progress.
	Live bool `json:"live"`
	// State is ringing (not answered yet, or being screened), connected, or ending (a
	// guardian ended it: the caller is gone, the resident is hearing why).
	State string `json:"state"`
	// Seconds is how long the call has been connected (ringing: since it started).
	Seconds int `json:"seconds"`
	// CanEnd says whether the viewer may end it now.
	CanEnd bool `json:"can_end"`
	// Since is when Seconds counts from, and CSRF the viewer's token, for the page.
	Since time.Time `json:"-"`
	CSRF  string    `json:"-"`
}

// LiveOf is c as v sees it at now: its state, how long it has run, and whether v may end it.
func LiveOf(c call.Call, v site.Viewer, now time.Time) LiveCall {
	l := LiveCall{Call: c, Live: c.EndedAt.IsZero(), State: "connected", CSRF: v.CSRFToken()}
	since := c.AnsweredAt
	switch {
	case !c.EndedAt.IsZero():
		l.State = "ended"
	case c.EndedBy == call.ByGuardian:
		l.State = "ending"
	case c.AnsweredAt.IsZero():
		l.State, since = "ringing", c.StartedAt
	}
	l.Since = since
	if l.Live {
		l.Seconds = int(now.Sub(since).Seconds())
		l.CanEnd = l.State == "connected" && !c.Emergency && !v.Operator() && v.Can(c.Household)
	}
	return l
}

// LiveFor lists the calls in progress v may see.
func (s *Dashboard) LiveFor(v site.Viewer) []LiveCall {
	out := []LiveCall{}
	if s.o.Live == nil {
		return out
	}
	now := time.Now()
	for _, c := range s.o.Live.Live() {
		if v.Sees(c.Household) {
			out = append(out, LiveOf(c, v, now))
		}
	}
	return out
}

// EndCall ends call id for v, one of its household's guardians or an admin. It answers with
// the HTTP status to give when it cannot: 404 for a call v may not see, 409 for one that has
// ended or is not connected, 403 for an emergency call.
func (s *Dashboard) EndCall(ctx context.Context, v site.Viewer, id string) (call.Call, int, error) {
	if s.o.Live == nil {
		return call.Call{}, http.StatusServiceUnavailable, errors.New("the guard is not running in this process")
	}
	notFound := fmt.Errorf("no call %q among your households", id)
	c, live := s.o.Live.Call(id)
	if !live {
		stored, err := s.store.Call(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return c, http.StatusNotFound, notFound
		case err != nil:
			return c, http.StatusServiceUnavailable, err
		}
		c = stored
	}
	if !v.Sees(c.Household) || v.Operator() {
		return call.Call{}, http.StatusNotFound, notFound
	}
	if !c.EndedAt.IsZero() || !live {
		return c, http.StatusConflict, errors.New(endedText(c))
	}
	who := v.Name
	if who == "" {
		who = v.Email
	}
	ended, err := s.o.Live.End(ctx, id, who)
	switch {
	case err == nil:
		s.site.Log.Info("call ended by a guardian", "call", id, "household", c.Household, "guardian", who)
		return ended, http.StatusOK, nil
	case errors.Is(err, guard.ErrEnded), errors.Is(err, guard.ErrNoCall):
		if ended.ID == "" {
			ended = c
		}
		return ended, http.StatusConflict, errors.New(endedText(ended))
	case errors.Is(err, guard.ErrNotConnected):
		return ended, http.StatusConflict, err
	case errors.Is(err, guard.ErrEmergency):
		return ended, http.StatusForbidden, err
	}
	return ended, http.StatusServiceUnavailable, err
}

// endedText says that a call has already ended, and how, in words.
func endedText(c call.Call) string {
	switch {
	case c.EndedBy == call.ByGuardian && c.EndedByUser != "":
		return "this call has already ended: " + c.EndedByUser + " ended it"
	case c.EndedBy != call.NotEnded && !c.EndedAt.IsZero():
		return fmt.Sprintf("this call has already ended: the %s hung up at %s", c.EndedBy, c.EndedAt.In(site.London).Format("15:04:05"))
	}
	return "this call has already ended"
}

type liveData struct {
	Calls []LiveCall
}

func (s *Dashboard) livePage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	s.site.Render(w, http.StatusOK, pages, "live", site.Page{Title: "Calls now", V: v, Nav: "live", Live: true, Flash: r.URL.Query().Get("flash"),
		Data: liveData{Calls: s.LiveFor(v)}})
}

func (s *Dashboard) postEnd(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	id := r.PathValue("id")
	_, code, err := s.EndCall(r.Context(), v, id)
	switch {
	case code == http.StatusNotFound:
		http.Error(w, "There is no such call among your households.", http.StatusNotFound)
	case err != nil:
		http.Redirect(w, r, "/calls/"+url.PathEscape(id)+"?flash="+url.QueryEscape("Not ended: "+err.Error()+"."), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/calls/"+url.PathEscape(id)+"?flash="+url.QueryEscape("You ended this call. The caller was cut off at once; the resident is told that the family ended it."), http.StatusSeeOther)
	}
}

// GuardCall is the guard's view of a call, when a guard runs here and has it.
func (s *Dashboard) GuardCall(id string) (call.Call, bool) {
	if s.o.Live == nil {
		return call.Call{}, false
	}
	return s.o.Live.Call(id)
}
