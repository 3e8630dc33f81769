package guard

import (
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/screen"
)

// Which calls go to a guardian first is the household's choice per kind of verdict; allowed
// and blocked calls never do.
func TestCarerChecks(t *testing.T) {
	tests := []struct {
		name            string
		unknown, warned string
		action          screen.Action
		want            bool
	}{
		{"unknown caller, carer", "carer", "ring", screen.Screen, true},
		{"unknown caller, screen", "screen", "carer", screen.Screen, false},
		{"unknown caller, allow", "allow", "ring", screen.Screen, false},
		{"warned caller, carer", "allow", "carer", screen.Warn, true},
		{"warned caller, ring", "carer", "ring", screen.Warn, false},
		{"trusted caller", "carer", "carer", screen.Allow, false},
		{"blocked caller", "carer", "carer", screen.Block, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := carerChecks(screen.Verdict{Action: tt.action}, carerRules{unknown: tt.unknown, warned: tt.warned}); got != tt.want {
				t.Errorf("carerChecks = %v; want %v", got, tt.want)
			}
		})
	}
}

// The guardian is offered both G.711 laws, the caller's first, and keys.
func TestCarerOffer(t *testing.T) {
	for pt, want := range map[int]string{0: "m=audio 20000 RTP/AVP 0 8 101", 8: "m=audio 20000 RTP/AVP 8 0 101"} {
		sdp := string(carerOffer("192.0.2.1", 20000, pt))
		if !strings.Contains(sdp, want+"\r\n") || !strings.Contains(sdp, "a=rtpmap:101 telephone-event/8000") || !strings.Contains(sdp, "c=IN IP4 192.0.2.1") {
			t.Errorf("offer for pt %d:\n%s", pt, sdp)
		}
	}
}
