package guard

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"

	"github.com/clearline/clearline/internal/config"
)

// SIP over TLS (RFC 3261 §26.2, RFC 5630's sip: with transport=tls): the guard listens for
// phones and the trunk on sip.tls_listen with the certificate it is given, and reaches the
// trunk over TLS when trunk.transport is tls, checking the provider's certificate against
// trunk.tls_ca (or the machine's authorities) and trunk.tls_server_name (or the address).

// tlsConfigs builds the listener's configuration (nil without sip.tls_listen) and the one
// for connections the guard opens.
func tlsConfigs(c *config.Config) (server, client *tls.Config, err error) {
	var roots *x509.CertPool // nil: the machine's
	if c.Trunk.TLSCA != "" {
		if roots, err = config.LoadCAs(c.Trunk.TLSCA); err != nil {
			return nil, nil, fmt.Errorf("guard: trunk.tls_ca: %w", err)
		}
	}
	trunkIP, _, _ := net.SplitHostPort(c.Trunk.Address)
	client = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The stack dials addresses, so the name a peer's certificate must carry is chosen
		// here: the provider's (trunk.tls_server_name) for the trunk's address, else the
		// address itself. The chain is verified in full below.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			name := cs.ServerName
			if name == trunkIP && c.Trunk.TLSServerName != "" {
				name = c.Trunk.TLSServerName
			}
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("tls: %s sent no certificate", name)
			}
			inter := x509.NewCertPool()
			for _, crt := range cs.PeerCertificates[1:] {
				inter.AddCert(crt)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
			return err
		},
	}
	if c.SIP.TLSListen == "" {
		return nil, client, nil
	}
	cert, err := tls.LoadX509KeyPair(c.SIP.TLSCert, c.SIP.TLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("guard: sip.tls_cert: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, client, nil
}

// sipTransport is how a request names its transport to the SIP stack.
func sipTransport(t string) string {
	switch t {
	case "tcp":
		return "TCP"
	case "tls":
		return "TLS"
	}
	return "UDP"
}
