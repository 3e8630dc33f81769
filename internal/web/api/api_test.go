package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/webtest"
)

// The API refuses bad settings with the fields named, needs the CSRF header, and acks alerts.
func TestAPISettingsAndAck(t *testing.T) {
	r := webtest.NewRig(t)
	son := r.Client()
	son.Login("son@example.org")
	_, me := son.Do("GET", "/api/v1/me", nil, nil, "")
	var who struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal([]byte(me), &who)
	hdr := map[string]string{"X-CSRF-Token": who.CSRF, "Content-Type": "application/json"}
	if code, _ := son.Do("PUT", "/api/v1/households/mum/settings", nil, map[string]string{"Content-Type": "application/json"}, `{"warn_at":0.5,"alert_at":0.8}`); code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", code)
	}
	code, body := son.Do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":2,"alert_at":0.8,"bank":"x","ask":"sometimes"}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "warn_at") || !strings.Contains(body, "bank") || !strings.Contains(body, `"ask": "must be never, unknown, warned or always`) {
		t.Errorf("bad settings: %d %s", code, body)
	}
	if code, body := son.Do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":"high"}`); code != http.StatusBadRequest {
		t.Errorf("wrong type: %d %s", code, body)
	}
	if code, body := son.Do("PUT", "/api/v1/households/mum/settings", nil, hdr, `{"warn_at":0.5,"alert_at":0.8,"colour":"red"}`); code != http.StatusBadRequest || !strings.Contains(body, "colour") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	if h, _ := r.DB.Household(context.Background(), "mum"); h.Settings.WarnAt != 0.7 {
		t.Errorf("refused requests changed warn_at to %v", h.Settings.WarnAt)
	}
	_, list := son.Do("GET", "/api/v1/alerts", nil, nil, "")
	var as struct{ Alerts []dash.Alert }
	json.Unmarshal([]byte(list), &as)
	if len(as.Alerts) != 1 {
		t.Fatalf("alerts %s", list)
	}
	if code, _ := son.Do("POST", "/api/v1/alerts/"+webtest.Itoa(as.Alerts[0].ID)+"/ack", nil, hdr, ""); code != http.StatusNoContent {
		t.Errorf("ack: %d", code)
	}
	a, _ := r.DB.Alert(context.Background(), as.Alerts[0].ID)
	if a.AckedBy != "son" || a.AckedAt.IsZero() {
		t.Errorf("alert after ack %+v", a)
	}
}
