package screen

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
)

func mustList(t testing.TB, numbers ...string) List {
	l, err := ListOf(numbers, "test")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestChain(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	quiet, err := ParseQuietHours("22:00-07:00", london)
	if err != nil {
		t.Fatal(err)
	}
	ch := NewChain(Settings{
		Allow:          mustList(t, "01632 960 001", "+442079460999"),
		Block:          mustList(t, "+442079460666"),
		Community:      List{"+442079460777": {Number: "+442079460777", Name: "courier fraud campaign in Hampshire"}},
		DoNotOriginate: Block,
		Quiet:          &quiet,
	})
	noon := time.Date(2026, 11, 25, 12, 0, 0, 0, london)
	night := time.Date(2026, 11, 25, 23, 30, 0, 0, london)
	tests := []struct {
		name   string
		call   Call
		action Action
		rule   string
		reason string // words the reason must contain
		claim  Authority
	}{
		{"trusted contact", Call{Number: "+441632960001", At: noon}, Allow, "allow-list", "trusted contacts", ""},
		{"trusted contact at night with a police name", Call{Number: "02079460999", DisplayName: "Police", At: night}, Allow, "allow-list", "trusted", ""},
		{"household block-list", Call{Number: "020 7946 0666", At: noon}, Block, "household-block-list", "household's block-list", ""},
		{"community block-list", Call{Number: "+442079460777", At: noon}, Block, "community-block-list", "courier fraud campaign", ""},
		{"spoofed 101", Call{Number: "101", At: noon}, Block, "do-not-originate", "the police never call from 101", ClaimsPolice},
		{"spoofed 999", Call{Number: "999", At: noon}, Block, "do-not-originate", "never makes calls", ""},
		{"spoofed bank card-back number", Call{Number: "03457 404 404", At: noon}, Block, "do-not-originate", "back of HSBC cards", ClaimsBank},
		{"spoofed Action Fraud", Call{Number: "+443001232040", At: noon}, Block, "do-not-originate", "Action Fraud", ClaimsPolice},
		{"number too short", Call{Number: "0207946", At: noon}, Block, "numbering-plan", "not a number anyone can have", ""},
		{"unallocated range", Call{Number: "+44207946012", At: noon}, Block, "numbering-plan", "faked", ""},
		{"wrong length", Call{Number: "+442079460", At: noon}, Block, "numbering-plan", "not a number anyone can have", ""},
		{"unknown short code", Call{Number: "1234", At: noon}, Block, "numbering-plan", "not a number anyone can have", ""},
		{"drama range passes", Call{Number: "07700 900123", At: noon}, Allow, "default", "no rule", ""},
		{"a SIP name, no number", Call{Number: "sipp", At: noon}, Allow, "default", "no rule", ""},
		{"not a number", Call{Number: "12-ab", At: noon}, Block, "numbering-plan", "not a phone number", ""},
		{"withheld", Call{Withheld: true, At: noon}, Screen, "withheld", "withheld their number", ""},
		{"police display name on a mobile", Call{Number: "07911 123456", DisplayName: "Met Police Fraud", At: noon}, Warn, "display-name", "as if from the police", ClaimsPolice},
		{"bank display name", Call{Number: "+442085550123", DisplayName: "Barclays Security", At: noon}, Warn, "display-name", "as if from a bank", ClaimsBank},
		{"unknown caller at night", Call{Number: "+442085550123", At: night}, Block, "quiet-hours", "quiet hours (22:00 to 07:00)", ""},
		{"ordinary caller", Call{Number: "+442085550123", DisplayName: "Jean Smith", At: noon}, Allow, "default", "no rule", ""},
		{"foreign caller", Call{Number: "+12025550123", At: noon}, Allow, "default", "", ""},
		{"withheld at night, 20 minutes after the household rang 999", Call{Withheld: true, At: night, EmergencyAt: night.Add(-20 * time.Minute)}, Allow, "emergency-ring-back", "rang an emergency number 20m0s ago", ""},
		{"unknown caller at night, just after 999", Call{Number: "+442085550123", At: night, EmergencyAt: night.Add(-time.Minute)}, Allow, "emergency-ring-back", "emergency services may ring back", ""},
		{"household block-list, just after 999", Call{Number: "020 7946 0666", At: noon, EmergencyAt: noon.Add(-time.Minute)}, Block, "household-block-list", "household's block-list", ""},
		{"unknown caller at night, three hours after 999", Call{Number: "+442085550123", At: night, EmergencyAt: night.Add(-3 * time.Hour)}, Block, "quiet-hours", "quiet hours", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ch.Verdict(tt.call)
			if v.Action != tt.action || v.Rule != tt.rule {
				t.Fatalf("got %s by %s (%q); want %s by %s", v.Action, v.Rule, v.Reasons, tt.action, tt.rule)
			}
			if len(v.Reasons) == 0 || !strings.Contains(strings.Join(v.Reasons, " "), tt.reason) {
				t.Errorf("reasons %q lack %q", v.Reasons, tt.reason)
			}
			if v.Claimed != tt.claim {
				t.Errorf("claimed %q; want %q", v.Claimed, tt.claim)
			}
		})
	}
}

func TestUnknownCallersScreenedWhenAsked(t *testing.T) {
	ch := NewChain(Settings{Allow: mustList(t, "+442085550999"), ScreenUnknown: true, DoNotOriginate: Block})
	if v := ch.Verdict(Call{Number: "+442085550123", At: time.Now()}); v.Action != Screen || v.Rule != "unknown-callers" {
		t.Errorf("unknown caller: %s by %s", v.Action, v.Rule)
	}
	if v := ch.Verdict(Call{Number: "+442085550999", At: time.Now()}); v.Action != Allow {
		t.Errorf("trusted caller: %s by %s", v.Action, v.Rule)
	}
	if !ch.Trusted("020 8555 0999") || ch.Trusted("+442085550123") {
		t.Error("Trusted does not follow the allow-list")
	}
}

func TestDoNotOriginateCanWarnInstead(t *testing.T) {
	ch := NewChain(Settings{DoNotOriginate: Warn})
	if v := ch.Verdict(Call{Number: "101", At: time.Now()}); v.Action != Warn {
		t.Errorf("got %s; want warn", v.Action)
	}
}

func TestShippedDataHasSources(t *testing.T) {
	l := DoNotOriginateList()
	for _, n := range []string{"101", "999", "112", "105", "111", "119", "159"} {
		if _, ok := l.Contains(n); !ok {
			t.Errorf("%s missing from the do-not-originate list", n)
		}
	}
	for n, e := range l {
		if !strings.HasPrefix(e.Source, "https://") || e.Name == "" || e.Kind == "" {
			t.Errorf("%s: entry without a name, kind or source: %+v", n, e)
		}
	}
}

func TestReadListRejectsBadLinesWithFileAndLine(t *testing.T) {
	src := "# community list\n+442079460777,campaign\nnot-a-number,oops\n\n0207946,short but parseable\n+44,\"unterminated\n1,2,3,4,5\n"
	_, err := ReadList(strings.NewReader(src), "community.csv")
	if err == nil {
		t.Fatal("bad list accepted")
	}
	for _, want := range []string{"community.csv:3:", `"not-a-number" is not a phone number`, "community.csv:6:", "community.csv:7: 5 fields"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	l, err := ReadList(strings.NewReader("+442079460777,campaign,hub,fraud\n02079460778\n"), "ok.csv")
	if err != nil || len(l) != 2 || l["+442079460777"].Name != "campaign" {
		t.Errorf("good list: %v %+v", err, l)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"101": "101", "0207 946 0123": "+442079460123", "+44 (0)20 7946 0123": "+442079460123",
		"00442079460123": "+442079460123", "+1 202-555-0123": "+12025550123",
	} {
		got, err := Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzReadList(f *testing.F) {
	f.Add("+442079460777,campaign,hub,fraud\n")
	f.Add("# c\n101\n\"x\n")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ReadList(strings.NewReader(s), "f")
		if err == nil {
			for n := range l {
				if _, err := Canonical(n); err != nil {
					t.Fatalf("stored a number that is not canonical: %q", n)
				}
			}
		}
	})
}

// BenchmarkVerdict times the whole chain for one INVITE with a 100,000-entry block-list,
// against a lookup in that list alone, and reports median and p99.
func BenchmarkVerdict(b *testing.B) {
	block := List{}
	for i := range 100000 {
		n := fmt.Sprintf("+4420794%05d", i)
		block[n] = Entry{Number: n}
	}
	ch := NewChain(Settings{Allow: List{}, Block: block, Community: List{}, DoNotOriginate: Block})
	calls := []Call{
		{Number: "+442079412345", DisplayName: "Jean"}, // on the block-list
		{Number: "07911 123456", DisplayName: "Police"},
		{Number: "+441632960123"},
		{Number: "101"},
	}
	b.Run("block-list lookup only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = block.Contains(calls[i%len(calls)].Number)
			i++
		}
	})
	b.Run("full chain", func(b *testing.B) {
		b.ReportAllocs()
		ds := make([]time.Duration, 0, 1<<16)
		i := 0
		for b.Loop() {
			start := time.Now()
			ch.Verdict(calls[i%len(calls)])
			if len(ds) < cap(ds) {
				ds = append(ds, time.Since(start))
			}
			i++
		}
		sort.Slice(ds, func(x, y int) bool { return ds[x] < ds[y] })
		if n := len(ds); n > 0 {
			b.ReportMetric(float64(ds[n/2].Nanoseconds())/1000, "median-µs")
			b.ReportMetric(float64(ds[n*99/100].Nanoseconds())/1000, "p99-µs")
		}
	})
}

// The fast path for plain UK numbers agrees with the general parser.
func TestUKFastPathMatchesParser(t *testing.T) {
	for _, s := range []string{"+442085550123", "02085550123", "+447911123456", "07700900123", "+44207946012", "+442079460", "01632960001", "+443457345345", "08009123123"} {
		fast, ok := ukNumber(s)
		if !ok {
			t.Errorf("%s: not taken by the fast path", s)
			continue
		}
		slow, err := phonenumbers.Parse(s, "GB")
		if err != nil {
			t.Fatal(err)
		}
		if phonenumbers.Format(fast, phonenumbers.E164) != phonenumbers.Format(slow, phonenumbers.E164) ||
			phonenumbers.IsValidNumber(fast) != phonenumbers.IsValidNumber(slow) {
			t.Errorf("%s: fast path %v, parser %v", s, fast, slow)
		}
	}
}

func TestSame(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"01632 960000", "+441632960000", true}, {"101", "101", true}, {"101", "+44101", false},
		{"", "", false}, {"0345 300 0000", "03453000001", false}, {"not a number", "not a number", false}} {
		if got := Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
