package screen

import (
	"fmt"
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
	n, err := phonenumbers.Parse(digits, "GB")
	if err != nil {
		return "", nil, fmt.Errorf("%q is not a phone number: %v", s, err)
	}
	return phonenumbers.Format(n, phonenumbers.E164), n, nil
}

// diallable says whether a parsed number is valid and allocated in its numbering plan.
func diallable(n *phonenumbers.PhoneNumber) bool { return n != nil && phonenumbers.IsValidNumber(n) }
