package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/store/sqlite"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// With database set to a PostgreSQL URL, `clearline admin add-user` puts the person in
// PostgreSQL, and nothing in a SQLite file in data_dir.
func TestAdminAddUserIntoPostgres(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "guard.yaml")
	if err := os.WriteFile(path, []byte("data_dir: "+data+"\ndatabase: "+url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := MainIO([]string{"admin", "add-user", "--config", path, "--email", "ann@example.org", "--name", "Ann"},
		strings.NewReader("a-long-password\n"), &out, &errOut); code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut.String())
	}
	db, err := sqlite.OpenDatabase(context.Background(), url, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, _, err := db.UserByEmail(context.Background(), "ann@example.org")
	if err != nil || u.Name != "Ann" || u.Role != "admin" {
		t.Fatalf("user in PostgreSQL = %+v, %v", u, err)
	}
	if _, err := os.Stat(filepath.Join(data, "clearline.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file was made in data_dir: %v", err)
	}
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
		t.Errorf("data_dir was not made (it holds the setup and its code): %v", err)
	}
}

// A PostgreSQL server that cannot be reached stops `clearline admin` with an error that
// says where it tried, without the password.
func TestAdminUnreachablePostgres(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "guard.yaml")
	src := "data_dir: " + filepath.Join(dir, "data") + "\ndatabase: postgres://guard:hunter2@127.0.0.1:1/clearline?connect_timeout=2\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := MainIO([]string{"admin", "add-user", "--config", path, "--email", "ann@example.org", "--name", "Ann"},
		strings.NewReader("a-long-password\n"), &out, &errOut)
	if msg := errOut.String(); code != 1 || !strings.Contains(msg, "store PostgreSQL 127.0.0.1:1/clearline") || strings.Contains(msg, "hunter2") {
		t.Errorf("exit code %d, stderr %q", code, msg)
	}
}
