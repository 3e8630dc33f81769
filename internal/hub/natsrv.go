package hub

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerOptions configure an embedded NATS server with JetStream.
type ServerOptions struct {
	// Listen is the client address (host:port; port 0 picks a free one).
	Listen string
	// StoreDir keeps JetStream's streams.
	StoreDir string
	// Name is the server's name (unique within a cluster).
	Name string
	// Cluster, when set, joins a cluster: its name, this server's route address and the
	// other servers' route URLs (nats-route://host:port).
	Cluster       string
	ClusterListen string
	Routes        []string
}

// StartServer starts a NATS server with JetStream in this process and waits until it
// takes connections.
func StartServer(o ServerOptions) (*server.Server, error) {
	host, port, err := hostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: %w", o.Listen, err)
	}
	opts := &server.Options{
		ServerName: o.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		// A household guard is small: bound what JetStream may take.
		JetStreamMaxMemory: 64 << 20,
		JetStreamMaxStore:  4 << 30,
	}
	if o.Cluster != "" {
		ch, cp, err := hostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("nats cluster listen %q: %w", o.ClusterListen, err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.Cluster, Host: ch, Port: cp}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("nats route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server on %s did not start in 10 s (is the port taken?)", o.Listen)
	}
	return s, nil
}

func hostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return h, port, nil
}

// Connect connects to NATS: to srv in process when it is given, else to urls (comma-
// separated). It keeps reconnecting for ever, so a hub that goes away is found again.
func Connect(name string, srv *server.Server, urls string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true)}
	if srv != nil {
		opts = append(opts, nats.InProcessServer(srv))
		urls = ""
	}
	nc, err := nats.Connect(urls, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", urls, err)
	}
	return nc, nil
}
