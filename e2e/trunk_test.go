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

// A provider named by DNS ("localhost" here, from /etc/hosts): the phone's call is sent to
// it by name and answered, and a call from the name's address is taken as the provider's.
func TestTrunkByName(t *testing.T) {
	port := freePort(t, phoneIP)
	g := startGuard(t, func(c *config.Config, g *guard) {
		c.Trunk.Address, c.Trunk.InboundFrom = "localhost:"+strconv.Itoa(port), nil
	})
	trunkSide := runSIPp(t, "trunk", "trunk_answers.xml", "-i", phoneIP, "-p", strconv.Itoa(port), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)))
	dialler := g.dial("phone_dials.xml", "01632960000", "-au", "kitchen", "-ap", "s3cret")
	dialler.wait()
	trunkSide.wait()
	trunkSide.mustFind(false, "INVITE sip:01632960000@localhost:")
	if c := g.waitEnded(1)[0]; c.Outcome != call.Completed {
		t.Errorf("outcome %q (%s)", c.Outcome, c.Reason)
	}
	// A call from the name's address and port is the provider's: it rings the phone.
	phone := g.phone("phone_answers.xml")
	caller := runSIPp(t, "caller", "caller_hangs_up.xml", "-i", phoneIP, "-p", strconv.Itoa(port), "-mi", phoneIP, "-mp", strconv.Itoa(sippMediaPort(t, phoneIP)),
		"-s", "kitchen", "-key", "caller", "+442085550123", "-key", "caller_name", "Jean Smith", g.sip)
	caller.wait()
	phone.wait()
	if c := g.waitEnded(2)[0]; c.Direction != call.Inbound || c.Outcome != call.Completed {
		t.Errorf("the provider's call: %s %q (%s)", c.Direction, c.Outcome, c.Reason)
	}
}
