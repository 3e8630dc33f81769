package cli

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearline/clearline/internal/call"
)

// registerRegistrations exposes the phones' registrations on /metrics: the live contacts the
// running guard knows, taken by it or by the other guards of the service, and how often a
// phone was not rung at another guard's own connection to it.
func registerRegistrations(reg *prometheus.Registry, ln *line) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "clearline_registered_contacts",
			Help: "Phones' live registered contacts, taken by this guard or by the other guards of the service."},
			func() float64 { return float64(ln.current().g.RegisteredContacts()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearline_unreachable_bindings_total",
			Help: "Times a phone was not rung at a binding another guard took over its own TCP or TLS connection to it."},
			func() float64 { return float64(ln.current().g.UnreachableBindings()) }),
	)
}

// Call reads a call's stored record, so that the report code on one guard of a service can
// report a call another took (guard.CallRecords).
func (h *handsetBlocks) Call(ctx context.Context, id string) (call.Call, error) {
	return h.db.Call(ctx, id)
}
