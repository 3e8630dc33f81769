package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/call"
	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/media"
	"github.com/clearline/clearline/internal/speech/voices"
)

// The guard asks a caller who they are, as the police advise: callers on the trunk speak
// their answers (recorded speech in several of Debian's voices, as SIPp plays it), the
// guard hears them against its grammars, and the resident — a SIPp phone whose audio the
// test receives — hears who is calling and presses a key.

// askingGuard is a guard that asks callers who they are (screening.ask) with its real
// grammar recogniser.
func askingGuard(t *testing.T, ask string, edit func(*config.Config, *guard)) *guard {
	return startGuard(t, func(c *config.Config, g *guard) {
		c.Screening.Ask = ask
		c.Media.Timeout = config.Dur(60 * time.Second)
		if edit != nil {
			edit(c, g)
		}
	})
}

// prompt is a guard's spoken prompt, for finding in what the phone heard.
func prompt(t *testing.T, name string) []byte {
	t.Helper()
	p, err := media.Prompt(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seconds is how long mu-law audio lasts.
func seconds(ulaw []byte) time.Duration { return time.Duration(len(ulaw)) * time.Second / 8000 }

// quiet is d of mu-law silence.
func quiet(d time.Duration) []byte { return bytes.Repeat([]byte{0xff}, int(d.Seconds()*8000)) }

// reply is the moment a person takes to answer a question.
const reply = 600 * time.Millisecond

// firstAt is when a caller begins their first answer, from the guard's answering the call.
func firstAt(t *testing.T) time.Duration {
	return seconds(prompt(t, "ask_who")) + 250*time.Millisecond + reply
}

// secondAt is when a caller whose first answer lasts first begins the second: the guard
// decides the first is over 0.8 s after its last word, then asks.
func secondAt(t *testing.T, first time.Duration) time.Duration {
	return firstAt(t) + first + 800*time.Millisecond + 300*time.Millisecond + seconds(prompt(t, "ask_id")) + 250*time.Millisecond + reply
}

// stillAsked is how long a caller whose answer lasts answer is still asked for their ID
// number once the phones ring, which they do as the question begins: the question, the
// caller's moment to reply, the answer, the pause that ends it. A phone in these tests
// answers at once and hears ask_wait meanwhile.
func stillAsked(t *testing.T, answer time.Duration) time.Duration {
	return seconds(prompt(t, "ask_id")) + 250*time.Millisecond + reply + answer + 1100*time.Millisecond
}

// keying is what a SIPp caller does to press keys at after the call is answered: a pause,
// then each of SIPp's RFC 4733 recordings in turn.
func keying(at time.Duration, keys string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  <pause milliseconds=\"%d\"/>\n", at.Milliseconds())
	for _, k := range keys {
		name := string(k)
		if k == '#' {
			name = "pound"
		}
		fmt.Fprintf(&b, "  <nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_%s.pcap\"/></action></nop>\n  <pause milliseconds=\"400\"/>\n", name)
	}
	return b.String()
}

// answers lays out what a caller says in answer to the guard's questions, in voice, down a
// noisy line: silence while the first question is asked, the first answer, silence while
// the guard hears it end and asks the second, the second answer, then after more, what
// they say once connected. It returns the audio and each answer's speech.
func answers(t *testing.T, voice string, first, second, after string) ([]byte, [][]byte) {
	t.Helper()
	v, err := voices.Find(voice)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) []byte {
		sp, err := v.Speak(voices.Line{SNR: 25, Seed: 19}, text)
		if err != nil {
			t.Fatal(err)
		}
		return sp.Ulaw[:int(sp.Ends[0].Seconds()*8000)]
	}
	audio := quiet(firstAt(t))
	var said [][]byte
	if first != "" {
		a := say(first)
		said = append(said, a)
		audio = append(audio, a...)
	}
	if second != "" {
		audio = append(audio, quiet(secondAt(t, seconds(said[0]))-seconds(audio))...)
		a := say(second)
		said = append(said, a)
		audio = append(audio, a...)
	}
	if after != "" {
		audio = append(audio, quiet(30*time.Second)...) // the resident hears who it is and chooses
		audio = append(audio, say(after)...)
	}
	return append(audio, quiet(2*time.Second)...), said
}

// askedCall has a caller from number, with display name, speak audio to the guard, which asks them who they
// are, and do keys (a keying, or nothing) meanwhile; the phone answers, hears who is calling for wait, presses key, and then waits for
// the call to end, or hangs up after talk when talk is not 0. The caller stays until the
// guard releases them. It returns the caller, the phone and what the phone heard.
func askedCall(t *testing.T, g *guard, number, name string, audio []byte, keys string, key byte, wait, talk time.Duration) (*sipp, *sipp, *heard) {
	t.Helper()
	dir := t.TempDir()
	pcap := filepath.Join(dir, "answers.pcap")
	if err := writePCAP(pcap, audio); err != nil {
		t.Fatal(err)
	}
	phoneXML, err := os.ReadFile(filepath.Join(scenarios, "phone_asked.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	drop := "hangs up"
	if talk > 0 {
		drop = "waits"
	}
	unused := regexp.MustCompile(`(?s)<!--` + drop + `-->.*<!--/` + drop + `-->`)
	phoneScenario := filepath.Join(dir, "phone_asked.xml")
	src := strings.NewReplacer("@WAIT@", strconv.Itoa(int(wait.Milliseconds())), "@KEY@", string(key),
		"@TALK@", strconv.Itoa(int(talk.Milliseconds()))).Replace(unused.ReplaceAllString(string(phoneXML), ""))
	if err := os.WriteFile(phoneScenario, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	callerScenario := fillScenario(t, dir, "caller_answers.xml.tmpl", strings.NewReplacer("@PCAP@", pcap, "@KEYS@", keys))
	h := listenAsPhone(t)
	phone := g.phone(phoneScenario, "-key", "audio_port", strconv.Itoa(h.port()), "-timeout", "180s")
	caller := g.callerAs(number, name, callerScenario, "-timeout", "180s")
	phone.limit, caller.limit = 150*time.Second, 150*time.Second
	return caller, phone, h
}

// received is everything the phone was sent, in order.
func (h *heard) received() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []byte
	for _, p := range h.pkts {
		all = append(all, p.payload...)
	}
	return all
}

// inOrder checks that each part reached the phone whole, each after the one before.
func inOrder(t *testing.T, got []byte, names []string, parts ...[]byte) {
	t.Helper()
	at := 0
	for i, p := range parts {
		j := bytes.Index(got[at:], p)
		if j < 0 {
			t.Errorf("the phone did not hear %s (after what it heard before it)", names[i])
			return
		}
		at += j + len(p)
	}
}

// telling is how long the resident hears who is calling, from the prompts the guard plays
// and the caller's answers (the guard records each from the question's end to 0.8 s after
// the last word).
func telling(t *testing.T, said [][]byte, prompts ...string) time.Duration {
	d := time.Second // the answers as recorded: the caller's moment to reply, the pause after
	for _, s := range said {
		d += seconds(s) + 1500*time.Millisecond
	}
	for _, p := range prompts {
		d += seconds(prompt(t, p))
	}
	return d
}

// calls reads the guard's call log until n calls have ended, oldest first.
func endedCalls(g *guard, n int) []call.Call {
	cs := g.waitEnded(n)
	slices.Reverse(cs)
	return cs
}

// A caller who says they are the Metropolitan Police, with collar number 4721: the guard
// asks, hears, records; the resident hears who it is in the caller's own words, the number
// read out, and the police's advice, and presses 1; the caller is put through and the
// detector starts the call knowing the claim. The guard's report reaches the hub with the
// claim and the ID number, and a relative's report of another call using the same number
// joins it in one campaign.
func TestAskedPoliceCallerReachesRecordPhoneAndHub(t *testing.T) {
	t.Parallel()
	listen := freeTCP(t)
	g := askingGuard(t, "warned", func(c *config.Config, _ *guard) {
		c.Household.District = "Winchester"
		c.Hub.Run, c.Hub.Listen = true, listen
		c.Listening.Recogniser, c.Listening.Decoders = "pocketsphinx", 1
	})
	audio, said := answers(t, "flite-kal", "I'm calling from the Metropolitan Police.", "My collar number is four seven two one.",
		"We need you to withdraw five thousand pounds in cash as evidence.")
	wait := stillAsked(t, seconds(said[1])) + telling(t, said, "claim_police", "claim_id", "digit_4", "digit_7", "digit_2", "digit_1", "advice_police", "choice_police")
	caller, phone, h := askedCall(t, g, "+442085550111", "Met Police", audio, "", '1', wait, 12*time.Second)
	phone.wait()
	caller.wait()
	c := endedCalls(g, 1)[0]
	want := call.Claim{Kind: "police", Organisation: "Metropolitan Police", IDNumber: "4721", NameAudio: true, Answered: true, Choice: "talk"}
	got := *c.Claim
	got.Words = ""
	if got != want {
		t.Fatalf("claim %+v (heard %q); want %+v", got, c.Claim.Words, want)
	}
	if c.Verdict != "warn" || c.Outcome != call.Completed || c.AnsweredAt.IsZero() {
		t.Errorf("verdict %q outcome %q answered %v (%s)", c.Verdict, c.Outcome, c.AnsweredAt, c.Reason)
	}
	var fetched struct {
		Claim map[string]any `json:"claim"`
	}
	if code := g.getJSON("/api/calls/"+c.ID, &fetched); code != http.StatusOK || fetched.Claim["id_number"] != "4721" || fetched.Claim["name_audio"] != true {
		t.Errorf("GET /api/calls/%s: %d, claim %v", c.ID, code, fetched.Claim)
	}
	heard := h.received()
	// The phone rang as the caller was asked for their number, and its resident was asked to hold.
	inOrder(t, heard, []string{"to hold while the caller is asked", "who the caller says they are", "the caller's first answer", "their second", "the ID prompt",
		"4", "7", "2", "1", "the police's advice", "the choice"},
		prompt(t, "ask_wait"), prompt(t, "claim_police"), said[0][len(said[0])/4:len(said[0])*3/4], said[1][len(said[1])/4:len(said[1])*3/4],
		prompt(t, "claim_id"), prompt(t, "digit_4"), prompt(t, "digit_7"), prompt(t, "digit_2"), prompt(t, "digit_1"),
		prompt(t, "advice_police"), prompt(t, "choice_police"))
	if r := c.Risk; r == nil || len(r.Indicators) == 0 || r.Indicators[0].Kind != "authority_claim" || r.Indicators[0].Evidence != "metropolitan police" {
		t.Errorf("the detector did not start with the claim: %+v", c.Risk)
	}
	// The hub has the guard's report; a relative reports another call with the same ID.
	hubURL := "http://" + g.http
	var report struct {
		ID string `json:"id"`
	}
	res, err := http.Post(hubURL+"/api/v1/reports", "application/json", strings.NewReader(`{"at":"`+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)+
		`","district":"Test Valley","contact":"call","number":"01632 960 777","claimed":"police","officer":"DS Carter","force":"Met","badge_number":"4721","asked_for":"cash"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(res.Body).Decode(&report)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("the relative's report: %d", res.StatusCode)
	}
	addUser(t, g.cfg.DataDir, "analyst@example.org", dash.Analyst, "", nil)
	a := loginAnalyst(t, hubURL, "analyst@example.org")
	var camp struct {
		ID        string
		Reports   []string
		IDNumbers []string
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct{ Campaigns []json.RawMessage }
		a.do("GET", "/api/v1/hub/campaigns", nil, &list)
		if len(list.Campaigns) > 0 {
			_ = json.Unmarshal(list.Campaigns[0], &camp)
			if len(camp.Reports) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guard's report and the relative's were not linked: %d campaigns", len(list.Campaigns))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !slices.Contains(camp.Reports, "call-"+c.ID) || !slices.Contains(camp.Reports, report.ID) || !slices.Equal(camp.IDNumbers, []string{"4721"}) {
		t.Errorf("campaign %+v; want the guard's and the relative's reports, ID 4721", camp)
	}
	var detail struct {
		Reports []map[string]any `json:"reports"`
	}
	a.do("GET", "/api/v1/hub/campaigns/"+camp.ID, nil, &detail)
	for _, r := range detail.Reports {
		if r["id"] != "call-"+c.ID {
			continue
		}
		if r["claim_kind"] != "police" || r["claimed"] != "metropolitan police" || r["force"] != "Metropolitan Police" || r["badge_number"] != "4721" {
			t.Errorf("the guard's report: %v", r)
		}
		if b, _ := json.Marshal(r); bytes.Contains(b, []byte("kitchen")) || bytes.Contains(b, []byte(`"home"`)) {
			t.Errorf("the report carries the household's details: %s", b)
		}
	}
}

// Pressing 2 has the guard ring the police: the caller is released at once, and a fresh
// INVITE for 101 reaches the trunk, announced to the resident as a new call; pressing 3
// refuses the caller, who keyed their ID number in rather than saying it. Each in another
// voice, at once.
func TestAskedCallerResidentChooses(t *testing.T) {
	t.Parallel()
	t.Run("2 rings the police afresh", func(t *testing.T) {
		t.Parallel()
		g := askingGuard(t, "unknown", nil)
		audio, said := answers(t, "flite-rms", "This is Kent Police.", "My warrant number is six one nine three.", "")
		wait := stillAsked(t, seconds(said[1])) + telling(t, said, "claim_police", "claim_id", "digit_6", "digit_1", "digit_9", "digit_3", "advice_police", "choice_police")
		trunkSide := g.trunk("trunk_answers.xml", "-timeout", "180s")
		trunkSide.limit = 150 * time.Second
		caller, phone, _ := askedCall(t, g, "+442085550112", "Unknown", audio, "", '2', wait, 10*time.Second)
		phone.wait()
		caller.wait()
		trunkSide.wait()
		bye := caller.mustFind(false, "BYE ")
		inv := trunkSide.mustFind(false, "INVITE sip:101@")
		if inv.header("Call-ID") == caller.mustFind(true, "INVITE ").header("Call-ID") || inv.at.Before(bye.at) {
			t.Errorf("the call to 101 (%v) must be a new call, placed after the caller was released (%v)", inv.at, bye.at)
		}
		calls := endedCalls(g, 2)
		asked, fresh := calls[0], calls[1]
		if asked.Claim == nil || asked.Claim.Kind != "police" || asked.Claim.Organisation != "Kent Police" || asked.Claim.IDNumber != "6193" ||
			asked.Claim.Choice != "ring_police" || asked.Outcome != call.Blocked {
			t.Errorf("the asked call: outcome %q, claim %+v", asked.Outcome, asked.Claim)
		}
		if fresh.Direction != call.Outbound || !strings.Contains(fresh.To, "101@") || fresh.Outcome != call.Completed || fresh.EndedBy != call.ByHousehold {
			t.Errorf("the call to the police: %+v", fresh)
		}
		if n := g.metric(`clearline_prompts_played_total{prompt="callback_police"}`); n != 1 {
			t.Errorf("the fresh-line announcement played %v times", n)
		}
		g.waitIdle()
	})
	t.Run("3 refuses", func(t *testing.T) {
		t.Parallel()
		g := askingGuard(t, "always", nil)
		// The caller keys the number in. (No digit twice in a row: SIPp's recordings of one
		// key carry the same RTP timestamp, which is how a repeated press is told apart.)
		audio, said := answers(t, "festival-kal", "I'm calling from Barclays.", "", "")
		wait := stillAsked(t, 5*400*time.Millisecond) + telling(t, said, "claim_bank", "claim_id", "digit_5", "digit_8", "digit_3", "digit_2", "digit_1", "advice_bank", "choice_police") + 4*time.Second
		caller, phone, h := askedCall(t, g, "+442085550113", "Unknown", audio, keying(secondAt(t, seconds(said[0])), "58321#"), '3', wait, 0)
		phone.wait()
		caller.wait()
		caller.mustFind(false, "BYE ")
		phone.mustFind(false, "BYE ")
		c := endedCalls(g, 1)[0]
		if c.Claim == nil || c.Claim.Kind != "bank" || c.Claim.Organisation != "Barclays" || c.Claim.IDNumber != "58321" || c.Claim.Choice != "refuse" ||
			c.Outcome != call.Blocked || !c.AnsweredAt.IsZero() {
			t.Errorf("outcome %q answered %v, claim %+v", c.Outcome, c.AnsweredAt, c.Claim)
		}
		inOrder(t, h.received(), []string{"who the caller says they are", "the bank's advice"}, prompt(t, "claim_bank"), prompt(t, "advice_bank"))
		g.waitIdle()
	})
}

// The phones ring as a police caller is asked for their ID number; a caller who hangs up
// then is released with the phone that answered, and the call is recorded as ended by them.
func TestAskedCallerHangsUpWhileThePhonesRing(t *testing.T) {
	t.Parallel()
	g := askingGuard(t, "unknown", nil)
	audio, said := answers(t, "flite-awb", "This is Kent Police.", "", "")
	dir := t.TempDir()
	pcap := filepath.Join(dir, "answers.pcap")
	if err := writePCAP(pcap, audio); err != nil {
		t.Fatal(err)
	}
	hangUp := secondAt(t, seconds(said[0])) + time.Second // while the ID question waits for an answer
	callerScenario := fillScenario(t, dir, "caller_answers_hangs_up.xml.tmpl",
		strings.NewReplacer("@PCAP@", pcap, "@HANGUP@", strconv.Itoa(int(hangUp.Milliseconds()))))
	phone := g.phone("phone_rings_answers.xml", "-timeout", "60s")
	caller := g.callerAs("+442085550115", "Unknown", callerScenario, "-timeout", "60s")
	caller.wait()
	phone.wait()
	rang := phone.mustFind(false, "INVITE ")
	bye := caller.mustFind(true, "BYE ")
	released := phone.mustFind(false, "BYE ")
	if !rang.at.Before(bye.at) {
		t.Errorf("the phone rang at %v, after the caller hung up at %v; want it rung during the ID question", rang.at, bye.at)
	}
	if d := released.at.Sub(bye.at); d > time.Second {
		t.Errorf("the phone was released %v after the caller hung up", d)
	}
	c := endedCalls(g, 1)[0]
	if c.EndedBy != call.ByCaller || c.Reason != "the caller hung up while asked who they are" || c.Claim == nil || c.Claim.Kind != "police" {
		t.Errorf("ended by %v because %q, claim %+v", c.EndedBy, c.Reason, c.Claim)
	}
	g.waitIdle()
}

// A caller who says nothing is treated as the household's unknown choice says: with
// screening.unknown: screen the resident hears that the caller would not answer, and chooses.
func TestAskedCallerSilent(t *testing.T) {
	t.Parallel()
	g := askingGuard(t, "always", func(c *config.Config, _ *guard) { c.Screening.Unknown = "screen" })
	audio, _ := answers(t, "espeak-en-us-s150-p50", "", "", "")
	wait := seconds(prompt(t, "claim_silent")) + seconds(prompt(t, "choice_other")) + 1500*time.Millisecond
	caller, phone, h := askedCall(t, g, "+442085550114", "Unknown", append(audio, quiet(20*time.Second)...), "", '3', wait, 0)
	phone.wait()
	caller.wait()
	c := endedCalls(g, 1)[0]
	if c.Claim == nil || c.Claim.Answered || c.Claim.Kind != claim.Unknown.String() || c.Claim.IDNumber != "" || c.Outcome != call.Blocked {
		t.Errorf("outcome %q claim %+v", c.Outcome, c.Claim)
	}
	if n := g.metric(`clearline_prompts_played_total{prompt="ask_id"}`); n != 0 {
		t.Error("a caller who said nothing was asked for an ID number")
	}
	inOrder(t, h.received(), []string{"that the caller would not answer", "the choice"}, prompt(t, "claim_silent"), prompt(t, "choice_other"))
}

// Trusted contacts are never asked, whatever the household's setting; emergency calls go
// out at once.
func TestAskingSparesTrustedAndEmergency(t *testing.T) {
	t.Parallel()
	g := askingGuard(t, "always", func(c *config.Config, _ *guard) { c.Screening.Allow = []string{"01632 960 001"} })
	phone := g.phone("phone_answers.xml")
	caller := g.callerAs("+441632960001", "Police Family Liaison", "caller_hangs_up.xml")
	caller.wait()
	phone.wait()
	if d := phone.mustFind(false, "INVITE ").at.Sub(caller.mustFind(true, "INVITE ").at); d > time.Second {
		t.Errorf("the trusted contact's call reached the phone after %v", d)
	}
	c := g.waitEnded(1)[0]
	if c.Claim != nil || c.Outcome != call.Completed || g.metric(`clearline_prompts_played_total{prompt="ask_who"}`) != 0 {
		t.Errorf("a trusted contact was asked: claim %+v, outcome %q", c.Claim, c.Outcome)
	}
	trunkSide := g.trunk("trunk_answers.xml")
	dialler := g.dial("phone_dials_emergency.xml", "999")
	dialler.wait()
	trunkSide.wait()
	if d := trunkSide.mustFind(false, "INVITE sip:999@").at.Sub(dialler.mustFind(true, "INVITE ").at); d > 500*time.Millisecond {
		t.Errorf("999 reached the trunk after %v", d)
	}
	if e := g.waitEnded(2)[0]; !e.Emergency || e.Claim != nil {
		t.Errorf("emergency call %+v", e)
	}
}
