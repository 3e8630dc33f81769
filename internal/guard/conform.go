package guard

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// What the guard answers for, as a user agent server and registrar (RFC 3261 §8.2), and
// what it answers before any request reaches the call flow: a pure reading of the request,
// with the response it deserves. RFC 4475's torture messages are the test of it
// (torture_test.go).

// allowed are the methods the guard implements (RFC 3261 §20.5), in its Allow header.
var allowed = []sip.RequestMethod{sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.OPTIONS, sip.REGISTER, sip.INFO, sip.UPDATE, sip.PRACK}

// knownMethods are methods defined by other RFCs the guard does not implement: 405, where
// a method nobody defined gets 501 (RFC 3261 §8.2.1, §21.5.2).
var knownMethods = map[sip.RequestMethod]bool{
	sip.SUBSCRIBE: true, sip.NOTIFY: true, sip.REFER: true, sip.MESSAGE: true, sip.PUBLISH: true,
}

// supported are the option tags the guard understands (RFC 3261 §19.2), for Require.
var supported = map[string]bool{"timer": true, "100rel": true}

func allowHeader() sip.Header {
	names := make([]string, len(allowed))
	for i, m := range allowed {
		names[i] = m.String()
	}
	return sip.NewHeader("Allow", strings.Join(names, ", "))
}

// refusal is the answer to a request the guard will not take further.
type refusal struct {
	code    int
	reason  string
	why     string // for the Warning header
	headers []sip.Header
}

func refuse(code int, reason, why string, headers ...sip.Header) *refusal {
	return &refusal{code: code, reason: reason, why: why, headers: headers}
}

// singleHeaders may appear once in a request (RFC 3261 §7.3.1, §20; RFC 4475 §3.3.8).
var singleHeaders = []string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Type", "Expires"}

// checkSyntax refuses a request that parsed but is not a well-formed SIP/2.0 request:
// answered before authentication or routing, whatever its method. ACK is never answered
// and so never checked.
func checkSyntax(req *sip.Request) *refusal {
	if req.SipVersion != "SIP/2.0" {
		return refuse(505, "Version Not Supported", "the guard speaks SIP/2.0, not "+strconv.Quote(req.SipVersion))
	}
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		if req.GetHeader(h) == nil {
			return refuse(400, "Bad Request", "missing "+h+" header")
		}
	}
	for _, h := range singleHeaders {
		if n := len(req.GetHeaders(h)); n > 1 {
			return refuse(400, "Bad Request", fmt.Sprintf("%d %s headers; one is allowed", n, h))
		}
	}
	if m := req.CSeq().MethodName; m != req.Method {
		return refuse(400, "Bad Request", fmt.Sprintf("CSeq method %s does not match the request's %s", m, req.Method))
	}
	switch req.Recipient.Scheme {
	case "sip", "sips", "tel":
	default:
		return refuse(416, "Unsupported URI Scheme", "the guard takes sip:, sips: and tel: URIs, not "+req.Recipient.Scheme+":")
	}
	if req.Recipient.Headers.Length() > 0 {
		return refuse(400, "Bad Request", "a Request-URI must not carry headers (?...)")
	}
	if req.Method == sip.REGISTER {
		if s := req.To().Address.Scheme; s != "sip" && s != "sips" {
			return refuse(400, "Bad Request", "the address of record in To must be a sip: or sips: URI, not "+s+":")
		}
	}
	return nil
}

// checkMethod answers methods the guard does not implement.
func checkMethod(req *sip.Request) *refusal {
	for _, m := range allowed {
		if req.Method == m {
			return nil
		}
	}
	if knownMethods[req.Method] {
		return refuse(405, "Method Not Allowed", req.Method.String()+" is not supported here", allowHeader())
	}
	return refuse(501, "Not Implemented", "unknown method "+strconv.Quote(req.Method.String()), allowHeader())
}

// checkRequire refuses option tags the guard does not support (RFC 3261 §8.2.2.3).
func checkRequire(req *sip.Request) *refusal {
	var unknown []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !supported[tag] {
				unknown = append(unknown, tag)
			}
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return refuse(420, "Bad Extension", "unsupported extensions required", sip.NewHeader("Unsupported", strings.Join(unknown, ", ")))
}

// checkOffer refuses an INVITE whose body is not a session description, or that will not
// accept one back (RFC 3261 §8.2.3, §21.4.7; RFC 4475 §3.3.6, §3.3.15).
func checkOffer(req *sip.Request) *refusal {
	if r := checkRequire(req); r != nil {
		return r
	}
	if len(bytes.TrimSpace(req.Body())) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/sdp") && ct != "" {
			return refuse(415, "Unsupported Media Type", "the guard takes session descriptions only (application/sdp), not "+mt, sip.NewHeader("Accept", "application/sdp"))
		}
		if h := req.GetHeader("Content-Encoding"); h != nil && !strings.EqualFold(strings.TrimSpace(h.Value()), "identity") {
			return refuse(415, "Unsupported Media Type", "content encoding "+h.Value()+" is not supported", sip.NewHeader("Accept-Encoding", "identity"))
		}
	}
	if hs := req.GetHeaders("Accept"); len(hs) > 0 && !acceptsSDP(hs) {
		return refuse(406, "Not Acceptable", "the answer is a session description (application/sdp), which the request's Accept header refuses")
	}
	return nil
}

func acceptsSDP(hs []sip.Header) bool {
	for _, h := range hs {
		for _, t := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(t, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*", "":
				return true
			}
		}
	}
	return false
}

// answerUnparsed is the response to a message the SIP parser refused (it never reaches a
// handler): 400 with what was wrong, 505 for another SIP version, 416 for a Request-URI
// scheme the guard cannot read — built from whatever headers can be read, so the sender
// learns why (RFC 4475 §3.1.2). Responses, ACKs, and requests whose Via cannot be read
// (nowhere to answer) are dropped.
func answerUnparsed(data []byte, perr error) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := unfold(string(head))
	if len(lines) == 0 {
		return nil
	}
	start := strings.Fields(lines[0])
	if len(start) < 3 || strings.HasPrefix(start[0], "SIP/") || start[0] == "ACK" {
		return nil
	}
	code, reason, why := 400, "Bad Request", perr.Error()
	version := start[len(start)-1]
	uri := start[1]
	switch {
	case len(start) == 3 && version != "SIP/2.0" && strings.HasPrefix(version, "SIP/"):
		code, reason, why = 505, "Version Not Supported", "the guard speaks SIP/2.0, not "+version
	case len(start) == 3 && !strings.HasPrefix(uri, "<") && strings.Contains(uri, ":") && !isSIPScheme(uri[:strings.IndexByte(uri, ':')]):
		code, reason, why = 416, "Unsupported URI Scheme", "the guard takes sip:, sips: and tel: URIs"
	}
	copied := map[string][]string{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if n := canonicalHeader(strings.TrimSpace(name)); n != "" {
			copied[n] = append(copied[n], strings.TrimSpace(value))
		}
	}
	if len(copied["Via"]) == 0 {
		return nil
	}
	if v := copied["To"]; len(v) > 0 && !strings.Contains(v[0], "tag=") {
		copied["To"][0] += ";tag=" + sip.GenerateTagN(16)
	}
	// A header is copied only if it can be read: echoing the fault would make the response
	// as broken as the request.
	use := []string{"Via"}
	if build(code, reason, why, copied, use) == nil {
		// A Via with empty parameters after its address (";;,;,,"): answer to the address.
		copied["Via"] = []string{strings.TrimRight(copied["Via"][0], ";, \t")}
		if build(code, reason, why, copied, use) == nil {
			return nil
		}
	}
	for _, n := range []string{"From", "To", "Call-ID", "CSeq"} {
		if len(copied[n]) > 0 && build(code, reason, why, copied, append(use, n)) != nil {
			use = append(use, n)
		}
	}
	return build(code, reason, why, copied, use)
}

// build writes a response with the headers named in use (Via in full, the others once),
// or returns nil if it would not parse.
func build(code int, reason, why string, headers map[string][]string, use []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, n := range use {
		for i, v := range headers[n] {
			if n != "Via" && i > 0 {
				break
			}
			fmt.Fprintf(&b, "%s: %s\r\n", n, v)
		}
	}
	fmt.Fprintf(&b, "Warning: 399 clearline %s\r\nContent-Length: 0\r\n\r\n", strconv.Quote(why))
	if _, err := sip.ParseMessage([]byte(b.String())); err != nil {
		return nil
	}
	return []byte(b.String())
}

func isSIPScheme(s string) bool {
	switch strings.ToLower(s) {
	case "sip", "sips", "tel":
		return true
	}
	return false
}

// canonicalHeader names the headers a response copies, in full or compact form.
func canonicalHeader(n string) string {
	switch strings.ToLower(n) {
	case "via", "v":
		return "Via"
	case "from", "f":
		return "From"
	case "to", "t":
		return "To"
	case "call-id", "i":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	}
	return ""
}

// unfold splits a header section into lines, joining continuation lines (RFC 3261 §7.3.1).
func unfold(head string) []string {
	var out []string
	for _, l := range strings.Split(head, "\r\n") {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(l)
			continue
		}
		out = append(out, l)
	}
	return out
}
