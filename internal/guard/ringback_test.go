package guard

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/screen"
)

// After a phone rings 999, a withheld caller — the ambulance service ringing back — rings
// straight through: not held for a carer, not announced, whatever the household chose for
// unknown callers. (Without the 999 call screening says "withheld" and Carer Check holds
// the caller: TestChain and the Carer Check tests.)
func TestEmergencyRingBackRingsThrough(t *testing.T) {
	provider := startPeerUAS(t, testNet+"2", true, false, nil)
	phone := startTestPhone(t, true)
	g := startTestGuardOpts(t, guardOpts{phone: phone, carers: []Carer{{Name: "Sarah", Number: "+447700900123"}}, screened: true,
		edit: func(c *config.Config) {
			c.Screening.Unknown = "carer"
			c.Trunk.Address = provider.addr
		}})
	withheld := func(id string) {
		caller := newPeer(t, "udp", testNet+"44", 0, g.addr)
		sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", testNet+"44")
		caller.send(fmt.Appendf(nil, "INVITE sip:kitchen@%[1]s SIP/2.0\r\nVia: SIP/2.0/UDP %[2]s;branch=z9hG4bK-%[4]s\r\n"+
			"From: <sip:anonymous@anonymous.invalid>;tag=%[4]s\r\nTo: <sip:kitchen@%[1]s>\r\nCall-ID: %[4]s@test\r\nCSeq: 1 INVITE\r\n"+
			"Privacy: id\r\nContact: <sip:anonymous@%[2]s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %[3]d\r\n\r\n%[5]s",
			g.addr, caller.local, len(sdp), id, sdp))
	}
	live := func() (rule string) {
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if l := g.Live(); len(l) > 0 {
				for _, c := range l {
					if !c.Emergency {
						return c.Rule
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the withheld call never came up")
		return ""
	}

	phoneIP := testNet + "163"
	phoneMedia, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer phoneMedia.Close()
	dialOut(t, g, newPeer(t, "udp", phoneIP, 0, g.addr), phoneMedia, "999")
	rang := len(phone.invites())
	withheld("after-999")
	if rule := live(); rule != screen.EmergencyRingBackRule {
		t.Fatalf("after the 999 call the withheld caller was judged by %q; want %s", rule, screen.EmergencyRingBackRule)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(phone.invites()) == rang {
		if time.Now().After(deadline) {
			t.Fatal("after the 999 call the withheld caller did not ring the phone straight away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
