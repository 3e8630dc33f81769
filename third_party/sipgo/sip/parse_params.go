package sip

import (
	"strings"
	"unicode"
)

const (
	paramsStateNone = iota
	paramsStateKey
	paramsStateEqual
	paramsStateValue
	paramsStateQuote
	paramsStateAfterQuote
)

func UnmarshalHeaderParams(s string, seperator rune, ending rune, p *HeaderParams) (n int, err error) {
	var start, sep, quote int = 0, 0, -1
	state := paramsStateKey

	s = strings.TrimLeftFunc(s, unicode.IsSpace) // Remove trailing spaces
	n = len(s)
	for i, c := range s {
		if c == ending && state != paramsStateQuote {
			n = i
			break
		}

		switch state {
		case paramsStateKey:
			// RFC 3261 §25.1: LWS may surround the separator and the equals sign
			// (";  tag = 1"), and empty parameters (";;") carry nothing.
			if c == seperator || c == ' ' || c == '\t' {
				continue
			}
			sep = 0
			start = i
			state = paramsStateEqual

		case paramsStateEqual:
			if c == seperator {
				// Add support for empty values
				addParam(p, s[start:i], "")
				state = paramsStateKey
				continue
			}

			if c != '=' {
				continue
			}

			sep = i
			state = paramsStateValue

		case paramsStateValue:
			switch c {
			case '"':
				state = paramsStateQuote
				quote = i
			case seperator:
				addParam(p, s[start:sep], s[sep+1:i])
				state = paramsStateKey
			}
		case paramsStateQuote:
			if c != '"' {
				//End quoute
				continue
			}
			addParam(p, s[start:sep], s[quote+1:i])
			state = paramsStateAfterQuote
		case paramsStateAfterQuote:
			if c == seperator {
				state = paramsStateKey
			}
		}
	}

	// Do the last one
	switch state {
	case paramsStateValue:
		addParam(p, s[start:sep], s[sep+1:n])
	case paramsStateEqual:
		addParam(p, s[start:n], "")
	}

	return n, nil
}

// addParam adds a parameter with the linear white space around its name and value removed.
func addParam(p *HeaderParams, name, value string) {
	name = strings.Trim(name, " \t")
	if name == "" {
		return
	}
	p.Add(name, strings.Trim(value, " \t"))
}
