package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clearline/clearline/internal/web/guardian"
	"github.com/clearline/clearline/internal/web/site"
)

// MountLive serves the calls in progress, their event stream and ending one (where a
// guard runs).
func (s *API) MountLive(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/live", s.site.API(s.live))
	mux.HandleFunc("GET /api/v1/live/events", s.site.API(s.liveEvents))
	mux.HandleFunc("POST /api/v1/calls/{id}/end", s.site.API(s.end))
}

// live lists the calls in progress the viewer may see.
func (s *API) live(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	site.WriteJSON(w, http.StatusOK, map[string]any{"calls": s.g.LiveFor(v)})
}

// end ends a call in progress for one of its household's guardians or an admin.
func (s *API) end(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, code, err := s.g.EndCall(r.Context(), v, r.PathValue("id"))
	if err != nil {
		site.WriteError(w, code, err)
		return
	}
	site.WriteJSON(w, http.StatusOK, guardian.LiveOf(c, v, time.Now()))
}

// liveEvents streams the viewer's calls in progress as server-sent events: one "live" event
// now and one whenever a call starts, is answered, ends or its risk changes (checked twice
// a second), with a comment every 15 s to keep proxies from closing the stream.
func (s *API) liveEvents(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	fl, ok := w.(http.Flusher)
	if !ok {
		site.WriteError(w, http.StatusInternalServerError, errors.New("this connection cannot stream events"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last string
	wrote := time.Now()
	for {
		calls := s.g.LiveFor(v)
		key := liveKey(calls)
		switch {
		case key != last:
			data, _ := json.Marshal(map[string]any{"calls": calls})
			if _, err := fmt.Fprintf(w, "event: live\ndata: %s\n\n", data); err != nil {
				return
			}
			fl.Flush()
			last, wrote = key, time.Now()
		case time.Since(wrote) > 15*time.Second:
			if _, err := fmt.Fprint(w, ": still here\n\n"); err != nil {
				return
			}
			fl.Flush()
			wrote = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.streams:
			return
		case <-tick.C:
		}
	}
}

// liveKey is what a stream's reader would see change: the calls without their running
// durations, which pages count themselves.
func liveKey(calls []guardian.LiveCall) string {
	still := make([]guardian.LiveCall, len(calls))
	for i, c := range calls {
		c.Seconds = 0
		still[i] = c
	}
	b, _ := json.Marshal(still)
	return string(b)
}

// StopStreams ends the live event streams (the server is shutting down: they would hold
// its shutdown up).
func (s *API) StopStreams() { s.stopStreams() }
