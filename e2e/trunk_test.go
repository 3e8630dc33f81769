package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
)

// With trunk credentials, the guard registers to the provider as a home ATA would, and
// answers the provider's challenge when a phone places a call.
func TestTrunkRegistrationAndChallengedCall(t *testing.T) {
	var registrar *sipp
	g := startGuard(t, func(c *config.Config, g *guard) {
		c.Trunk.Username, c.Trunk.Password, c.Trunk.DID = "01632960123", "trunk-pw", "01632960123"
		// The provider listens before the guard starts, as a real one would.
		registrar = runSIPp(t, "registrar", "trunk_registrar.xml", "-i", trunkIP, "-p", strconv.Itoa(g.trunkPort))
	})
	registrar.wait()
	reg := registrar.mustFind(false, "REGISTER ")
	if c := reg.header("Contact"); !strings.Contains(c, g.sip) {
		t.Errorf("REGISTER Contact %q does not point at the guard %s", c, g.sip)
	}

	trunkSide := g.trunk("trunk_challenges.xml")
	dialler := g.dial("phone_dials.xml", "01632960000", "-au", "kitchen", "-ap", "s3cret")
	dialler.wait()
	trunkSide.wait()
	invites := 0
	for _, m := range trunkSide.messages() {
		if !m.sent && strings.HasPrefix(m.start, "INVITE sip:01632960000@") {
			invites++
			if from := m.header("From"); !strings.Contains(from, "01632960123@") {
				t.Errorf("the provider saw caller ID %q; want the household's number", from)
			}
		}
	}
	if invites != 2 {
		t.Errorf("provider got %d INVITEs; want the challenged one and the authenticated one", invites)
	}
	c := g.waitEnded(1)[0]
	if c.Outcome != call.Completed || c.EndedBy != call.ByHousehold {
		t.Errorf("outcome %q ended_by %q", c.Outcome, c.EndedBy)
	}
}
