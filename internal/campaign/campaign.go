// Package campaign groups scam reports into campaigns: the same fraud reaching street after
// street. It is pure — reports and a clock in, campaigns out — so the hub can run it over
// every stored report, and tests can run it over made-up ones.
//
// Two reports belong to the same campaign when they are linked, directly or through others:
//
//   - the same caller number, within NumberWindow of each other;
//   - numbers in the same block of a thousand (a fraudster's range of spoofed or rented
//     numbers), within RangeWindow, sharing at least one script indicator;
//   - the same district and the same claimed authority (the same force, or "bank"), sharing
//     at least two script indicators, within ScriptWindow — doorstep visits and withheld
//     numbers have no number to match on;
//   - the same ID number the caller gave ("my collar number is 4721"), or the same officer's
//     name, within IDWindow: fraudsters reuse their fake identities from call to call.
//
// A campaign is a group of at least two reports, or one report with a loss.
package campaign

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Report is one scam report, from a guard or a person, as the clustering needs it.
type Report struct {
	ID       string
	At       time.Time
	District string
	// Number is the caller's number in E.164 (+441632960123); empty when withheld or in person.
	Number string
	// Claimed is who the caller said they were, normalised: a force name, "police", "bank"...
	Claimed string
	// IDNumber is the ID or collar number the caller gave, as digits (IDNumber), and
	// Officer the name they gave, normalised (Officer); empty when none.
	IDNumber   string
	Officer    string
	Indicators []string
	// Loss is money lost, in pence.
	Loss int64
}

// Windows for linking reports.
const (
	NumberWindow = 14 * 24 * time.Hour
	RangeWindow  = 3 * 24 * time.Hour
	ScriptWindow = 48 * time.Hour
	IDWindow     = 30 * 24 * time.Hour
	// ActiveFor is how long after its latest report a campaign counts as active.
	ActiveFor = 14 * 24 * time.Hour
)

// Campaign is a group of linked reports.
type Campaign struct {
	// ID is the ID of its earliest report, so it stays the same as reports are added.
	ID      string
	Reports []string
	First   time.Time
	Latest  time.Time
	Active  bool
	Numbers []string
	// Ranges are the number blocks used (+44163296 0xxx written as +441632960xxx).
	Ranges []string
	// Districts lists, day by day, the districts reached that day for the first time.
	Districts []DistrictDay
	// Indicators counts the script indicators across its reports.
	Indicators map[string]int
	Loss       int64
	// IDNumbers and Officers are the ID numbers and officers' names the callers gave.
	IDNumbers []string
	Officers  []string
}

// DistrictDay is the districts a campaign reached on one day (UTC date).
type DistrictDay struct {
	Day       time.Time
	New       []string
	Total     int // districts reached by the end of the day
	Reports   int // reports that day
	Districts []string
}

// Detect clusters reports into campaigns, most recent first. now decides which are active.
func Detect(reports []Report, now time.Time) []Campaign {
	n := len(reports)
	if n == 0 {
		return nil
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return reports[a].At.Compare(reports[b].At) })
	u := newUnion(n)
	link(reports, order, u, func(r *Report) string { return r.Number }, NumberWindow, nil)
	link(reports, order, u, func(r *Report) string { return rangeKey(r.Number) }, RangeWindow,
		func(a, b *Report) bool { return shared(a.Indicators, b.Indicators) >= 1 })
	link(reports, order, u, func(r *Report) [2]string {
		if r.District == "" || r.Claimed == "" {
			return [2]string{}
		}
		return [2]string{r.District, r.Claimed}
	}, ScriptWindow, func(a, b *Report) bool { return shared(a.Indicators, b.Indicators) >= 2 })
	link(reports, order, u, func(r *Report) string { return r.IDNumber }, IDWindow, nil)
	link(reports, order, u, func(r *Report) string { return r.Officer }, IDWindow, nil)

	// Group by root, keeping time order within each group; only groups that can be
	// campaigns are summarised.
	roots := make([]int32, n)
	size := make([]int32, n)
	var lossy []bool
	for _, i := range order {
		roots[i] = int32(u.find(i))
		size[roots[i]]++
		if reports[i].Loss > 0 {
			if lossy == nil {
				lossy = make([]bool, n)
			}
			lossy[roots[i]] = true
		}
	}
	groups := map[int32][]int{}
	for _, i := range order {
		if r := roots[i]; size[r] >= 2 || (lossy != nil && lossy[r]) {
			groups[r] = append(groups[r], i)
		}
	}
	out := make([]Campaign, 0, len(groups))
	for _, members := range groups {
		out = append(out, build(reports, members, now))
	}
	slices.SortFunc(out, func(a, b Campaign) int {
		return cmp.Or(b.Latest.Compare(a.Latest), strings.Compare(a.ID, b.ID))
	})
	return out
}

// link buckets reports by key; within a bucket, in time order, a report is joined to the
// one before it when they are within window (and ok agrees). Chains make the groups.
func link[K comparable](reports []Report, order []int, u *union, key func(*Report) K, window time.Duration, ok func(a, b *Report) bool) {
	var none K
	last := make(map[K]int, len(reports)/4)
	for _, i := range order {
		r := &reports[i]
		k := key(r)
		if k == none {
			continue
		}
		if j, seen := last[k]; seen && r.At.Sub(reports[j].At) <= window && (ok == nil || ok(&reports[j], r)) {
			u.join(i, j)
		}
		last[k] = i
	}
}

// build summarises one group; members are in time order.
func build(reports []Report, members []int, now time.Time) Campaign {
	first := &reports[members[0]]
	c := Campaign{ID: first.ID, First: first.At, Indicators: map[string]int{}}
	numbers, ranges, reached, ids, officers := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, i := range members {
		r := &reports[i]
		c.Reports = append(c.Reports, r.ID)
		c.Latest = r.At
		c.Loss += r.Loss
		if r.Number != "" && !numbers[r.Number] {
			numbers[r.Number] = true
			c.Numbers = append(c.Numbers, r.Number)
		}
		if rg := numberRange(r.Number); rg != "" && !ranges[rg] {
			ranges[rg] = true
			c.Ranges = append(c.Ranges, rg)
		}
		for _, k := range r.Indicators {
			c.Indicators[k]++
		}
		if r.IDNumber != "" && !ids[r.IDNumber] {
			ids[r.IDNumber] = true
			c.IDNumbers = append(c.IDNumbers, r.IDNumber)
		}
		if r.Officer != "" && !officers[r.Officer] {
			officers[r.Officer] = true
			c.Officers = append(c.Officers, r.Officer)
		}
		day := r.At.UTC().Truncate(24 * time.Hour)
		if len(c.Districts) == 0 || !c.Districts[len(c.Districts)-1].Day.Equal(day) {
			c.Districts = append(c.Districts, DistrictDay{Day: day, Total: len(reached)})
		}
		dd := &c.Districts[len(c.Districts)-1]
		dd.Reports++
		if r.District != "" {
			if !slices.Contains(dd.Districts, r.District) {
				dd.Districts = append(dd.Districts, r.District)
			}
			if !reached[r.District] {
				reached[r.District] = true
				dd.New = append(dd.New, r.District)
				dd.Total = len(reached)
			}
		}
	}
	slices.Sort(c.Numbers)
	slices.Sort(c.Ranges)
	slices.Sort(c.IDNumbers)
	slices.Sort(c.Officers)
	c.Active = now.Sub(c.Latest) <= ActiveFor
	return c
}

// rangeKey is the block of a thousand a number is in: all but its last three digits.
// Numbers too short to have a block (101, 999) have none.
func rangeKey(n string) string {
	if len(n) < 10 {
		return ""
	}
	return n[:len(n)-3]
}

// numberRange writes a number's block for people: +441632960xxx.
func numberRange(n string) string {
	if k := rangeKey(n); k != "" {
		return k + "xxx"
	}
	return ""
}

func shared(a, b []string) int {
	n := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			n++
		}
	}
	return n
}

// union is a disjoint-set forest with path halving and union by size.
type union struct{ parent, size []int32 }

func newUnion(n int) *union {
	u := &union{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i], u.size[i] = int32(i), 1
	}
	return u
}

func (u *union) find(i int) int {
	for int(u.parent[i]) != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = int(u.parent[i])
	}
	return i
}

func (u *union) join(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = int32(ra)
	u.size[ra] += u.size[rb]
}
