package config

import (
	"slices"
	"strings"
)

// Codes are the handset codes the guard answers itself, for what a carer would otherwise
// do on the dashboard. Each is * or # then digits; empty turns it off.
//
// The defaults, *84 and *85, sit with the guard's call-back codes (*88 the police, *89 the
// bank) in the *8x block, which UK providers leave alone: BT's star services are *21, *261,
// *34, *37, *40, *411, *43, *51, *55, *56, *61, *66, *67 and *234 (and 141, 1470, 1471,
// 1571, 1572, 14258 without a star), Virgin's older lines use *70, *76 and *77, and the
// GSM codes phones know are *21, *30, *31, *33, *43, *61, *62 and *67.
type Codes struct {
	// BlockLast adds the last caller to the household's block-list, as the dashboard's
	// "Block" button does, and says which number it was.
	BlockLast string `yaml:"block_last"`
	// ReportLast reports the last call to the regional hub as a scam.
	ReportLast string `yaml:"report_last"`
}

// CallbackCodes are the guard's safe call-back codes (guard/invite.go), which the
// handset codes must not take.
var CallbackCodes = []string{"*88", "*89"}

func (c *Config) checkCodes(bad func(path, format string, args ...any)) {
	seen := map[string]string{}
	for _, k := range []struct{ key, code string }{{"block_last", c.Codes.BlockLast}, {"report_last", c.Codes.ReportLast}} {
		path := "$.codes." + k.key
		code := k.code
		if code == "" {
			continue
		}
		digits := code[1:]
		switch {
		case code[0] != '*' && code[0] != '#' || digits == "" || len(digits) > 6 || strings.Trim(digits, "0123456789") != "":
			bad(path, "%q is not a handset code: * or # then 1 to 6 digits, like *84", code)
			continue
		case slices.Contains(c.Emergency, digits):
			bad(path, "%q looks like the emergency number %s; choose another", code, digits)
		case slices.Contains(CallbackCodes, code):
			bad(path, "%q is already the guard's call-back code (*88 rings the police, *89 the bank)", code)
		case seen[code] != "":
			bad(path, "%q is also codes.%s; each code needs its own", code, seen[code])
		}
		seen[code] = k.key
	}
}
