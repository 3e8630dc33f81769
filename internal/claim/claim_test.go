package claim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/speech"
)

func TestBuiltinCatalogue(t *testing.T) {
	c, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]int{}
	for _, o := range c.Organisations {
		kinds[o.Kind]++
	}
	// Every force of England and Wales and the national ones, the banks, and the rest.
	if kinds[Police] < 50 || kinds[Bank] < 30 || kinds[Government] < 10 || kinds[Company] < 40 || kinds[Family] < 8 {
		t.Errorf("catalogue by kind: %v", kinds)
	}
	for _, w := range []string{"metropolitan", "constabulary", "barclays", "grandson"} {
		if !slices.Contains(c.Words(), w) {
			t.Errorf("the grammars lack %q", w)
		}
	}
	for _, g := range c.Grammars() {
		if strings.Count(g, "public <") != 1 || !strings.Contains(g, "<organisation> = the police") {
			t.Errorf("a grammar needs one public rule and the organisations:\n%.300s", g)
		}
	}
}

func TestFind(t *testing.T) {
	c := Builtin()
	for _, tc := range []struct{ words, want string }{
		{"i'm calling from the metropolitan police", "Metropolitan Police"},
		{"hello this is the met", "Metropolitan Police"},
		{"kent constabulary fraud squad", "Kent Police"},
		{"hampshire and isle of wight constabulary", "Hampshire Police"},
		{"it's the police", "Police"},
		{"we're calling from the bank of scotland", "Bank of Scotland"},
		{"h m r c", "HMRC"},
		{"it's your grandson", "Grandson"},
		{"i'm her grandson", "Grandson"},
		{"it's about your car", ""},
		{"", ""},
	} {
		o, ok := c.Find(tc.words)
		if o.Name != tc.want || ok != (tc.want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", tc.words, o.Name, ok, tc.want)
		}
	}
	for in, want := range map[string]string{"the Met": "Metropolitan Police", "Hampshire Constabulary": "Hampshire Police",
		"BARCLAYS": "Barclays", "Metropolitan Police": "Metropolitan Police", "Acme Ltd": ""} {
		if got := c.Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestParseCatalogueRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"kind":      "spies: MI5 = m i five",
		"shape":     "police Kent Police kent police",
		"bracket":   "police: Kent Police = kent (police | constabulary",
		"duplicate": "police: Kent Police = kent police\nbank: Kent Bank = kent police",
		"empty":     "police: Kent Police = [kent]",
		"pronounce": "police: Kent Police = kent police\npronounce:\nkent",
	} {
		if _, err := ParseCatalogue(text); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: error %v; want one naming the line", name, err)
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand("[the] metropolitan police [service]")
	want := []string{"the metropolitan police service", "the metropolitan police", "metropolitan police service", "metropolitan police"}
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %q", got)
	}
	if got := Expand("kent (police | constabulary)"); !slices.Equal(got, []string{"kent police", "kent constabulary"}) {
		t.Errorf("Expand = %q", got)
	}
}

func TestRead(t *testing.T) {
	c := Builtin()
	cl := c.Read(speech.Heard{Words: "i'm calling from the metropolitan police", Unexplained: 200 * time.Millisecond})
	if cl.Kind != Police || cl.Organisation != "Metropolitan Police" {
		t.Errorf("Read = %+v", cl)
	}
	// A few of the grammar's words with long stretches only silence fits between them:
	// speech outside the grammar.
	if cl := c.Read(speech.Heard{Words: "the nottinghamshire police", Unexplained: 1500 * time.Millisecond}); cl.Kind != Unknown || cl.Words == "" {
		t.Errorf("Read of speech outside the grammar = %+v", cl)
	}
	said := Heard{Heard: speech.Heard{Words: "my collar number is four four nine one"}}
	id := c.ReadID(Claim{Kind: Police, Organisation: "Kent Police", Words: "kent police"}, said)
	if id.Organisation != "Kent Police" || id.IDNumber != "4491" || id.Words != "kent police | my collar number is four four nine one" {
		t.Errorf("ReadID = %+v", id)
	}
	said.Keyed = "4721"
	if id := c.ReadID(Claim{Kind: Police, Organisation: "Kent Police"}, said); id.IDNumber != "4721" || id.Words != "(keyed 4721)" {
		t.Errorf("keyed in, ReadID = %+v", id)
	}
	// Too few or too many keys are no ID number (the hub would refuse the report), but are
	// kept in the words.
	for _, keys := range []string{"12", "12345678901234567890"} {
		said.Keyed = keys
		if id := c.ReadID(Claim{Kind: Police}, said); id.IDNumber != "" || id.Words != "(keyed "+keys+")" {
			t.Errorf("keyed %q, ReadID = %+v", keys, id)
		}
	}
}

func TestDigits(t *testing.T) {
	for words, want := range map[string]string{
		"four seven two one":                          "4721",
		"my collar number is four seven two one":      "4721",
		"double four two one":                         "4421",
		"triple seven one":                            "7771",
		"oh seven one nine":                           "0719",
		"five five three two one":                     "55321",
		"metropolitan police":                         "",
		"four seven and my name is two one":           "47",
		"metropolitan police four seven two one nine": "47219",
	} {
		if got := Digits(words); got != want {
			t.Errorf("Digits(%q) = %q; want %q", words, got, want)
		}
	}
}

func TestShouldAsk(t *testing.T) {
	allow := screen.Verdict{Action: screen.Allow, Rule: "default"}
	trusted := screen.Verdict{Action: screen.Allow, Rule: AllowListRule}
	warned := screen.Verdict{Action: screen.Warn, Rule: "display-name"}
	withheld := screen.Verdict{Action: screen.Screen, Rule: "withheld"}
	blocked := screen.Verdict{Action: screen.Block, Rule: "do-not-originate"}
	ringBack := screen.Verdict{Action: screen.Allow, Rule: screen.EmergencyRingBackRule}
	for _, tc := range []struct {
		mode   string
		v      screen.Verdict
		rang   bool
		want   bool
		reason string
	}{
		{"never", warned, false, false, "never asks"},
		{"warned", warned, false, true, "the default asks warned callers"},
		{"warned", allow, false, false, "and no others"},
		{"warned", withheld, false, false, "a withheld number is announced as before"},
		{"unknown", allow, false, true, "a caller not on the allow-list"},
		{"unknown", allow, true, false, "a number the household rang itself"},
		{"unknown", warned, true, true, "a number rung lately, but warned about"},
		{"unknown", withheld, false, true, "withheld"},
		{"always", allow, true, true, "everyone"},
		{"always", trusted, false, false, "but trusted contacts"},
		{"unknown", trusted, false, false, "trusted contacts"},
		{"always", blocked, false, false, "blocked callers never get this far"},
		{"always", ringBack, false, false, "a call soon after the household rang 999 may be the emergency services ringing back"},
		{"unknown", ringBack, false, false, "nor under unknown"},
	} {
		a, err := ParseAsking(tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.ShouldAsk(Caller{Verdict: tc.v, Rang: tc.rang}); got != tc.want {
			t.Errorf("%s (%s, %s): ShouldAsk = %v", tc.reason, tc.mode, tc.v.Rule, got)
		}
	}
	if _, err := ParseAsking("sometimes"); err == nil || !strings.Contains(err.Error(), "never, unknown, warned or always") {
		t.Errorf("ParseAsking: %v", err)
	}
}

func TestTellingAndChoosing(t *testing.T) {
	police := Claim{Kind: Police, Organisation: "Metropolitan Police", IDNumber: "4721", Answered: true}
	want := []Part{{Prompt: "claim_police"}, {Said: true}, {Prompt: "claim_id"}, {Digits: "4721"}, {Prompt: "advice_police"}, {Prompt: "choice_police"}}
	if got := police.Telling(false); !slices.Equal(got, want) {
		t.Errorf("Telling = %+v", got)
	}
	bank := Claim{Kind: Bank, Organisation: "Barclays", Answered: true}
	if got := bank.Telling(true); !slices.Contains(got, Part{Prompt: "claim_no_id"}) || got[len(got)-1].Prompt != "choice_bank" {
		t.Errorf("a bank without an ID, the household's bank known: %+v", got)
	}
	family := Claim{Kind: Family, Organisation: "Grandson", Answered: true}
	if got := family.Telling(true); slices.Contains(got, Part{Prompt: "claim_no_id"}) || got[len(got)-1].Prompt != "choice_other" {
		t.Errorf("family: %+v", got)
	}
	silent := Claim{}
	if got := silent.Telling(true); got[0].Prompt != "claim_silent" || slices.Contains(got, Part{Said: true}) {
		t.Errorf("silent: %+v", got)
	}
	for _, tc := range []struct {
		cl       Claim
		key      byte
		haveBank bool
		want     Choice
	}{
		{police, '1', false, Talk},
		{police, '2', true, RingPolice},
		{police, '3', false, Refuse},
		{police, '9', false, Refuse},
		{police, 0, false, NoChoice},
		{bank, '2', true, RingBank},
		{bank, '2', false, RingPolice},
		{family, '2', true, Refuse},
		{silent, '2', true, Refuse},
		{silent, '1', true, Talk},
	} {
		if got := tc.cl.Choose(tc.key, tc.haveBank); got != tc.want {
			t.Errorf("%v pressing %q (bank known %v): %v; want %v", tc.cl.Kind, tc.key, tc.haveBank, got, tc.want)
		}
	}
	if !silent.RingThrough(false) || silent.RingThrough(true) || police.RingThrough(false) {
		t.Error("only a caller who would not answer rings through, and only where unknown callers ring")
	}
}

func TestKindText(t *testing.T) {
	for _, k := range []Kind{Unknown, Police, Bank, Government, Company, Family} {
		b, _ := k.MarshalText()
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v round trip: %v %v", k, back, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("spies")); err == nil {
		t.Error("unknown kind accepted")
	}
	if !Police.Authority() || !Bank.Authority() || !Government.Authority() || Company.Authority() || Family.Authority() || Unknown.Authority() {
		t.Error("Authority")
	}
}
