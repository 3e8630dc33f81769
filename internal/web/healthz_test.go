package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/web/webtest"
)

// /healthz says how the hub is, and says so plainly when its store is gone.
func TestHealthzReportsTheHub(t *testing.T) {
	r, h := webtest.NewHubRig(t)
	c := r.Client()
	code, body := c.Do("GET", "/healthz", nil, nil, "")
	var got struct{ Status, Hub string }
	if json.Unmarshal([]byte(body), &got); code != http.StatusOK || got.Hub != "ok" {
		t.Fatalf("healthz = %d %s", code, body)
	}
	h.Store().Close()
	code, body = c.Do("GET", "/healthz", nil, nil, "")
	if json.Unmarshal([]byte(body), &got); code != http.StatusServiceUnavailable || got.Status != "degraded" || !strings.Contains(got.Hub, "store") {
		t.Errorf("healthz with the hub's store closed = %d %s", code, body)
	}
}
