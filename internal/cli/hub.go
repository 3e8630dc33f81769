package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/hub/hubsql"
	"github.com/clearline/clearline/internal/metrics"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/web"
)

// hubNet is a process's part of the hub's network: the NATS server it embeds (if any),
// its connection, and the hub itself when it runs here.
type hubNet struct {
	srv   *server.Server
	nc    *nats.Conn
	js    jetstream.JetStream
	hub   *hub.Hub
	store hub.Store
	// reporting is the link sending this guard's reports: its own, or, on one of a
	// service's guards, the leader's while this guard leads.
	reporting atomic.Pointer[hub.Link]
}

func (n *hubNet) Close() {
	if n.nc != nil {
		n.nc.Drain()
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
	if n.store != nil {
		n.store.Close()
	}
}

// openHubNet connects to the hub's NATS — the embedded server when hub.nats is empty — and,
// with runHub, opens the hub's store and starts the hub.
func openHubNet(ctx context.Context, cfg *config.Config, runHub bool, log *slog.Logger) (*hubNet, error) {
	n := &hubNet{}
	if cfg.Hub.NATS == "" {
		srv, err := hub.StartServer(hub.ServerOptions{Listen: cfg.Hub.Listen, StoreDir: filepath.Join(cfg.DataDir, "nats"), Name: "clearline-hub"})
		if err != nil {
			return nil, fmt.Errorf("embedded NATS server (hub.nats_listen %s): %w", cfg.Hub.Listen, err)
		}
		n.srv = srv
		log.Info("hub: embedded NATS server", "addr", srv.Addr().String())
	}
	nc, err := hub.Connect("clearline", n.srv, cfg.Hub.NATS)
	if err != nil {
		n.Close()
		return nil, err
	}
	n.nc = nc
	if n.js, err = jetstream.New(nc); err != nil {
		n.Close()
		return nil, err
	}
	if !runHub {
		return n, nil
	}
	if n.store, err = hubsql.Open(ctx, cfg.Hub.Database, cfg.DataDir); err != nil {
		n.Close()
		return nil, err
	}
	log.Info("hub: store", "where", n.store.Where())
	// An external cluster may still be electing its leaders: try for half a minute.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n.hub, err = hub.New(sctx, hub.Options{Store: n.store, JS: n.js, Replicas: cfg.Hub.Replicas, Log: log})
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		log.Warn("hub: NATS not ready; retrying", "err", err)
		time.Sleep(time.Second)
	}
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("hub: %w", err)
	}
	go n.hub.Run(ctx)
	return n, nil
}

// guardID is this installation's opaque ID for the hub, made once and kept in the data
// directory: the name of its alert consumer and the token in its receipts.
func guardID(dir string) (string, error) {
	path := filepath.Join(dir, "hub-guard-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) == 32 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	return id, os.WriteFile(path, []byte(id+"\n"), 0o640)
}

// linkParts chooses the parts of the hub link a guard runs.
type linkParts int

const (
	linkAll       linkParts = iota // a guard alone: everything
	linkBlocklist                  // one of a service's guards: the shared block-list only
	linkService                    // the service's leader: reports and community alerts
)

// startLink connects the guard to its hub: reports from the outbox, the shared block-list
// applied through keeper, community alerts to the household's guardians — the parts chosen.
// Its counters go on reg, when given.
func startLink(ctx context.Context, cfg *config.Config, n *hubNet, db *sqlite.Store, keeper *rulesKeeper, reg *prometheus.Registry, log *slog.Logger, parts linkParts) {
	id, err := guardID(cfg.DataDir)
	if err == nil && db != nil && parts == linkService {
		id, err = db.ServiceID(ctx, id) // one identity for the service's consumer and receipts
	}
	if err != nil {
		log.Error("hub: no guard ID; not linked", "err", err)
		return
	}
	o := hub.LinkOptions{JS: n.js, Household: cfg.Household.ID, District: cfg.Household.District, Households: keeper.districts, GuardID: id,
		ShareWords: cfg.Hub.ShareWords, Log: log}
	if parts != linkService {
		o.Blocklist = func(l screen.List) {
			if err := keeper.sharedBlocklist(l); err != nil {
				log.Error("hub: shared block-list not applied", "err", err)
				return
			}
			log.Info("shared block-list in force for the next call", "numbers", len(l))
		}
	}
	if db != nil && parts != linkBlocklist {
		o.Alerts = db
		if cfg.Hub.Report {
			o.Outbox = db
		}
	}
	if cfg.Household.District == "" && parts != linkService {
		log.Warn("hub: household.district is not set, so this guard sends no reports and gets no community alerts for the file's household; the shared block-list still applies")
	}
	l := hub.NewLink(o)
	if parts != linkBlocklist {
		n.reporting.Store(l)
	}
	if reg != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearline_hub_reports_sent_total",
				Help: "Reports this guard sent that the hub's stream acknowledged."}, func() float64 {
				if r := n.reporting.Load(); r != nil {
					return float64(r.Sent())
				}
				return 0
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "clearline_shared_blocklist_numbers",
				Help: "Numbers on the hub's shared block-list in force on this guard."}, func() float64 { return float64(keeper.sharedSize()) }))
	}
	go l.Run(ctx)
}

// registerHub exposes a hub's counters on /metrics.
func registerHub(reg *prometheus.Registry, h *hub.Hub) {
	for _, r := range []struct {
		result string
		v      func(hub.Stats) int64
	}{{"stored", func(s hub.Stats) int64 { return s.Stored }}, {"duplicate", func(s hub.Stats) int64 { return s.Duplicates }},
		{"rejected", func(s hub.Stats) int64 { return s.Rejected }}} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "clearline_hub_reports_total",
			Help: "Reports the hub received, by result.", ConstLabels: prometheus.Labels{"result": r.result}},
			func() float64 { return float64(r.v(h.Stats())) }))
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "clearline_hub_campaigns", Help: "Campaigns found by the latest detection."},
			func() float64 { return float64(h.Stats().Campaigns) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "clearline_hub_detect_seconds", Help: "How long the latest campaign detection took."},
			func() float64 { return h.Stats().DetectTook.Seconds() }))
}

const hubUsage = `usage: clearline hub [--config FILE] [--log-level LEVEL]

Runs the regional hub alone: NATS with JetStream (embedded, or hub.nats for an external
cluster), the hub's store (SQLite in data_dir, or hub.database for PostgreSQL), and the
analysts' dashboard and people's report form on http.listen.
`

func runHub(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, hubUsage); fs.PrintDefaults() }
	sf := addServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := sf.load(stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ServeHub(ctx, cfg, log)
}

// ServeHub runs the hub alone until ctx ends. Analysts' accounts and sessions live in the
// guard's store: the SQLite file in data_dir, or database (clearline admin add-user --role
// analyst).
func ServeHub(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	n, err := openHubNet(ctx, cfg, true, log.With("part", "hub"))
	if err != nil {
		return err
	}
	defer n.Close()
	db, err := sqlite.OpenDatabase(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer db.Close()
	m := metrics.New()
	registerHub(m.Registry, n.hub)
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	hs := &http.Server{Handler: web.New(db, m.Registry, log.With("part", "web"),
		web.Options{Dash: db, Hub: n.hub, APIToken: cfg.HTTP.APIToken, SecureCookies: cfg.HTTP.SecureCookies}), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	log.Info("hub running", "http", ln.Addr().String(), "store", n.store.Where())
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shut)
}
