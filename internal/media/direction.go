package media

import "strings"

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
