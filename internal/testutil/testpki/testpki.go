// Package testpki makes a certificate authority and a certificate it signed, for tests that
// run real TLS on loopback: the guard's listener, a provider, a phone.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is an authority and one certificate it signed, written to files as the guard reads
// them.
type PKI struct {
	Pool              *x509.CertPool
	CAFile            string
	CertFile, KeyFile string
	TLS               *tls.Config // the certificate, and the authority as the only root
}

// New makes an authority called name and a certificate for the given IP addresses and
// DNS names, in a new directory under parent, valid for a day.
func New(name, parent string, ips []string, names ...string) (*PKI, error) {
	dir, err := os.MkdirTemp(parent, "clearline-pki-")
	if err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "clearline test host"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: names, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, ip := range ips {
		leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, net.ParseIP(ip))
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	p := &PKI{Pool: x509.NewCertPool(), CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	p.Pool.AddCert(ca)
	for f, b := range map[string]*pem.Block{p.CAFile: {Type: "CERTIFICATE", Bytes: caDER}, p.CertFile: {Type: "CERTIFICATE", Bytes: leafDER}, p.KeyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		return nil, err
	}
	p.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: p.Pool, MinVersion: tls.VersionTLS12}
	return p, nil
}
