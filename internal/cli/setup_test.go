package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/metrics"
	"github.com/clearline/clearline/internal/store"
)

// The Today page's problems, each in words with what to do: no phone connected, the
// recogniser missing, storage failing.
func TestLineProblems(t *testing.T) {
	cfg, err := config.Parse([]byte("sip: {listen: 127.0.0.1:5062}\nphones: [{user: kitchen, password: pw}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := guard.New(cfg, guard.Options{Log: log, Recorder: store.NewRecorder(store.Unavailable{Err: store.ErrUnavailable}, 1, log, m), Metrics: m, Media: m})
	if err != nil {
		t.Fatal(err)
	}
	v := &lineView{l: &line{cur: &guardRun{cfg: cfg, g: g}}, st: store.Unavailable{Err: errors.New("disk full")},
		listening: "the speech recogniser is missing"}
	var text []string
	for _, p := range v.Problems(context.Background()) {
		if p.Do == "" {
			t.Errorf("%q says nothing to do", p.What)
		}
		text = append(text, p.What+" "+p.Do)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"No phone is connected", "server 127.0.0.1, port 5062", "not listened to", "cannot keep its records (calls, alerts, settings): store unavailable: disk full", "Calls still go through"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not say %q:\n%s", want, all)
		}
	}
	if len(text) != 3 {
		t.Errorf("%d problems; want 3:\n%s", len(text), all)
	}
}

// The setup cannot move the guard to an address the box does not have.
func TestCanBind(t *testing.T) {
	if err := canBind("127.0.0.1:0"); err != nil {
		t.Errorf("loopback: %v", err)
	}
	if err := canBind("192.0.2.1:5060"); err == nil || !strings.Contains(err.Error(), "one of the box's own addresses") {
		t.Errorf("an address the box does not have: %v", err)
	}
}
