// Package web serves the guard's HTTP interface: /healthz, /metrics and the JSON call log
// at /api/calls. Reads go straight to the store; a store that is down makes /api/calls
// answer 503 and /healthz report it, while calls go on.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/store"
)

// Server is the HTTP handler.
type Server struct {
	store    store.Store
	registry *prometheus.Registry
	log      *slog.Logger
	mux      *http.ServeMux
}

// New builds the handler. st may report ErrUnavailable on every call.
func New(st store.Store, reg *prometheus.Registry, log *slog.Logger) *Server {
	s := &Server{store: st, registry: reg, log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /api/calls", s.calls)
	s.mux.HandleFunc("GET /api/calls/{id}", s.oneCall)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type health struct {
	Status string `json:"status"`
	Store  string `json:"store"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h := health{Status: "ok", Store: "ok"}
	code := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		// Calls still work; say plainly what does not.
		h.Status, h.Store, code = "degraded", err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

type callList struct {
	Calls []call.Call `json:"calls"`
}

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	var q store.Query
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q must be a number from 1 to 1000", v))
			return
		}
		q.Limit = n
	}
	if v := r.URL.Query().Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("before %q must be an RFC 3339 time like 2026-11-25T10:00:00Z", v))
			return
		}
		q.Before = t
	}
	calls, err := s.store.Calls(r.Context(), q)
	if err != nil {
		s.log.Error("api calls", "err", err)
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	if calls == nil {
		calls = []call.Call{}
	}
	writeJSON(w, http.StatusOK, callList{Calls: calls})
}

func (s *Server) oneCall(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.Call(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no call %q", r.PathValue("id")))
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
