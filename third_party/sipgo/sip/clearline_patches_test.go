package sip

import (
	"net"
	"strings"
	"testing"
	"time"
)

// Tests for the changes clearline carries on sipgo v1.7.2 (see ../PATCHES.md).

func TestPatchLWSAroundParams(t *testing.T) {
	msg := "INVITE sip:b@example.com SIP/2.0\r\n" +
		"Via: SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch = z9hG4bK390  ;  rport\r\n" +
		"TO :\r\n sip:b@example.com ;   tag    = 1918181833n\r\n" +
		"from   : \"J\"  <sip:a@example.com>\r\n  ;\r\n  tag = 98asjd8 ;; other\r\n" +
		"Call-ID: c\r\ncseq: 0009\r\n  INVITE\r\nContent-Length: 0\r\n\r\n"
	m, err := ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*Request)
	if tag, _ := req.From().Params.Get("tag"); tag != "98asjd8" {
		t.Errorf("From tag %q", tag)
	}
	if !req.From().Params.Has("other") || req.From().Params.Length() != 2 {
		t.Errorf("From params %v", req.From().Params)
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "1918181833n" || req.To().Address.Host != "example.com" {
		t.Errorf("To %q tag %q", req.To().Address.Host, tag)
	}
	if b, _ := req.Via().Params.Get("branch"); b != "z9hG4bK390" {
		t.Errorf("branch %q", b)
	}
	if req.CSeq().MethodName != INVITE || req.CSeq().SeqNo != 9 {
		t.Errorf("CSeq %v", req.CSeq())
	}
}

func TestPatchTwoContentLengths(t *testing.T) {
	msg := "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n" +
		"Content-Length: 13\r\nContent-Length: 5\r\n\r\nThere's no way"
	if _, err := ParseMessage([]byte(msg)); err != ErrParseMultipleContentLength {
		t.Errorf("datagram: %v", err)
	}
	if _, err := NewParser().NewSIPStream().parseSIPStreamFull([]byte(msg)); err == nil || !strings.Contains(err.Error(), "more than one Content-Length") {
		t.Errorf("stream: %v", err)
	}
}

func TestPatchMethodCaseAndResponseVersion(t *testing.T) {
	m, err := ParseMessage([]byte("invite sip:b@example.com SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 invite\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*Request)
	if req.Method == INVITE || req.Method != "invite" {
		t.Errorf("method %q: case must be kept", req.Method)
	}
	if res := NewResponseFromRequest(req, 505, "Version Not Supported", nil); res.SipVersion != "SIP/2.0" {
		t.Errorf("response version %q", res.SipVersion)
	}
}

func TestPatchRFC2543Request(t *testing.T) {
	m, err := ParseMessage([]byte("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP gw.example.com\r\n" +
		"From: <sip:a@example.com>\r\nTo: sip:b@example.com\r\nCall-ID: x\r\nCSeq: 56 INVITE\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ServerTxKeyMake(m); err != nil {
		t.Errorf("no transaction for a request without a From tag: %v", err)
	}
}

func TestPatchAddrSpecWithHeaders(t *testing.T) {
	var u Uri
	p := NewParams()
	if _, err := ParseAddressValue("sip:user@example.com?Route=%3Csip:sip.example.com%3E", &u, &p); err == nil {
		t.Error("an addr-spec with headers outside <> was accepted")
	}
	if _, err := ParseAddressValue("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", &u, &p); err != nil {
		t.Errorf("a name-addr with headers was refused: %v", err)
	}
}

func TestPatchParseErrorReplyUDP(t *testing.T) {
	tp := NewTransportLayer(nil, NewParser(), nil, WithTransportLayerParseErrorHandler(func(data []byte, err error) []byte {
		return []byte("SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 192.0.2.1;rport\r\nContent-Length: 0\r\n\r\n")
	}))
	defer tp.Close()
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go tp.ServeUDP(srv)
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteTo([]byte("INVITE <sip:b@example.com> SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;rport\r\n\r\n"), srv.LocalAddr())
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := c.ReadFrom(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 400") {
		t.Fatalf("no 400 to the source (rport): %v %q", err, buf[:n])
	}
}
