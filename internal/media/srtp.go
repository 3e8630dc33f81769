package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pion/srtp/v3"

	"github.com/clearline/clearline/internal/call"
)

// SRTP with keys exchanged in the session description (SDES, RFC 4568): a side that offers
// RTP/SAVP with a=crypto gets SRTP on its leg — the relay decrypts what it sends with its
// key and encrypts what goes to it with a key of the guard's own, sent in the answer —
// while the other leg stays as it offered. In between the relay holds plain RTP, so the
// listening tap, DTMF and prompts work as on any call.

// Crypto is one a=crypto attribute: a tag, a crypto suite and its master key and salt.
type Crypto struct {
	Tag   string
	Suite string
	Key   []byte // master key (16 bytes) then master salt (14 bytes)
}

// suites are the crypto suites the relay takes (RFC 4568 §6.2), in order of preference.
var suites = map[string]srtp.ProtectionProfile{
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
}

const keyLen, saltLen = 16, 14

// parseCrypto reads the value of an a=crypto attribute: "1 AES_CM_128_HMAC_SHA1_80
// inline:<base64 key and salt>[|lifetime][|MKI:length]".
func parseCrypto(v string) (Crypto, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("sdp: a=crypto:%s needs a tag, a suite and a key", v)
	}
	inline, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return Crypto{}, fmt.Errorf("sdp: a=crypto:%s has no inline key", v)
	}
	b64, _, _ := strings.Cut(inline, "|")
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return Crypto{}, fmt.Errorf("sdp: a=crypto key is not base64: %w", err)
		}
	}
	return Crypto{Tag: f[0], Suite: f[1], Key: key}, nil
}

// Line is the attribute as written in a description.
func (c Crypto) Line() string {
	return "a=crypto:" + c.Tag + " " + c.Suite + " inline:" + base64.StdEncoding.EncodeToString(c.Key)
}

// chooseCrypto picks the first offered key the relay can use.
func chooseCrypto(offered []Crypto) (Crypto, bool) {
	for _, c := range offered {
		if _, ok := suites[c.Suite]; ok && len(c.Key) == keyLen+saltLen {
			return c, true
		}
	}
	return Crypto{}, false
}

// ErrNoCryptoSuite means an SRTP offer with no key the relay can use.
var ErrNoCryptoSuite = errors.New("srtp: no offered crypto suite is supported (AES_CM_128_HMAC_SHA1_80 or _32 with a 30-byte key)")

// secureLeg holds one side's SRTP contexts. SRTP and SRTCP keep separate contexts, as
// the RTP and RTCP pumps run apart; what is sent to the side is sealed under a lock, as
// prompts and the relay may both send to it.
type secureLeg struct {
	local           Crypto
	openRTP, openCP *srtp.Context // the side's key: what it sends
	sealMu          sync.Mutex
	sealRTP, sealCP *srtp.Context // the guard's key: what goes to it
}

func newSecureLeg(remote, local Crypto) (*secureLeg, error) {
	prof := suites[remote.Suite]
	ctx := func(c Crypto) (*srtp.Context, error) {
		return srtp.CreateContext(c.Key[:keyLen], c.Key[keyLen:], prof)
	}
	l := &secureLeg{local: local}
	var err error
	for _, p := range []struct {
		c   **srtp.Context
		key Crypto
	}{{&l.openRTP, remote}, {&l.openCP, remote}, {&l.sealRTP, local}, {&l.sealCP, local}} {
		if *p.c, err = ctx(p.key); err != nil {
			return nil, fmt.Errorf("srtp: %w", err)
		}
	}
	return l, nil
}

func (l *secureLeg) open(dst, pkt []byte) ([]byte, error) { return l.openRTP.DecryptRTP(dst, pkt, nil) }

func (l *secureLeg) seal(dst, pkt []byte) ([]byte, error) {
	l.sealMu.Lock()
	defer l.sealMu.Unlock()
	return l.sealRTP.EncryptRTP(dst, pkt, nil)
}

func (l *secureLeg) openRTCP(dst, pkt []byte) ([]byte, error) {
	return l.openCP.DecryptRTCP(dst, pkt, nil)
}

func (l *secureLeg) sealRTCP(dst, pkt []byte) ([]byte, error) {
	l.sealMu.Lock()
	defer l.sealMu.Unlock()
	return l.sealCP.EncryptRTCP(dst, pkt, nil)
}

// Secure puts side sd on SRTP with the key of its offer (or answer) o, and a fresh key of
// the guard's in the same suite, which it returns for the description sent to that side.
// An offer that is not SRTP leaves the side as it is and returns false.
func (s *Session) Secure(sd call.Side, o Offer) (Crypto, bool, error) {
	if !o.Secure {
		return Crypto{}, false, nil
	}
	remote, ok := chooseCrypto(o.Crypto)
	if !ok {
		return Crypto{}, false, ErrNoCryptoSuite
	}
	local := Crypto{Tag: remote.Tag, Suite: remote.Suite, Key: make([]byte, keyLen+saltLen)}
	if e := s.side(sd).secure.Load(); e != nil && e.local.Suite == remote.Suite {
		local.Key = e.local.Key // a new offer in the call keeps the guard's key
	} else if o := s.side(sd).offered.Load(); o != nil && o.Suite == remote.Suite {
		local = *o // the answer to the guard's own offer
	} else if _, err := rand.Read(local.Key); err != nil {
		return Crypto{}, false, err
	}
	l, err := newSecureLeg(remote, local)
	if err != nil {
		return Crypto{}, false, err
	}
	s.side(sd).secure.Store(l)
	return local, true, nil
}

// OfferSecure makes the guard's key for an SRTP offer to side sd (AES_CM_128_HMAC_SHA1_80);
// the side's answer, taken with Secure, completes it.
func (s *Session) OfferSecure(sd call.Side) (Crypto, error) {
	c := Crypto{Tag: "1", Suite: "AES_CM_128_HMAC_SHA1_80", Key: make([]byte, keyLen+saltLen)}
	if _, err := rand.Read(c.Key); err != nil {
		return Crypto{}, err
	}
	s.side(sd).offered.Store(&c)
	return c, nil
}

// Local is the guard's key on side sd, if that side is on SRTP.
func (s *Session) Local(sd call.Side) (Crypto, bool) {
	if l := s.side(sd).secure.Load(); l != nil {
		return l.local, true
	}
	return Crypto{}, false
}

// Plain turns a description's audio stream from SRTP into plain RTP (RTP/SAVP to
// RTP/AVP, no a=crypto): what the guard offers a side that did not ask for SRTP.
func Plain(body []byte) []byte {
	return reprofile(body, func(proto string) string {
		return strings.Replace(proto, "/SAVP", "/AVP", 1)
	}, "")
}

// Secured turns a description's audio stream into SRTP with the guard's key c.
func Secured(body []byte, c Crypto) []byte {
	return reprofile(body, func(proto string) string {
		if strings.Contains(proto, "/SAVP") {
			return proto
		}
		return strings.Replace(proto, "/AVP", "/SAVP", 1)
	}, c.Line())
}

// reprofile rewrites the relayed audio stream's transport with to, drops its a=crypto
// lines and adds crypto (if any) after its m= line.
func reprofile(body []byte, to func(string) string, crypto string) []byte {
	o, err := ParseSDP(body)
	if err != nil {
		return body
	}
	var out strings.Builder
	for i, sec := range sections(body) {
		for j, l := range sec {
			if i == o.Audio+1 {
				if j == 0 {
					f := strings.Fields(l)
					f[2] = to(f[2])
					l = strings.Join(f, " ")
					if crypto != "" {
						l += "\r\n" + crypto
					}
				} else if strings.HasPrefix(l, "a=crypto:") {
					continue
				}
			}
			out.WriteString(l)
			out.WriteString("\r\n")
		}
	}
	return []byte(out.String())
}
