// Package cli holds clearline's subcommands. main only calls Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/clearline/clearline/internal/alerts"
	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/metrics"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/web"
)

const usage = `clearline protects a household's phone line from telephone fraud.

Usage:
  clearline run [--config FILE]   start the guard (with no --config: loopback defaults,
                                  storage in ./clearline-data); while nobody can log in,
                                  it prints a one-time code for the dashboard's setup
  clearline hub [--config FILE]   run the regional hub alone (clearline run embeds it):
                                  reports, campaigns, community alerts, shared block-list
  clearline detect [--eval FILE]  score call transcripts (JSON Lines on stdin) for scam
                                  signs; with --eval, measure against labelled calls
  clearline listen [--config FILE] [--transcript] FILE.wav ...
                                  a telephone recording (8 kHz µ-law or A-law, or 16-bit
                                  PCM at any rate) through the path a call takes: the
                                  words heard with their times, then the verdict as
                                  clearline detect gives it
  clearline listen [--config FILE] --eval DIR [--heard FILE]
                                  word accuracy and verdicts over DIR/VOICE/NAME.wav with
                                  NAME.txt, the words said; --heard keeps what was heard
                                  for clearline detect --eval
  clearline asr [--listen ADDR]   a speech recogniser speaking clearline-asr/1 (for
                                  listening.external), on stdin/stdout or TCP
  clearline admin add-user --email E --name N [--role admin|guardian|analyst] [--household ID]
                                  add a dashboard user (the first admin); the password is
                                  asked for, or read from stdin's first line
  clearline help                  show this text
`

// Main runs the subcommand in args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainIO(args, os.Stdin, stdout, stderr)
}

// MainIO is Main with standard input given.
func MainIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		if err := run(args[1:], stderr); err != nil {
			fmt.Fprintf(stderr, "clearline run: %v\n", err)
			return 1
		}
		return 0
	case "detect":
		return runDetect(args[1:], stdin, stdout, stderr)
	case "listen":
		return runListen(args[1:], stdout, stderr)
	case "asr":
		return runASR(args[1:], stdin, stdout, stderr)
	case "admin":
		return runAdmin(args[1:], stdin, stdout, stderr)
	case "hub":
		if err := runHub(args[1:], stderr); err != nil {
			fmt.Fprintf(stderr, "clearline hub: %v\n", err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "clearline: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// serveFlags are the flags clearline run and clearline hub share.
type serveFlags struct {
	config, logLevel *string
}

func addServeFlags(fs *flag.FlagSet) serveFlags {
	return serveFlags{
		config:   fs.String("config", "", "YAML configuration file (default: embedded loopback defaults)"),
		logLevel: fs.String("log-level", "info", "debug, info, warn or error"),
	}
}

// load makes the logger and reads the configuration the flags name.
func (f serveFlags) load(stderr io.Writer) (*config.Config, *slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*f.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := loadConfig(*f.config)
	return cfg, log, err
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addServeFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to this file until the guard stops (for performance work)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := sf.load(stderr)
	if err != nil {
		return err
	}
	if *sf.config == "" {
		log.Warn("running on the embedded defaults: phones kitchen and hall have placeholder passwords; write a config file (see README) before connecting real phones")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ServeConsole(ctx, cfg, log, stderr)
}

// loadConfig reads the configuration file (the embedded defaults without one) and what
// the first-run setup saved over it.
func loadConfig(path string) (*config.Config, error) {
	return config.LoadWithSetup(path)
}

// Serve runs a guard with its store and web server until ctx ends; the first-run setup's
// code, if one is needed, goes to the log alone.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	return ServeConsole(ctx, cfg, log, io.Discard)
}

// ServeConsole runs a guard with its store and web server until ctx ends, printing the
// first-run setup's code on console as well as in the log. A store that cannot be opened
// does not stop the guard: calls, emergency calls above all, must keep working, so the
// guard runs and /healthz says what is wrong.
func ServeConsole(ctx context.Context, cfg *config.Config, log *slog.Logger, console io.Writer) error {
	m := metrics.New()
	var st store.Store
	db, err := sqlite.OpenDatabase(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		log.Error("storage is unavailable; calls will go through but will not be recorded", "err", err)
		st = store.Unavailable{Err: err}
	} else {
		st = db
		log.Info("storage", "path", db.Where())
	}
	defer st.Close()
	rec := store.NewRecorder(st, 10000, log.With("part", "store"), m)
	defer rec.Close()

	chain, err := cfg.Screening.Chain()
	if err != nil {
		return err
	}
	log.Info("screening", "rules", strings.Join(chain.Names(), " → "))
	lis, asr, err := newListener(cfg, m, log)
	if err != nil {
		return err
	}
	defer asr.Close()
	o := guard.Options{Log: log, Recorder: rec, Metrics: m, Media: m, Listener: lis}
	handset := &handsetBlocks{db: db}
	if db != nil {
		o.Handset = handset
	}
	if grammar := askGrammar(cfg, log); grammar != nil {
		defer grammar.Close()
		o.Grammar = grammar
	}
	if db != nil {
		o.Carers = func(ctx context.Context, household string) ([]guard.Carer, error) { return carers(ctx, db, household) }
	}
	// On PostgreSQL the guard may be one of several behind a SIP load balancer: it shares
	// registrations, settings and household memory with the others (cluster.go).
	var svc *service
	if db != nil && db.IsPostgres() {
		svc = newService(db, cfg.SIP.Listen, log)
		svc.options(&o)
	}
	// The guard answers calls from here on; the hub and the web server start beside it, so
	// neither can delay a call (an external NATS cluster may take seconds to answer).
	ctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	ln := &line{parent: ctx, log: log, opts: o}
	first, err := ln.start(cfg)
	if err != nil {
		return err
	}
	ln.cur = first
	registerRegistrations(m.Registry, ln)
	keeper := &rulesKeeper{cfg: cfg, g: first.g, lis: lis}
	if db != nil {
		keeper.db = db
	}
	ln.keeper = keeper
	handset.keeper.Store(keeper)
	view := &lineView{l: ln, db: db, st: st, log: log}
	if asr.Name() == "none" && cfg.Listening.Recogniser != "none" {
		view.listening = "the speech recogniser (pocketsphinx and its en-us model) is missing"
	}
	wo := web.Options{APIToken: cfg.HTTP.APIToken, SecureCookies: cfg.HTTP.SecureCookies, Line: view, Live: liveView{ln}}
	if svc != nil {
		wo.Live = &serviceLive{liveView: liveView{ln}, s: svc}
	}
	if db != nil {
		apply := func(h dash.Household) {
			if err := keeper.household(h); err != nil {
				log.Error("household settings not applied", "household", h.ID, "err", err)
				return
			}
			if h.ID == cfg.Household.ID {
				log.Info("household settings applied", "household", h.ID)
			}
		}
		h, err := db.EnsureHousehold(ctx, dash.Household{ID: cfg.Household.ID, Name: cfg.Household.Name, Settings: seedSettings(cfg)})
		if err != nil {
			log.Error("dashboard: household not recorded", "err", err)
		} else {
			apply(h)
		}
		lines := func() {
			if err := keeper.lines(ctx); err != nil {
				log.Error("households not put in force; the guard serves them as before", "err", err)
				return
			}
			log.Info("households in force", "households", len(ln.current().g.Households()))
		}
		lines()
		go warmMemory(ctx, db, first.g, time.Now(), log) // the guard answers calls meanwhile
		wo.Dash, wo.SettingsChanged, wo.LinesChanged, wo.TestAlert = db, apply, lines, testAlert(db)
		wo.SetupCode, wo.SetupDone = openSetup(ctx, cfg, db, console, log)
		d := alerts.New(db, alerts.Options{SMTP: alerts.SMTP(cfg.Alerts.SMTP), BaseURL: cfg.Alerts.BaseURL}, log.With("part", "alerts"))
		go d.Run(ctx)
	}
	var linked *hubNet // the hub's connection, when it opened
	if cfg.Hub.Enabled() {
		// The hub is optional to calling: if it cannot start, the guard runs without it.
		hubLog := log.With("part", "hub")
		n, err := openHubNet(ctx, cfg, cfg.Hub.Run, hubLog)
		if err != nil {
			log.Error("hub unavailable; the guard runs without reports, community alerts or the shared block-list", "err", err)
		} else {
			defer n.Close()
			if n.hub != nil {
				wo.Hub = n.hub
				registerHub(m.Registry, n.hub)
			}
			linked = n
			if svc == nil {
				startLink(ctx, cfg, n, db, keeper, m.Registry, hubLog, linkAll)
			} else {
				// Every instance applies the shared block-list; reports and community
				// alerts are the service's, sent and taken once, by the leader.
				startLink(ctx, cfg, n, db, keeper, m.Registry, hubLog, linkBlocklist)
			}
		}
	}
	if db != nil {
		ln.rebuilt = func(g *guard.Guard) {
			go warmMemory(ctx, db, g, time.Now(), log)
			if svc != nil {
				go svc.bindingsAll(ctx, g, true)
			}
		}
	}
	if svc != nil {
		svc.ln, svc.keeper = ln, keeper
		go svc.run(ctx, func(ctx context.Context) {
			if linked != nil {
				startLink(ctx, cfg, linked, db, keeper, nil, log.With("part", "hub"), linkService)
			}
		})
	}
	hl, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		stopAll()
		_ = ln.wait()
		return fmt.Errorf("http: %w", err)
	}
	ws := web.New(st, m.Registry, log.With("part", "web"), wo)
	hs := &http.Server{Handler: ws, ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(ws.StopStreams) // the live pages' event streams would hold shutdown up
	go func() {
		if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// The web server is optional to calling: log and carry on.
			log.Error("http server stopped", "err", err)
		}
	}()
	log.Info("http listening", "addr", hl.Addr().String())
	err = ln.wait()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shut)
	return err
}
