package screen

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// STIR/SHAKEN (RFC 8224, 8225, 8588): the caller's network signs the caller's number and
// says how well it knows the caller (attestation A, B or C). The guard checks the signature
// against certificates kept on the machine, never fetched at call time.

// TrustStore holds the roots signing certificates must chain to, and the signing
// certificates themselves, found by the file name at the end of the PASSporT's x5u URL.
type TrustStore struct {
	Roots *x509.CertPool
	Certs map[string]*x509.Certificate // by base name of the x5u URL
	// MaxAge bounds how old a PASSporT may be (RFC 8224 recommends 60 s).
	MaxAge time.Duration
}

// LoadTrustStore reads roots.pem (one or more CA certificates) and every other *.pem file,
// a signing certificate each, from dir.
func LoadTrustStore(dir string) (*TrustStore, error) {
	ts := &TrustStore{Roots: x509.NewCertPool(), Certs: map[string]*x509.Certificate{}, MaxAge: time.Minute}
	roots, err := os.ReadFile(filepath.Join(dir, "roots.pem"))
	if err != nil {
		return nil, fmt.Errorf("stir trust store: %w", err)
	}
	if !ts.Roots.AppendCertsFromPEM(roots) {
		return nil, fmt.Errorf("stir trust store: %s: no certificate in it", filepath.Join(dir, "roots.pem"))
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if filepath.Base(f) == "roots.pem" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("stir trust store: %w", err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("stir trust store: %s: not a PEM certificate", f)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("stir trust store: %s: %v", f, err)
		}
		ts.Certs[filepath.Base(f)] = c
	}
	return ts, nil
}

// Passport is what a verified Identity header says.
type Passport struct {
	Attest string
	Orig   string
	Issued time.Time
}

type passportHeader struct {
	Alg string `json:"alg"`
	Ppt string `json:"ppt"`
	Typ string `json:"typ"`
	X5u string `json:"x5u"`
}

type passportClaims struct {
	Attest string `json:"attest"`
	Iat    int64  `json:"iat"`
	Orig   struct {
		Tn string `json:"tn"`
	} `json:"orig"`
	Dest struct {
		Tn []string `json:"tn"`
	} `json:"dest"`
	Origid string `json:"origid"`
}

// Verify checks an Identity header value ("<jwt>;info=<url>;alg=ES256;ppt=shaken") and
// returns what it vouches for.
func (ts *TrustStore) Verify(identity string, now time.Time) (Passport, error) {
	token := strings.TrimSpace(strings.SplitN(identity, ";", 2)[0])
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Passport{}, errors.New("the Identity header is not a signed PASSporT")
	}
	var hdr passportHeader
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return Passport{}, fmt.Errorf("PASSporT header: %w", err)
	}
	if hdr.Alg != "ES256" || hdr.Ppt != "shaken" {
		return Passport{}, fmt.Errorf("PASSporT uses alg %q, ppt %q; want ES256, shaken", hdr.Alg, hdr.Ppt)
	}
	var claims passportClaims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return Passport{}, fmt.Errorf("PASSporT claims: %w", err)
	}
	cert, ok := ts.Certs[path.Base(hdr.X5u)]
	if !ok {
		return Passport{}, fmt.Errorf("no certificate for %s in the local trust store", hdr.X5u)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ts.Roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return Passport{}, fmt.Errorf("the signing certificate is not trusted: %v", err)
	}
	key, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return Passport{}, errors.New("the signing certificate has no P-256 key")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return Passport{}, errors.New("the PASSporT signature is malformed")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return Passport{}, errors.New("the PASSporT signature does not match")
	}
	issued := time.Unix(claims.Iat, 0)
	if age := now.Sub(issued); age > ts.MaxAge || age < -ts.MaxAge {
		return Passport{}, fmt.Errorf("the PASSporT was signed %s ago; a replayed signature is not proof", age.Round(time.Second))
	}
	return Passport{Attest: claims.Attest, Orig: claims.Orig.Tn, Issued: issued}, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// StirShaken judges calls that carry an Identity header. A signature that fails, or that
// vouches for another number, means the number is spoofed; attestation C means the caller's
// network could not vouch for the caller at all.
type StirShaken struct {
	Store *TrustStore
}

func (StirShaken) Name() string { return "stir-shaken" }

func (r StirShaken) Check(c Call) (Verdict, bool) {
	if c.Identity == "" || r.Store == nil {
		return Verdict{}, false
	}
	p, err := r.Store.Verify(c.Identity, c.At)
	if err != nil {
		return verdict(Block, "the network's signature on the caller's number does not check out (%v), so the number is probably faked", err), true
	}
	orig, err := Canonical(p.Orig)
	if err != nil || c.canonErr != nil || orig != c.canon {
		return verdict(Block, "the network signed the call for %s, but it shows %s: the number is faked", p.Orig, c.Number), true
	}
	switch p.Attest {
	case "A":
		return Verdict{}, false // the network knows the caller and the number
	case "B":
		return Verdict{}, false // the network knows the caller, not the number: other rules decide
	case "C":
		return verdict(Warn, "the caller's network could not vouch for who is calling (STIR/SHAKEN attestation C)"), true
	default:
		return verdict(Block, "the network's signature has an unknown attestation %q", p.Attest), true
	}
}
