package screen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA of the test's own and a provider's signing certificate under it.
type testPKI struct {
	dir  string
	key  *ecdsa.PrivateKey
	x5u  string
	now  time.Time
	root *x509.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test STI-CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(caDER)
	spKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test provider SHAKEN"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	spDER, err := x509.CreateCertificate(rand.Reader, spTmpl, root, &spKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("roots.pem", caDER)
	write("provider.pem", spDER)
	return &testPKI{dir: dir, key: spKey, x5u: "https://certs.provider.example/provider.pem", now: now, root: root}
}

// identity signs a PASSporT for orig with attestation attest, issued at iat.
func (p *testPKI) identity(t *testing.T, orig, attest string, iat time.Time, key *ecdsa.PrivateKey) string {
	t.Helper()
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	h := enc(map[string]string{"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": p.x5u})
	c := enc(map[string]any{"attest": attest, "iat": iat.Unix(), "orig": map[string]string{"tn": orig},
		"dest": map[string][]string{"tn": {"441632960123"}}, "origid": "123e4567-e89b-12d3-a456-426655440000"})
	digest := sha256.Sum256([]byte(h + "." + c))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return h + "." + c + "." + base64.RawURLEncoding.EncodeToString(sig) + ";info=<" + p.x5u + ">;alg=ES256;ppt=shaken"
}

func TestStirShaken(t *testing.T) {
	pki := newTestPKI(t)
	store, err := LoadTrustStore(pki.dir)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ch := NewChain(Settings{Stir: store, DoNotOriginate: Block})
	caller := "+442085550123"
	tests := []struct {
		name     string
		number   string
		identity string
		action   Action
		rule     string
		reason   string
	}{
		{"attestation A", caller, pki.identity(t, "442085550123", "A", pki.now, pki.key), Allow, "default", ""},
		{"attestation B", caller, pki.identity(t, "442085550123", "B", pki.now, pki.key), Allow, "default", ""},
		{"attestation C", caller, pki.identity(t, "442085550123", "C", pki.now, pki.key), Warn, "stir-shaken", "could not vouch"},
		{"signed for another number", "101", pki.identity(t, "442085550123", "A", pki.now, pki.key), Block, "stir-shaken", "the number is faked"},
		{"forged signature", caller, pki.identity(t, "442085550123", "A", pki.now, stranger), Block, "stir-shaken", "signature does not match"},
		{"replayed", caller, pki.identity(t, "442085550123", "A", pki.now.Add(-10*time.Minute), pki.key), Block, "stir-shaken", "replayed"},
		{"not a PASSporT", caller, "garbage;info=<x>", Block, "stir-shaken", "not a signed PASSporT"},
		{"no header", caller, "", Allow, "default", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ch.Verdict(Call{Number: tt.number, Identity: tt.identity, At: pki.now})
			if v.Action != tt.action || v.Rule != tt.rule || !strings.Contains(strings.Join(v.Reasons, " "), tt.reason) {
				t.Errorf("got %s by %s (%q); want %s by %s with %q", v.Action, v.Rule, v.Reasons, tt.action, tt.rule, tt.reason)
			}
		})
	}
}

func TestStirUntrustedCertificate(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t) // a different CA: its provider certificate must not verify
	os.WriteFile(filepath.Join(pki.dir, "roots.pem"), mustRead(t, filepath.Join(other.dir, "roots.pem")), 0o600)
	store, err := LoadTrustStore(pki.dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Verify(pki.identity(t, "442085550123", "A", pki.now, pki.key), pki.now)
	if err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("certificate from an unknown CA: %v", err)
	}
}

func TestLoadTrustStoreErrors(t *testing.T) {
	if _, err := LoadTrustStore(t.TempDir()); err == nil || !strings.Contains(err.Error(), "roots.pem") {
		t.Errorf("empty dir: %v", err)
	}
	pki := newTestPKI(t)
	os.WriteFile(filepath.Join(pki.dir, "broken.pem"), []byte("not pem"), 0o600)
	if _, err := LoadTrustStore(pki.dir); err == nil || !strings.Contains(err.Error(), "broken.pem") {
		t.Errorf("broken cert: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
