package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// runAdmin is `clearline admin add-user`: the first admin (and anyone else) from the
// command line, into the guard's database. The password is read from the terminal without
// echo, or from standard input's first line when it is not a terminal.
func runAdmin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add-user" {
		fmt.Fprintln(stderr, "usage: clearline admin add-user --email E --name N [--role admin|guardian|analyst] [--household ID] [--config FILE]")
		return 2
	}
	fs := flag.NewFlagSet("admin add-user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "the guard's configuration file, for its data_dir and household (default: embedded defaults)")
	email := fs.String("email", "", "their e-mail address: they log in with it")
	name := fs.String("name", "", "their name")
	role := fs.String("role", "admin", "admin, guardian or analyst")
	household := fs.String("household", "", "the household they look after (default: the guard's own, for guardians)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "clearline admin: %v\n", err)
		return 1
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return fail(err)
	}
	if *role == "guardian" && *household == "" {
		*household = cfg.Household.ID
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return fail(err)
	}
	db, err := sqlite.OpenDatabase(context.Background(), cfg.Database, cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.EnsureHousehold(ctx, dash.Household{ID: cfg.Household.ID, Name: cfg.Household.Name, Settings: seedSettings(cfg)}); err != nil {
		return fail(err)
	}
	var errs []string
	if *email == "" || !strings.Contains(*email, "@") {
		errs = append(errs, "--email: give the e-mail address they will log in with")
	}
	if *name == "" {
		errs = append(errs, "--name: give their name")
	}
	if *role != "admin" && *role != "guardian" && *role != "analyst" {
		errs = append(errs, "--role: must be admin, guardian or analyst")
	}
	if err := dash.CheckPassword(pw); err != nil {
		errs = append(errs, "password: "+err.Error())
	}
	if *household != "" {
		if _, err := db.Household(ctx, *household); err != nil {
			errs = append(errs, fmt.Sprintf("--household: no household %q (add it on the dashboard's admin page first)", *household))
		}
	}
	if len(errs) > 0 {
		return fail(errors.New(strings.Join(errs, "; ")))
	}
	hash, err := dash.HashPassword(pw)
	if err != nil {
		return fail(err)
	}
	u, err := db.CreateUser(ctx, dash.User{Email: *email, Name: *name, Role: dash.Role(*role)}, hash)
	if err != nil {
		return fail(err)
	}
	if *household != "" {
		if err := db.SetGuardian(ctx, u.ID, *household, true); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(stdout, "added %s <%s> as %s; they can log in at http://%s/\n", u.Name, u.Email, u.Role, cfg.HTTP.Listen)
	return 0
}

func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password (at least 10 characters): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
