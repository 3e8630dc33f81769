package campaign

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func at(days, hours float64) time.Time {
	return t0.Add(time.Duration((days*24 + hours) * float64(time.Hour)))
}

var courier = []string{"authority_claim", "cash_withdrawal", "courier_collection"}

// "Winchester had initially been targeted but the scammers have widened their net across the
// county": the same spoofed number in one district, then others, is one campaign spreading.
func TestSameNumberAcrossDistrictsIsOneCampaign(t *testing.T) {
	rs := []Report{
		{ID: "r1", At: at(0, 0), District: "Winchester", Number: "+441962000101", Claimed: "hampshire police", Indicators: courier},
		{ID: "r2", At: at(0, 3), District: "Winchester", Number: "+441962000101", Indicators: courier[:1]},
		{ID: "r3", At: at(1, 0), District: "Eastleigh", Number: "+441962000101", Indicators: courier},
		{ID: "r4", At: at(2, 0), District: "Test Valley", Number: "+441962000101", Loss: 500000},
		{ID: "other", At: at(2, 0), District: "Eastleigh", Number: "+442079460000"},
	}
	cs := Detect(rs, at(3, 0))
	if len(cs) != 1 {
		t.Fatalf("%d campaigns: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.ID != "r1" || !reflect.DeepEqual(c.Reports, []string{"r1", "r2", "r3", "r4"}) || c.Loss != 500000 || !c.Active {
		t.Errorf("campaign %+v", c)
	}
	var spread []string
	for _, d := range c.Districts {
		spread = append(spread, fmt.Sprintf("%s:%v:%d", d.Day.Format("02"), d.New, d.Total))
	}
	if want := []string{"02:[Winchester]:1", "03:[Eastleigh]:2", "04:[Test Valley]:3"}; !reflect.DeepEqual(spread, want) {
		t.Errorf("spread %v, want %v", spread, want)
	}
	if c.Indicators["courier_collection"] != 2 || !reflect.DeepEqual(c.Numbers, []string{"+441962000101"}) || !reflect.DeepEqual(c.Ranges, []string{"+441962000xxx"}) {
		t.Errorf("campaign %+v", c)
	}
}

func TestLinkingRules(t *testing.T) {
	tests := []struct {
		name string
		a, b Report
		want bool
	}{
		{"same number within 14 days", Report{Number: "+441632960001", At: at(0, 0)}, Report{Number: "+441632960001", At: at(13, 0)}, true},
		{"same number 20 days apart", Report{Number: "+441632960001", At: at(0, 0)}, Report{Number: "+441632960001", At: at(20, 0)}, false},
		{"same block, shared sign", Report{Number: "+441632960001", At: at(0, 0), Indicators: courier[:1]}, Report{Number: "+441632960999", At: at(2, 0), Indicators: courier}, true},
		{"same block, no shared sign", Report{Number: "+441632960001", At: at(0, 0), Indicators: []string{"remote_access"}}, Report{Number: "+441632960999", At: at(1, 0), Indicators: courier}, false},
		{"same block, 5 days apart", Report{Number: "+441632960001", At: at(0, 0), Indicators: courier}, Report{Number: "+441632960999", At: at(5, 0), Indicators: courier}, false},
		{"next block", Report{Number: "+441632960001", At: at(0, 0), Indicators: courier}, Report{Number: "+441632961001", At: at(0, 1), Indicators: courier}, false},
		{"doorstep, same district and force, two shared signs", Report{District: "Andover", Claimed: "hampshire police", At: at(0, 0), Indicators: courier},
			Report{District: "Andover", Claimed: "hampshire police", At: at(1, 0), Indicators: courier[1:]}, true},
		{"doorstep, one shared sign", Report{District: "Andover", Claimed: "hampshire police", At: at(0, 0), Indicators: courier[:1]},
			Report{District: "Andover", Claimed: "hampshire police", At: at(1, 0), Indicators: courier}, false},
		{"doorstep, other district", Report{District: "Andover", Claimed: "hampshire police", At: at(0, 0), Indicators: courier},
			Report{District: "Romsey", Claimed: "hampshire police", At: at(0, 1), Indicators: courier}, false},
		{"short numbers have no block", Report{Number: "101", At: at(0, 0), Indicators: courier}, Report{Number: "105", At: at(0, 1), Indicators: courier}, false},
		{"same fake ID number, other numbers and districts", Report{Number: "+441632960001", District: "Andover", IDNumber: "4721", At: at(0, 0)},
			Report{Number: "+447700900123", District: "Romsey", IDNumber: "4721", At: at(25, 0)}, true},
		{"same ID number 40 days apart", Report{IDNumber: "4721", At: at(0, 0)}, Report{IDNumber: "4721", At: at(40, 0)}, false},
		{"other ID numbers", Report{IDNumber: "4721", At: at(0, 0)}, Report{IDNumber: "4722", At: at(0, 1)}, false},
		{"same officer's name", Report{Officer: "detective sergeant miller", At: at(0, 0)}, Report{Officer: "detective sergeant miller", At: at(3, 0)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.a.ID, tt.b.ID = "a", "b"
			cs := Detect([]Report{tt.a, tt.b}, at(1, 0))
			if got := len(cs) == 1; got != tt.want {
				t.Errorf("linked = %v, want %v (%+v)", got, tt.want, cs)
			}
		})
	}
}

func TestLoneReportsAndActivity(t *testing.T) {
	rs := []Report{
		{ID: "alone", At: at(0, 0), Number: "+441632960001"},
		{ID: "lost", At: at(0, 0), Number: "+441632970001", Loss: 120000},
		{ID: "old1", At: at(0, 0), Number: "+441632980001"}, {ID: "old2", At: at(1, 0), Number: "+441632980001"},
	}
	cs := Detect(rs, at(30, 0))
	ids := map[string]bool{}
	for _, c := range cs {
		ids[c.ID] = c.Active
	}
	if _, ok := ids["alone"]; ok || len(cs) != 2 {
		t.Errorf("campaigns %v: a lone report without a loss is not a campaign", ids)
	}
	if active, ok := ids["old1"]; !ok || active {
		t.Errorf("a campaign last seen 29 days ago: present %v, active %v", ok, active)
	}
}

// The same reports in any order make the same campaigns.
func TestOrderDoesNotMatter(t *testing.T) {
	rs := synthetic(5000, 1)
	want := Detect(rs, at(40, 0))
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	if got := Detect(rs, at(40, 0)); !reflect.DeepEqual(got, want) {
		t.Errorf("shuffled input gave %d campaigns, in order %d", len(got), len(want))
	}
	if len(want) == 0 {
		t.Fatal("no campaigns in the synthetic data")
	}
}

// synthetic makes n reports over 30 days: a fifth from campaigns (a number reused across
// nearby districts, a script of signs), the rest one-off reports from all over.
func synthetic(n int, seed uint64) []Report {
	rng := rand.New(rand.NewPCG(seed, seed))
	signs := []string{"authority_claim", "cash_withdrawal", "courier_collection", "card_or_pin_request", "safe_account_transfer", "secrecy", "urgency_or_threat", "remote_access"}
	rs := make([]Report, n)
	for i := range rs {
		r := &rs[i]
		r.ID = fmt.Sprintf("r%07d", i)
		r.At = t0.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
		if i%5 == 0 { // part of one of n/500 campaigns
			k := rng.IntN(max(1, n/500))
			r.Number = fmt.Sprintf("+44163296%04d", k)
			r.District = fmt.Sprintf("district-%03d", (k*7+rng.IntN(4))%400)
			r.Claimed = "police"
			r.Indicators = signs[:3]
		} else {
			r.Number = fmt.Sprintf("+447%09d", rng.Int64N(1e9))
			r.District = fmt.Sprintf("district-%03d", rng.IntN(400))
			r.Indicators = []string{signs[rng.IntN(len(signs))]}
		}
		if rng.IntN(50) == 0 {
			r.Loss = rng.Int64N(1000000)
		}
	}
	return rs
}

// BenchmarkDetect1M clusters a million reports (the aim: under 10 s).
func BenchmarkDetect1M(b *testing.B) {
	rs := synthetic(1_000_000, 1)
	b.ResetTimer()
	var n int
	for b.Loop() {
		n = len(Detect(rs, at(40, 0)))
	}
	b.ReportMetric(float64(n), "campaigns")
}

func TestIdentities(t *testing.T) {
	for in, want := range map[string]string{"4721": "4721", "PC 4721": "4721", "47 21": "4721", "12": "", "none": "", "": ""} {
		if got := IDNumber(in); got != want {
			t.Errorf("IDNumber(%q) = %q; want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"DS Miller": "detective sergeant miller", "Detective Sergeant Miller": "detective sergeant miller",
		"Paul Carter": "paul carter", "Miller": "", "the sergeant": "", "": ""} {
		if got := Officer(in); got != want {
			t.Errorf("Officer(%q) = %q; want %q", in, got, want)
		}
	}
	cs := Detect([]Report{{ID: "a", At: at(0, 0), IDNumber: "4721", Officer: "detective sergeant miller"},
		{ID: "b", At: at(1, 0), IDNumber: "4721"}, {ID: "c", At: at(2, 0), Officer: "detective sergeant miller", IDNumber: "5050"}}, at(2, 0))
	if len(cs) != 1 || len(cs[0].Reports) != 3 || !slices.Equal(cs[0].IDNumbers, []string{"4721", "5050"}) || !slices.Equal(cs[0].Officers, []string{"detective sergeant miller"}) {
		t.Errorf("campaigns %+v", cs)
	}
}
