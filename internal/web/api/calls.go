package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/site"
)

type callList struct {
	Calls []call.Call `json:"calls"`
}

func (s *API) calls(w http.ResponseWriter, r *http.Request) {
	v, ok := s.site.Who(r)
	if !ok {
		site.WriteError(w, http.StatusUnauthorized, errors.New("log in first (or send the operator's API token)"))
		return
	}
	q, err := guardian.CallQuery(r, v)
	if err != nil {
		site.WriteError(w, http.StatusBadRequest, err)
		return
	}
	calls, err := s.store.Calls(r.Context(), q)
	if err != nil {
		s.site.Log.Error("api calls", "err", err)
		site.WriteError(w, http.StatusServiceUnavailable, err)
		return
	}
	if calls == nil {
		calls = []call.Call{}
	}
	site.WriteJSON(w, http.StatusOK, callList{Calls: calls})
}

func (s *API) oneCall(w http.ResponseWriter, r *http.Request) {
	v, ok := s.site.Who(r)
	if !ok {
		site.WriteError(w, http.StatusUnauthorized, errors.New("log in first (or send the operator's API token)"))
		return
	}
	if c, ok := s.g.GuardCall(r.PathValue("id")); ok && c.EndedAt.IsZero() && v.Sees(c.Household) {
		site.WriteJSON(w, http.StatusOK, guardian.LiveOf(c, v, time.Now())) // with its live state
		return
	}
	c, err := s.store.Call(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !v.Sees(c.Household)):
		site.WriteError(w, http.StatusNotFound, fmt.Errorf("no call %q", r.PathValue("id")))
	case err != nil:
		site.WriteError(w, http.StatusServiceUnavailable, err)
	default:
		site.WriteJSON(w, http.StatusOK, c)
	}
}
