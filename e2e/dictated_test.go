package e2e

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/external"
	"github.com/clearline/clearline/internal/speech/speechtest"
)

// scripted is a recogniser that "hears" its lines, one per two seconds of audio. It
// stands in for what cannot run here: pocketsphinx with its small domain model does not
// get a dictated phone number's eleven digits right from synthetic speech, and a
// recogniser that does is what the guard's dictated-number check needs.
type scripted struct{ lines []string }

func (s scripted) Start(string) (speech.Stream, error) { return &scriptedStream{lines: s.lines}, nil }
func (scripted) Name() string                          { return "scripted" }
func (scripted) Close() error                          { return nil }

type scriptedStream struct {
	lines   []string
	samples int64
}

func (s *scriptedStream) Write(samples []int16) ([]speech.Utterance, error) {
	s.samples += int64(len(samples))
	var out []speech.Utterance
	for len(s.lines) > 0 && s.samples >= int64(2*speech.Rate) {
		s.samples -= 2 * speech.Rate
		out = append(out, speech.Utterance{Text: s.lines[0], End: speech.SampleTime(s.samples)})
		s.lines = s.lines[1:]
	}
	return out, nil
}

func (s *scriptedStream) Close() ([]speech.Utterance, error) { return nil, nil }

// serveScripted serves the recogniser over clearline-asr/1 on a loopback port.
func serveScripted(t *testing.T, lines []string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); _ = external.Serve(c, scripted{lines}) })
		}
	})
	return ln.Addr().String()
}

// The "ring me back on my direct line" trick: a caller who sounds like a scam gives a
// number; when the resident then dials it, the guard does not place the call and tells
// them why — the trunk never sees it. Calls to other numbers go out as usual.
func TestNumberDictatedByScamCallerIsNotRung(t *testing.T) {
	lines := []string{
		"this is detective sergeant miller from the metropolitan police fraud squad",
		"we need you to withdraw five thousand pounds in cash as evidence",
		"a courier will come to your house to collect it",
		"do not tell the bank staff they are under investigation",
		"if you are worried ring me back on my direct line oh one six three two nine six oh five five five",
	}
	addr := serveScripted(t, lines)
	g := startGuard(t, func(c *config.Config, _ *guard) {
		c.Listening.Recogniser = "external"
		c.Listening.External = config.ExternalRecogniser{Address: addr}
	})
	c, _ := speakCall(t, g, speechtest.Script{Name: "dictated", Lines: lines}, 2*time.Second)
	if c.Risk == nil || c.Risk.Verdict != "scam" || len(c.Risk.Dictated) != 1 || c.Risk.Dictated[0] != "+441632960555" {
		t.Fatalf("the call's risk %+v: want a scam with the dictated number +441632960555", c.Risk)
	}

	dialler := g.dial("phone_dials_stopped.xml", "01632960555", "-au", "kitchen", "-ap", "s3cret")
	dialler.wait()
	answered := dialler.mustFind(false, "SIP/2.0 200")
	bye := dialler.mustFind(false, "BYE ")
	if d := bye.at.Sub(answered.at); d < 6*time.Second {
		t.Errorf("the guard hung up %v after answering; the explanation lasts about 9 s", d)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="dictated_number"}`); n != 1 {
		t.Errorf("dictated_number prompt played %v times", n)
	}
	calls := g.waitEnded(2)
	if calls[0].Outcome != call.Blocked || calls[0].Leg(call.Trunk).Peer != "" || !strings.Contains(strings.Join(calls[0].Reasons, " "), "signs of a scam") {
		t.Errorf("the dialled call: outcome %v, legs %+v, reasons %q; want blocked with no trunk leg", calls[0].Outcome, calls[0].Legs, calls[0].Reasons)
	}

	// Another number still goes out.
	trunkSide := g.trunk("trunk_answers.xml")
	g.dial("phone_dials.xml", "01632960999", "-au", "kitchen", "-ap", "s3cret").wait()
	trunkSide.wait()
	if c := g.waitEnded(3)[0]; c.Outcome != call.Completed {
		t.Errorf("a call to another number: %v (%q)", c.Outcome, c.Reasons)
	}
	g.waitIdle()
}
