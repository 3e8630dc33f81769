package campaign

import (
	"strings"
	"unicode"
)

// IDNumber is the ID or collar number in what a caller gave ("PC 4721", "4721", "47 21"):
// its digits, when there are at least three of them (fewer link unrelated calls); else "".
func IDNumber(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(d) < 3 {
		return ""
	}
	return d
}

// ranks are the ways an officer's rank is written, as one word each, and the words that are
// no part of a name.
var ranks = map[string]string{
	"ds": "detective sergeant", "dc": "detective constable", "di": "detective inspector", "dci": "detective chief inspector",
	"pc": "police constable", "ps": "police sergeant", "sgt": "sergeant", "insp": "inspector", "det": "detective",
	"mr": "", "mrs": "", "ms": "", "miss": "", "officer": "", "the": "", "a": "", "an": "", "from": "", "of": "",
}

// Officer is an officer's name as a caller gave it, written one way: lower case, the rank
// spelt out ("DS Miller" and "detective sergeant miller" are the same). A name of one word
// is too common to link calls by alone, so it needs a rank with it; else "".
func Officer(s string) string {
	var out []string
	named := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if full, ok := ranks[w]; ok {
			if full != "" {
				out = append(out, full)
			}
			continue
		}
		out = append(out, w)
		switch w {
		case "detective", "sergeant", "constable", "inspector", "chief", "police":
		default:
			named++
		}
	}
	if named == 0 || len(out) < 2 {
		return ""
	}
	return strings.Join(out, " ")
}
