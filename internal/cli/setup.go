package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store"
	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/web"
)

// setupCodeFile, in data_dir, holds the one-time setup code while setup is open, for the
// package's installer to print (only the guard's user and root can read it).
const setupCodeFile = "setup-code"

// lineView is the running guard as the dashboard sees it (web.Line): its configuration,
// the first-run setup's saving, the test call and what is wrong with it.
type lineView struct {
	l   *line
	db  *sqlite.Store // nil when the store could not be opened
	st  store.Store
	log *slog.Logger
	// listening says why calls are not listened to, when the recogniser is missing.
	listening string
}

var _ web.Line = (*lineView)(nil)

func (v *lineView) Config() *config.Config { return v.l.current().cfg }

func (v *lineView) Status() guard.Status { return v.l.current().g.Status() }

func (v *lineView) RingPhones(ctx context.Context) (guard.TestCall, error) {
	r := v.l.current()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel) // a guard replaced or stopped ends its test call
	defer stop()
	return r.g.RingPhones(ctx)
}

// Apply checks the setup over the configuration in force exactly as the file would be
// (config.Setup.Over), saves it in data_dir, rebuilds the guard from it, and records the
// household's name and call-back numbers on the dashboard.
func (v *lineView) Apply(ctx context.Context, s config.Setup) error {
	cur := v.Config()
	next, doc, err := s.Over(cur)
	if err != nil {
		return err
	}
	if err := v.l.replace(next, func() error { return config.SaveSetup(cur.DataDir, doc) }); err != nil {
		return err
	}
	if v.db == nil {
		return nil
	}
	h, err := v.db.Household(ctx, next.Household.ID)
	if err != nil {
		return fmt.Errorf("the setup is in force, but the dashboard's household was not updated: %w", err)
	}
	h.Settings.Police, h.Settings.Bank = next.Callback.Police, next.Callback.Bank
	if err := v.db.SaveSettings(ctx, h.ID, h.Settings); err != nil {
		return fmt.Errorf("the setup is in force, but the dashboard's household was not updated: %w", err)
	}
	if err := v.db.RenameHousehold(ctx, h.ID, next.Household.Name); err != nil {
		return fmt.Errorf("the setup is in force, but the household's name was not updated: %w", err)
	}
	h.Name = next.Household.Name
	return v.l.keeper.household(h)
}

// Problems says what is wrong with the line in a carer's words, each with what to do.
func (v *lineView) Problems(ctx context.Context) []web.Problem {
	var ps []web.Problem
	cfg := v.Config()
	st := v.Status()
	if t := st.Trunk; t.Registers && !t.Registered && t.Error != "" {
		ps = append(ps, web.Problem{What: fmt.Sprintf("The provider (%s) did not accept the guard's log-in: %s.", t.Address, t.Error),
			Do: "Calls to the household do not arrive until it does. Check the provider's user name and password in the configuration (trunk.username, trunk.password), and that the box reaches the internet."})
	}
	reachable := 0
	for _, p := range st.Phones {
		if p.Reachable() {
			reachable++
		}
	}
	host, port, _ := net.SplitHostPort(cfg.SIP.Listen)
	switch {
	case len(st.Phones) == 0:
		ps = append(ps, web.Problem{What: "No phone is set up: calls to the household cannot ring anywhere.",
			Do: "Add the phones in the configuration file (phones:), each with a user name and password."})
	case reachable == 0:
		ps = append(ps, web.Problem{What: "No phone is connected to the guard: calls to the household cannot ring.",
			Do: fmt.Sprintf("Set each phone (or the phone adapter or DECT base) to use server %s, port %s, with its user name and password (an admin finds them on this page, under “The phones and what to type into them”). A phone shows as connected there once it has.", host, port)})
	}
	if v.listening != "" {
		ps = append(ps, web.Problem{What: "Calls are not listened to for scam talk: " + v.listening + ".",
			Do: "Screening and blocking still work. Install Debian's pocketsphinx-en-us and libpocketsphinx3 (sudo apt install --reinstall clearline brings them), then restart the guard (sudo systemctl restart clearline)."})
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := v.st.Ping(pctx); err != nil {
		do := fmt.Sprintf("Calls still go through, emergency calls first, but nothing is recorded. Check the box's storage (free space in %s, a failing SD card) and restart the guard.", cfg.DataDir)
		if cfg.Database != "" {
			do = "Calls still go through, emergency calls first, but nothing is recorded. Check that the PostgreSQL server in the configuration's database is up and lets the guard in; restart the guard if it was already down when the guard started."
		}
		ps = append(ps, web.Problem{What: "The guard cannot keep its records (calls, alerts, settings): " + err.Error() + ".", Do: do})
	}
	return ps
}

// testAlert sends the household's guardians a test through their alert channels.
func testAlert(db *sqlite.Store) func(ctx context.Context, household string) (int, error) {
	return func(ctx context.Context, household string) (int, error) {
		now := time.Now().UTC()
		return db.AddCommunityAlert(ctx, household, "test-"+now.Format(time.RFC3339Nano), "Test alert from the call guard",
			"This is a test. When a call to the household sounds like a scam, an alert like this one reaches you at once, with what to do.", now)
	}
}

// openSetup makes the one-time setup code when nobody can log in yet: printed on the
// console and in the log, and written to data_dir for the package's installer. It returns
// "" when an admin exists (or the store cannot tell), and what ends it.
func openSetup(ctx context.Context, cfg *config.Config, db *sqlite.Store, console io.Writer, log *slog.Logger) (string, func()) {
	if db == nil {
		return "", nil
	}
	users, err := db.Users(ctx)
	if err != nil {
		log.Error("cannot tell whether anyone can log in; the first-run setup stays shut", "err", err)
		return "", nil
	}
	for _, u := range users {
		if u.Role == dash.Admin {
			return "", nil
		}
	}
	code := web.NewSetupCode()
	path := filepath.Join(cfg.DataDir, setupCodeFile)
	if err := os.WriteFile(path, []byte(code+"\n"), 0o600); err != nil {
		log.Warn("setup code not written for the installer", "err", err)
	}
	url := "http://" + cfg.HTTP.Listen + "/"
	if host, port, err := net.SplitHostPort(cfg.HTTP.Listen); err == nil && (host == "0.0.0.0" || host == "::") {
		url = "http://" + net.JoinHostPort(ownAddress(), port) + "/"
	}
	fmt.Fprintf(console, "\nclearline: nobody can log in yet. To set it up, open %s and type the one-time setup code %s\n\n", url, code)
	log.Warn("first-run setup is open", "setup_code", code, "dashboard", url)
	return code, func() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("setup code file not removed", "err", err)
		}
		log.Info("first-run setup finished; the setup code no longer works")
	}
}

// ownAddress is the box's first address on a network (not loopback), to print where the
// dashboard is; "THIS-BOX" when it has none.
func ownAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "THIS-BOX"
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return "THIS-BOX"
}
