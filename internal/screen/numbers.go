package screen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Canonical writes a number the way lists compare them: short service codes (101, 999,
// 159) as dialled, everything else in E.164 (+441632960000), read as a UK number when it
// has no country code.
func Canonical(s string) (string, error) {
	n, _, err := canonical(s)
	return n, err
}

// Same says whether a and b are the same number however written (01632 960000 and
// +441632960000); an empty or unreadable number is the same as nothing.
func Same(a, b string) bool {
	x, err1 := Canonical(a)
	y, err2 := Canonical(b)
	return a != "" && b != "" && err1 == nil && err2 == nil && x == y
}

// canonical also returns the parsed number (nil for a short service code).
func canonical(s string) (string, *phonenumbers.PhoneNumber, error) {
	digits := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
	if digits == "" {
		return "", nil, fmt.Errorf("no number")
	}
	if len(digits) <= 5 && strings.Trim(digits, "0123456789") == "" {
		return digits, nil, nil
	}
	if strings.HasPrefix(digits, "00") {
		digits = "+" + digits[2:]
	}
	if n, ok := ukNumber(digits); ok {
		return phonenumbers.Format(n, phonenumbers.E164), n, nil
	}
	n, err := phonenumbers.Parse(digits, "GB")
	if err != nil {
		return "", nil, fmt.Errorf("%q is not a phone number: %v", s, err)
	}
	return phonenumbers.Format(n, phonenumbers.E164), n, nil
}

// diallable says whether a parsed number is valid and allocated in its numbering plan.
func diallable(n *phonenumbers.PhoneNumber) bool { return n != nil && phonenumbers.IsValidNumber(n) }

// ukNumber reads a plain UK number ("+44…" or "0…", digits only) without the general parser,
// whose search for extensions is most of its cost; anything else goes to the parser.
func ukNumber(s string) (*phonenumbers.PhoneNumber, bool) {
	var national string
	switch {
	case strings.HasPrefix(s, "+44"):
		national = s[3:]
	case strings.HasPrefix(s, "0") && !strings.HasPrefix(s, "00"):
		national = s[1:]
	default:
		return nil, false
	}
	if len(national) < 7 || len(national) > 10 || national[0] == '0' {
		return nil, false
	}
	n, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return nil, false
	}
	cc := int32(44)
	return &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n}, true
}
