package guardian

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

func (s *Dashboard) alertsPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	as, err := s.dash.Alerts(r.Context(), v.Households(), v.Role == dash.Admin, 200)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "alerts", site.Page{Title: "Alerts", V: v, Nav: "alerts", Flash: r.URL.Query().Get("flash"), Data: as})
}

func (s *Dashboard) ackAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	if err := s.Ack(r.Context(), v, r.PathValue("id")); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	http.Redirect(w, r, "/alerts", http.StatusSeeOther)
}

// Ack acknowledges alert idText for v, who must see its household.
func (s *Dashboard) Ack(ctx context.Context, v site.Viewer, idText string) error {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return fmt.Errorf("no alert %q", idText)
	}
	a, err := s.dash.Alert(ctx, id)
	if err != nil || !v.Sees(a.HouseholdID) {
		return fmt.Errorf("no alert %d among your households", id)
	}
	return s.dash.AckAlert(ctx, id, v.Name)
}
