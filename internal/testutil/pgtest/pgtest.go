// Package pgtest starts a real PostgreSQL server for tests: Debian's postgresql package
// (which `make test-deps` installs), a fresh cluster in a temporary directory, on a free
// loopback port, with trust authentication, stopped when the tests end. Set
// CLEARLINE_TEST_POSTGRES to a postgres:// URL to use a server of your own instead.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to create databases
)

var (
	once    sync.Once
	baseURL string
	stop    func()
	err     error
	dbs     atomic.Int64
)

// URL returns the URL of a new, empty database on the test server, starting the server
// the first time. The test fails if PostgreSQL cannot be started.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if err != nil {
		t.Fatalf("PostgreSQL for tests: %v (make test-deps installs Debian's postgresql; or set CLEARLINE_TEST_POSTGRES)", err)
	}
	name := fmt.Sprintf("clearline_test_%d_%d", os.Getpid(), dbs.Add(1))
	db, e := sql.Open("pgx", baseURL+"/postgres?sslmode=disable")
	if e != nil {
		t.Fatal(e)
	}
	defer db.Close()
	if _, e := db.Exec("CREATE DATABASE " + name); e != nil {
		t.Fatalf("create test database: %v", e)
	}
	return baseURL + "/" + name + "?sslmode=disable"
}

// Stop stops the server this package started (call it from TestMain after m.Run).
func Stop() {
	if stop != nil {
		stop()
	}
}

func start() {
	if u := os.Getenv("CLEARLINE_TEST_POSTGRES"); u != "" {
		baseURL = u
		return
	}
	bin, e := binDir()
	if e != nil {
		err = e
		return
	}
	stopOrphans(bin)
	dir, e := os.MkdirTemp("", "clearline-pg-")
	if e != nil {
		err = e
		return
	}
	// The server outlives a test binary that is killed; the next run stops it (stopOrphans).
	if e := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); e != nil {
		err = e
		return
	}
	data := filepath.Join(dir, "data")
	// PostgreSQL refuses to run as root: as root, run it as the postgres user.
	var as []string
	if os.Geteuid() == 0 {
		u, e := user.Lookup("postgres")
		if e != nil {
			err = fmt.Errorf("running as root and there is no postgres user: %w", e)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if e := os.Chown(dir, uid, gid); e != nil {
			err = e
			return
		}
		as = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) error {
		full := append(append([]string{}, as...), args...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Dir = dir
		out, e := cmd.CombinedOutput()
		if e != nil {
			return fmt.Errorf("%s: %v\n%s", args[0], e, out)
		}
		return nil
	}
	if e := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); e != nil {
		err = e
		return
	}
	port, e := freePort()
	if e != nil {
		err = e
		return
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if e := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); e != nil {
		err = e
		return
	}
	stop = func() {
		_ = run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		os.RemoveAll(dir)
	}
	baseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d", port)
	// Wait until it answers queries.
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, _ := sql.Open("pgx", baseURL+"/postgres?sslmode=disable")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		e := db.PingContext(ctx)
		cancel()
		db.Close()
		if e == nil {
			return
		}
		if time.Now().After(deadline) {
			err = fmt.Errorf("PostgreSQL did not answer: %v", e)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopOrphans stops the servers of earlier test runs that were killed before they could
// stop them (their owner process is gone), and removes their directories: each holds
// memory, a port and whatever its test binary had open when it started the server.
func stopOrphans(bin string) {
	owners, _ := filepath.Glob(filepath.Join(os.TempDir(), "clearline-pg-*", "owner"))
	for _, o := range owners {
		b, e := os.ReadFile(o)
		pid, perr := strconv.Atoi(string(b))
		if e != nil || perr != nil || pid <= 0 || alive(pid) {
			continue
		}
		dir := filepath.Dir(o)
		data := filepath.Join(dir, "data")
		if _, e := os.Stat(filepath.Join(data, "postmaster.pid")); e == nil {
			as := []string{filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"}
			if os.Geteuid() == 0 {
				as = append([]string{"runuser", "-u", "postgres", "--"}, as...)
			}
			_ = exec.Command(as[0], as[1:]...).Run()
		}
		os.RemoveAll(dir)
	}
}

// alive says whether process pid exists.
func alive(pid int) bool {
	_, e := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return e == nil
}

// binDir finds Debian's PostgreSQL programs (the newest version installed).
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, e := os.Stat(filepath.Join(d, "initdb")); e == nil {
			return d, nil
		}
	}
	if p, e := exec.LookPath("initdb"); e == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("initdb not found in /usr/lib/postgresql/*/bin or on PATH")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
