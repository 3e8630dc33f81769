package detect

import (
	"strings"
	"testing"
)

// Each indicator, as a speech recogniser would write it: lowercase, no punctuation, numbers
// as words, split and misheard words.
func TestIndicatorsInASRText(t *testing.T) {
	tests := []struct {
		kind Indicator
		text string
	}{
		{AuthorityClaim, "hello this is detective sergeant collins from the metro politan police"},
		{AuthorityClaim, "im calling from the fraud squad at scotland yard"},
		{AuthorityClaim, "its d c walker city of london police fraud team"},
		{AuthorityClaim, "we are ringing from your banks fraud prevention department"},
		{AuthorityClaim, "my warrant card number is four four two one"},
		{CashWithdrawal, "we need you to with draw five thousand pounds from your account"},
		{CashWithdrawal, "can you take out some cash from the branch for us"},
		{CashWithdrawal, "pop down to the post office and get the money out"},
		{CashWithdrawal, "the notes will be checked as evidence for counterfeit"},
		{CourierCollection, "a currier will come to your house to collect the envelope"},
		{CourierCollection, "well send one of our officers round this afternoon"},
		{CourierCollection, "put the cash in an envelop and seal it"},
		{CourierCollection, "hand it over to my colleague when he arrives"},
		{CardOrPINRequest, "just tap your pen number into the keypad for me"},
		{CardOrPINRequest, "read me the long number on the front and the three digits on the back"},
		{CardOrPINRequest, "cut your bank card in half but leave the chip"},
		{CardOrPINRequest, "give your debit card to the driver"},
		{SafeAccountTransfer, "we have set up a safe a count in your name"},
		{SafeAccountTransfer, "transfer your savings into the new account i give you"},
		{UrgencyOrThreat, "your account has been hacked by someone inside the bank"},
		{HighValuePurchase, "we need you to buy some gold bars from the dealer"},
		{HighValuePurchase, "purchase a rolex watch from the jewellers on the high street"},
		{HighValuePurchase, "go and get two hundred pounds of itunes vouchers"},
		{Secrecy, "dont tell the cashier what the money is for"},
		{Secrecy, "this is strictly confidential you mustnt mention it to your family"},
		{Secrecy, "the staff at your branch are under investigation"},
		{Secrecy, "if they ask just say its for a new kitchen"},
		{UrgencyOrThreat, "you could be arrested for perverting the course of justice"},
		{UrgencyOrThreat, "you have to do this today before the bank closes"},
		{UrgencyOrThreat, "if you dont youll lose all your savings"},
		{CallbackTrick, "hang up and ring one oh one theyll confirm who i am"},
		{CallbackTrick, "call nine nine nine to check im genuine ill stay on the line"},
		{CallbackTrick, "dont put the phone down"},
		{DictatedNumber, "ring me back on oh two oh seven nine four six oh one two three"},
		{DictatedNumber, "write down this number its my direct line"},
		{RemoteAccess, "download any desk from the app store"},
		{RemoteAccess, "let me have remote access to your computer"},
		{RemoteAccess, "now log into your online banking for me"},
		{PersonalDetails, "whats your mothers maiden name"},
		{PersonalDetails, "read me the one time passcode we just texted"},
		{PersonalDetails, "i need your sort code and account number"},
	}
	d := New()
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.text, func(t *testing.T) {
			a := d.NewCall().Feed(Segment{Speaker: "caller", Text: tt.text, T: 1})
			for _, f := range a.Indicators {
				if f.Kind == tt.kind {
					if f.Evidence == "" || f.T != 1 {
						t.Errorf("finding without evidence or time: %+v", f)
					}
					return
				}
			}
			t.Errorf("%s not found; got %+v", tt.kind, a.Indicators)
		})
	}
}

// Genuine calls say the same words innocently, or give the very advice scammers subvert.
func TestNegatedAdviceIsNotAnIndicator(t *testing.T) {
	d := New()
	for _, text := range []string{
		"we will never ask for your pin",
		"the bank will never ask you to move money to a safe account",
		"never hand your card to a courier",
		"the police would never ask you to withdraw cash",
	} {
		a := d.NewCall().Feed(Segment{Text: text})
		for _, f := range a.Indicators {
			switch f.Kind {
			case CardOrPINRequest, SafeAccountTransfer, CourierCollection, CashWithdrawal:
				t.Errorf("%q gave %s (%q)", text, f.Kind, f.Evidence)
			}
		}
	}
}

func feedAll(d *Detector, lines ...string) Assessment {
	c := d.NewCall()
	var a Assessment
	for i, l := range lines {
		speaker := "caller"
		if rest, ok := strings.CutPrefix(l, "R: "); ok {
			speaker, l = "resident", rest
		}
		a = c.Feed(Segment{Speaker: speaker, Text: l, T: float64(i)})
	}
	return a
}

// Whole calls written for this test, not drawn from the corpus.
func TestCalls(t *testing.T) {
	tests := []struct {
		name  string
		want  Verdict
		lines []string
	}{
		{"courier fraud", Scam, []string{
			"good morning am i speaking to mrs harris",
			"this is detective constable ryan from the metropolitan police economic crime unit",
			"we have a man in custody who had your name and bank details",
			"weve reason to think a cashier at your branch is helping him",
			"so its important you dont say anything to them",
			"what we need is for you to with draw four thousand pounds",
			"an officer will come by and collect it so we can check it for fingerprints",
		}},
		{"safe account", Scam, []string{
			"hello im calling from lloyds fraud team",
			"theres been an attempt to take money from your account",
			"to keep your money safe you need to move it to a holding account",
			"please dont tell anyone in the branch as its an inside job",
		}},
		{"callback trick and cash", Scam, []string{
			"this is sergeant black from hampshire police",
			"i know this sounds strange so put the phone down and ring one oh one ill wait",
			"R: hello is that the police",
			"yes its me again you see im genuine",
			"now go to the bank and take out two grand in cash",
		}},
		{"real bank confirming a payment", OK, []string{
			"hello its santander card services calling about a payment on your card",
			"can you confirm your date of birth please",
			"did you spend thirty four pounds at asda yesterday",
			"R: yes that was me",
			"thank you your card will carry on working as normal we will never ask for your pin",
		}},
		{"neighbourhood officer", OK, []string{
			"hello its pc jenkins your local neighbourhood officer",
			"were holding a community meeting about scams at the church hall on friday",
			"remember the police will never ask you to withdraw money or send a courier",
			"hope to see you there bye",
		}},
		{"gp surgery", OK, []string{
			"hello its the health centre could i check your date of birth",
			"the doctor wants to see you about your test results on tuesday",
			"take one tablet twice a day",
		}},
		{"grandchild", OK, []string{
			"hiya nan its jack",
			"R: hello darling i need to go to the bank and get some cash out for the hairdresser",
			"ill take you on saturday dont tell mum about the new car yet its a surprise",
		}},
		{"delivery", OK, []string{
			"hi its the courier from evri i have a parcel for you",
			"ill be there in ten minutes can you come to the door",
			"or i can leave it with your neighbour",
		}},
		{"police calling back about a burglary", OK, []string{
			"hello this is detective constable price from thames valley police about your burglary",
			"your crime reference number is four five six seven",
			"if you think of anything else call one oh one quoting that number",
		}},
	}
	d := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := feedAll(d, tt.lines...)
			if a.Verdict != tt.want {
				t.Errorf("verdict %s (risk %.2f); want %s; indicators %+v", a.Verdict, a.Risk, tt.want, a.Indicators)
			}
		})
	}
}

// Combination matters: an authority claim alone, or cash alone, is not a scam.
func TestOneSignAloneIsNotAScam(t *testing.T) {
	d := New()
	for _, text := range []string{
		"this is detective sergeant hughes from kent police",
		"i need to withdraw some cash for the window cleaner",
		"the courier will collect the parcel tomorrow",
		"dont tell anyone its a surprise party",
	} {
		if a := feedAll(d, text); a.Verdict == Scam {
			t.Errorf("%q alone gave scam (risk %.2f)", text, a.Risk)
		}
	}
}

func TestStreamingRisesAsTheScriptUnfolds(t *testing.T) {
	c := New().NewCall()
	lines := []string{
		"hello is that mr singh",
		"this is detective inspector ward from surrey police",
		"we need you to take out five thousand pounds in cash",
		"do not tell the bank staff why",
		"a courier will collect it from you at four",
	}
	prev := -1.0
	for i, l := range lines {
		a := c.Feed(Segment{Speaker: "caller", Text: l, T: float64(i * 5)})
		if a.Risk < prev-1e-9 {
			t.Errorf("risk fell from %.2f to %.2f at %q", prev, a.Risk, l)
		}
		prev = a.Risk
		if i == 0 && a.Verdict != OK {
			t.Errorf("a greeting is %s", a.Verdict)
		}
	}
	final := c.Assessment()
	if final.Verdict != Scam {
		t.Fatalf("final verdict %s (%.2f)", final.Verdict, final.Risk)
	}
	// Each indicator keeps the time it was first said.
	want := map[Indicator]float64{AuthorityClaim: 5, CashWithdrawal: 10, Secrecy: 15, CourierCollection: 20}
	for _, f := range final.Indicators {
		if w, ok := want[f.Kind]; ok && f.T != w {
			t.Errorf("%s at t=%v; want %v", f.Kind, f.T, w)
		}
	}
}

func TestPhraseSplitAcrossSegments(t *testing.T) {
	c := New().NewCall()
	c.Feed(Segment{Text: "we have set up a safe"})
	a := c.Feed(Segment{Text: "account for your savings"})
	for _, f := range a.Indicators {
		if f.Kind == SafeAccountTransfer {
			return
		}
	}
	t.Errorf("safe account split across two segments not found: %+v", a.Indicators)
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Hang up, and ring 101!":           " hang up and ring 101 ",
		"ring one oh one":                  " ring 101 ",
		"nine nine nine":                   " 999 ",
		"no one else, one of our officers": " no one else one of our officers ",
		"oh dear":                          " oh dear ",
		"oh seven seven oh oh nine double": " 077009 double ",
		"two thousand pounds":              " 2000 pounds ",
		"three hundred and forty pounds":   " 300 and 40 pounds ",
		"a thousand pounds":                " a 1000 pounds ",
		"don't tell the cash here":         " do not tell the cashier ",
		"any desk":                         " anydesk ",
		"I'll stay on the line":            " i will stay on the line ",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzFeed(f *testing.F) {
	f.Add("hello this is detective sergeant collins", "with draw five thousand pounds")
	f.Add("", "\x00\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		c := New().NewCall()
		c.Feed(Segment{Text: a})
		r := c.Feed(Segment{Text: b})
		if r.Risk < 0 || r.Risk > 1 || (len(r.Indicators) == 0 && r.Risk > noIndicatorCap) {
			t.Fatalf("risk %v with %d indicators", r.Risk, len(r.Indicators))
		}
	})
}

// A fact known from outside the words (the caller's answer to the guard's question) counts
// as a finding: with it, fewer heard words reach a scam.
func TestKnownClaimCounts(t *testing.T) {
	d := New()
	c := d.NewCall()
	a := c.Know(Finding{Kind: AuthorityClaim, Evidence: "metropolitan police", T: 0})
	if len(a.Indicators) != 1 || a.Indicators[0].Kind != AuthorityClaim || a.Verdict == Scam {
		t.Fatalf("after the claim alone: %+v", a)
	}
	a = c.Feed(Segment{Speaker: "caller", Text: "we need you to with draw five thousand pounds as evidence dont tell the cashier", T: 9})
	if a.Verdict != Scam {
		t.Errorf("claim known, then cash and secrecy heard: %v %.2f, want scam", a.Verdict, a.Risk)
	}
	if a = c.Know(Finding{Kind: AuthorityClaim, Evidence: "again", T: 10}); len(a.Indicators) != 3 {
		t.Errorf("a second claim added a finding: %+v", a.Indicators)
	}
	// A claim known from the question counts toward the shape: a company that then threatens
	// to cut the line off is a scam, which the threat alone is not.
	words := Segment{Text: "your internet will be cut off tonight", T: 5}
	if a = d.NewCall().Feed(words); a.Verdict == Scam {
		t.Fatalf("the words alone already give a scam (%.2f): pick others", a.Risk)
	}
	c = d.NewCall()
	c.Know(Finding{Kind: CompanyClaim, Evidence: "bt", T: 0})
	if a = c.Feed(words); a.Verdict != Scam {
		t.Errorf("known company claim, threat: %v %.2f %+v", a.Verdict, a.Risk, a.Indicators)
	}
}

// A recogniser's next-best readings of a sentence are read as well as its best one: a sign
// heard in either counts, with the words carried over from the sentence before.
func TestSignHeardInAnAlternative(t *testing.T) {
	c := New().NewCall()
	c.Feed(Segment{Text: "this is the fraud team at your bank", T: 2})
	a := c.Feed(Segment{Text: "you must move your many to a safe face", Alternatives: []string{"you must move your money to a safe account"}, T: 5})
	if !has(a, SafeAccountTransfer) {
		t.Fatalf("a safe-account transfer heard only in the alternative was not found: %v", a.Indicators)
	}
	// The words carried across the cut are read again with the alternative too.
	c = New().NewCall()
	c.Feed(Segment{Text: "you must move your money to a", T: 2})
	if a := c.Feed(Segment{Text: "save face", Alternatives: []string{"safe account"}, T: 4}); !has(a, SafeAccountTransfer) {
		t.Fatalf("a phrase cut by the recogniser and finished in an alternative was not found: %v", a.Indicators)
	}
}

// Alternatives are readings of the same words, not more of them: no phrase is matched
// across the best reading and an alternative, and only the best reading adds to the
// learned part.
func TestAlternativesAreReadApart(t *testing.T) {
	a := New().NewCall().Feed(Segment{Text: "you must move your money to a safe", Alternatives: []string{"account today"}})
	if has(a, SafeAccountTransfer) {
		t.Fatalf("a phrase was matched across the best reading and an alternative: %v", a.Indicators)
	}
	plain, withAlts := New().NewCall(), New().NewCall()
	plain.Feed(Segment{Text: "thank you for calling"})
	withAlts.Feed(Segment{Text: "thank you for calling", Alternatives: []string{"bank you for falling", "thank you four calling"}})
	if plain.ngramZ != withAlts.ngramZ || len(plain.words) != len(withAlts.words) {
		t.Errorf("alternatives changed the learned part: %v/%d words against %v/%d", withAlts.ngramZ, len(withAlts.words), plain.ngramZ, len(plain.words))
	}
	// The best reading's window is kept for the next sentence, not the alternative's.
	c := New().NewCall()
	c.Feed(Segment{Text: "you must move your money to a", Alternatives: []string{"you must hello there"}})
	if a := c.Feed(Segment{Text: "safe account"}); !has(a, SafeAccountTransfer) {
		t.Fatalf("the best reading's last words were not carried to the next sentence: %v", a.Indicators)
	}
}

func has(a Assessment, k Indicator) bool {
	for _, f := range a.Indicators {
		if f.Kind == k {
			return true
		}
	}
	return false
}

// The shape of a scam sets a floor under the risk whatever the learned part says; one sign,
// or signs heard only in a weak wording, set none.
func TestFloorShapes(t *testing.T) {
	type signs struct {
		strong, weak             []Indicator
		never, problem, windfall bool
	}
	for _, tc := range []struct {
		name string
		s    signs
		want float64
	}{
		{"courier sent for the cash", signs{strong: []Indicator{CourierCollection, CashWithdrawal}}, 0.85},
		{"courier sent for the card", signs{strong: []Indicator{CourierCollection, CardOrPINRequest}}, 0.85},
		{"a courier alone", signs{strong: []Indicator{CourierCollection}}, 0},
		{"police, cash and the card", signs{strong: []Indicator{AuthorityClaim, CashWithdrawal, CardOrPINRequest}}, 0.9},
		{"police, cash and secrecy", signs{strong: []Indicator{AuthorityClaim, CashWithdrawal, Secrecy}}, 0.9},
		{"police and cash", signs{strong: []Indicator{AuthorityClaim, CashWithdrawal}}, 0.6},
		{"company, problem, press one, remote access", signs{strong: []Indicator{CompanyClaim, UnexpectedProblem, CallToAction, RemoteAccess}, problem: true}, 0.9},
		{"threat and press one", signs{strong: []Indicator{UrgencyOrThreat, CallToAction}}, 0.85},
		{"a prize and press one", signs{strong: []Indicator{UnexpectedProblem, CallToAction}, windfall: true}, 0.85},
		{"company and a problem", signs{strong: []Indicator{CompanyClaim, UnexpectedProblem}, problem: true}, 0.8},
		{"a company alone", signs{strong: []Indicator{CompanyClaim}}, 0},
		{"a claim and a request no genuine caller makes", signs{strong: []Indicator{AuthorityClaim}, never: true}, 0.85},
		{"claim, threat and a request", signs{strong: []Indicator{AuthorityClaim, UrgencyOrThreat, PersonalDetails}}, 0.85},
		{"the same with the claim in a weak wording", signs{strong: []Indicator{UrgencyOrThreat, PersonalDetails}, weak: []Indicator{AuthorityClaim}}, 0},
	} {
		found, strong := make([]bool, len(indicatorNames)), make([]bool, len(indicatorNames))
		for _, k := range tc.s.strong {
			found[k], strong[k] = true, true
		}
		for _, k := range tc.s.weak {
			found[k] = true
		}
		if got := floor(found, strong, tc.s.never, tc.s.problem, tc.s.windfall); got != tc.want {
			t.Errorf("%s: floor %.2f, want %.2f", tc.name, got, tc.want)
		}
	}
}
