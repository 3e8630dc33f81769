package guardian_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/web/webtest"
)

// The pages: Calls now lists the calls in progress with an "End this call" button, reloads
// itself without JavaScript and loads the script that updates it with; pressing the button
// ends the call and comes back to the call's page saying so.
func TestLivePageEndsACall(t *testing.T) {
	r, f := webtest.LiveRig(t)
	son := r.Client()
	son.Login("son@example.org")
	code, page := son.Do("GET", "/live", nil, nil, "")
	for _, want := range []string{"Call from &#43;442085550177", "On the phone now", "connected for", `data-since="`, "warn", "cash withdrawal", "80%",
		`action="/calls/live-mum/end"`, "End this call", `<noscript><meta http-equiv="refresh" content="5"></noscript>`, `src="/static/live.js"`, "<main data-live>"} {
		if !strings.Contains(page, want) {
			t.Errorf("live page lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(page, "442085550111") || strings.Count(page, "End this call") != 1 {
		t.Errorf("live page: %d (gran's call, or an end button on the ringing call)\n%s", code, page)
	}
	if _, today := son.Do("GET", "/", nil, nil, ""); !strings.Contains(today, "2 calls going on now") || !strings.Contains(today, `href="/live"`) {
		t.Errorf("Today does not point to the calls going on now")
	}
	if code, js := son.Do("GET", "/static/live.js", nil, nil, ""); code != 200 || !strings.Contains(js, "EventSource") {
		t.Errorf("live.js: %d", code)
	}
	if code, _ := son.Do("POST", "/calls/live-mum/end", url.Values{"csrf": {"wrong"}}, nil, ""); code != http.StatusForbidden || len(f.Ends) != 0 {
		t.Errorf("a forged form: %d, ends %v", code, f.Ends)
	}
	code, _ = son.Do("POST", "/calls/live-mum/end", url.Values{"csrf": {son.CSRF}}, nil, "")
	if code != http.StatusSeeOther || len(f.Ends) != 1 {
		t.Fatalf("pressing End this call: %d, ends %v", code, f.Ends)
	}
	_, page = son.Do("GET", "/calls/live-mum?flash=You+ended+this+call.", nil, nil, "")
	if !strings.Contains(page, "ended by the guardian (son)") || strings.Contains(page, "End this call") || strings.Contains(page, "data-live") {
		t.Errorf("the call's page after the end:\n%s", page)
	}
	code, _ = son.Do("POST", "/calls/live-mum/end", url.Values{"csrf": {son.CSRF}}, nil, "")
	if code != http.StatusSeeOther || len(f.Ends) != 1 {
		t.Errorf("pressing it again: %d, ends %v", code, f.Ends)
	}
}
