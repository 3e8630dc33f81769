package media

import (
	"slices"
	"strconv"
	"strings"
)

// Direction is the direction attribute of a description's relayed audio stream (or of the
// session, RFC 4566 §6): sendrecv, sendonly, recvonly or inactive. A hold is an offer of
// sendonly (or inactive); the answer to it recvonly (or inactive).
func Direction(body []byte) string {
	o, err := ParseSDP(body)
	if err != nil {
		return "sendrecv"
	}
	secs := sections(body)
	for _, sec := range []section{secs[o.Audio+1], secs[0]} {
		for _, l := range sec {
			switch l {
			case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
				return strings.TrimPrefix(l, "a=")
			}
		}
	}
	return "sendrecv"
}

// Answering is the direction that answers an offer's (RFC 3264 §6.1).
func Answering(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// WithTelephoneEvent adds RFC 4733 telephone events to a description's relayed audio
// stream if it has none, so that whoever answers can answer with keys: the guard's own
// question to the resident on a screened call.
func WithTelephoneEvent(body []byte) []byte {
	o, err := ParseSDP(body)
	if err != nil || TelephoneEventType(body) >= 0 {
		return body
	}
	pt := 101
	for taken := true; taken; pt++ {
		taken = slices.Contains(o.Formats, strconv.Itoa(pt))
		if !taken {
			break
		}
	}
	var out strings.Builder
	for i, sec := range sections(body) {
		for j, l := range sec {
			if i == o.Audio+1 && j == 0 {
				l += " " + strconv.Itoa(pt) + "\r\na=rtpmap:" + strconv.Itoa(pt) + " telephone-event/8000\r\na=fmtp:" + strconv.Itoa(pt) + " 0-16"
			}
			out.WriteString(l)
			out.WriteString("\r\n")
		}
	}
	return []byte(out.String())
}
