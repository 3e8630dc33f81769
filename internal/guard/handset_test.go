package guard

import (
	"slices"
	"testing"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/media"
)

// The handset codes' configuration refuses the call-back codes by the list in config; it
// must be this package's.
func TestCallbackCodesKnownToConfig(t *testing.T) {
	for code := range featureCodes {
		if !slices.Contains(config.CallbackCodes, code) {
			t.Errorf("call-back code %s is missing from config.CallbackCodes: a handset code could take it", code)
		}
	}
	if len(config.CallbackCodes) != len(featureCodes) {
		t.Errorf("config.CallbackCodes %v; the guard's call-back codes are %d", config.CallbackCodes, len(featureCodes))
	}
}

// Every prompt the codes say is embedded (prompts leaves out a missing one silently).
func TestHandsetPromptsExist(t *testing.T) {
	for _, p := range []string{"handset_blocked", "handset_blocked_end", "handset_no_call_block", "handset_withheld", "handset_failed",
		"handset_reported", "handset_reported_end", "handset_reported_withheld", "handset_no_call_report", "handset_report_off", "handset_report_failed",
		"digit_0", "digit_9"} {
		if s, err := media.Prompt(p); err != nil || len(s) < 4000 {
			t.Errorf("prompt %s: %d samples, %v", p, len(s), err)
		}
	}
	if got := lastDigits("+441632960123"); !slices.Equal(got, []string{"digit_1", "digit_2", "digit_3"}) {
		t.Errorf("lastDigits = %v", got)
	}
}

func TestHandsetCodeMatch(t *testing.T) {
	g := &Guard{cfg: &config.Config{Codes: config.Codes{BlockLast: "*84", ReportLast: "#85"}}}
	for number, want := range map[string]string{"*84": "block", "#85": "report", "%2385": "report", "*85": "", "84": "", "": "", "*8": ""} {
		if got := g.handsetCode(number); got != want {
			t.Errorf("handsetCode(%q) = %q; want %q", number, got, want)
		}
	}
	g.cfg.Codes.BlockLast = ""
	if got := g.handsetCode(""); got != "" {
		t.Errorf("an empty dialled number matched the turned-off code: %q", got)
	}
}
