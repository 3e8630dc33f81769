package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/external"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

// recogniser builds the speech recogniser the configuration asks for. With auto, a
// machine or build without pocketsphinx runs with none, and says so.
func recogniser(l config.Listening, log *slog.Logger) (speech.Recognizer, error) {
	switch l.Recogniser {
	case "none":
		return speech.None{}, nil
	case "external":
		return external.New(external.Options{Address: l.External.Address, Command: l.External.Command})
	}
	r, err := sphinx.New(sphinx.Options{Mode: sphinx.Mode(l.Mode), ModelDir: l.ModelDir, Decoders: l.Decoders})
	if err == nil {
		return r, nil
	}
	if l.Recogniser == "pocketsphinx" {
		return nil, fmt.Errorf("listening.recogniser pocketsphinx: %w", err)
	}
	log.Warn("calls will not be analysed for scam talk: "+err.Error(), "fix", "install Debian's libpocketsphinx-dev and pocketsphinx-en-us and build with cgo, or set listening.recogniser")
	return speech.None{}, nil
}

// newListener is the guard's listener for cfg.
func newListener(cfg *config.Config, m listen.Metrics, log *slog.Logger) (*listen.Listener, speech.Recognizer, error) {
	rec, err := recogniser(cfg.Listening, log)
	if err != nil {
		return nil, nil, err
	}
	l := cfg.Listening
	p := listen.Policy{Warn: l.Warn, WarnAt: l.WarnAt, Alert: l.Alert, AlertAt: l.AlertAt}
	log.Info("listening", "recogniser", rec.Name(), "warn_at", l.WarnAt, "alert_at", l.AlertAt)
	return listen.New(rec, detect.New(), p, m, log.With("part", "listen")), rec, nil
}

// runASR is `clearline asr`: the reference recogniser for protocol clearline-asr/1, backed
// by the embedded pocketsphinx. Without --listen it serves one stream on standard input
// and output (for listening.external.command); with it, one stream per TCP connection.
func runASR(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("asr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "", "serve TCP connections on host:port instead of standard input/output")
	mode := fs.String("mode", "domain", "pocketsphinx mode: domain, mixed, keyphrase or general")
	modelDir := fs.String("model-dir", sphinx.DefaultModelDir, "Debian's pocketsphinx-en-us model")
	decoders := fs.Int("decoders", 2, "streams served at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rec, err := sphinx.New(sphinx.Options{Mode: sphinx.Mode(*mode), ModelDir: *modelDir, Decoders: *decoders})
	if err != nil {
		fmt.Fprintf(stderr, "clearline asr: %v\n", err)
		return 1
	}
	defer rec.Close()
	if *addr == "" {
		if err := external.Serve(struct {
			io.Reader
			io.Writer
		}{stdin, stdout}, rec); err != nil {
			fmt.Fprintf(stderr, "clearline asr: %v\n", err)
			return 1
		}
		return 0
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "clearline asr: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "clearline asr: serving %s on %s\n", external.Protocol, ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return 0
			}
			fmt.Fprintf(stderr, "clearline asr: %v\n", err)
			return 1
		}
		go func() {
			defer c.Close()
			if err := external.Serve(c, rec); err != nil {
				fmt.Fprintf(stderr, "clearline asr: %s: %v\n", c.RemoteAddr(), err)
			}
		}()
	}
}
