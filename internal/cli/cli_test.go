package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRefusesBadConfigAndStartsNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	data := filepath.Join(dir, "data")
	src := "sip:\n  listen: 127.0.0.1:47999\ndata_dir: " + data + "\nphones:\n  - user: kitchen\n    contact: sip:kitchen@127.0.0.1:5090\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"run", "--config", path}, &out, &errOut); code != 1 {
		t.Fatalf("exit code %d; want 1", code)
	}
	if msg := errOut.String(); !strings.Contains(msg, "phones[0].password (line 5)") || !strings.Contains(msg, "bad.yaml") {
		t.Errorf("error does not name the file, key and line: %q", msg)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory created despite the bad config: %v", err)
	}
	l, err := net.ListenPacket("udp", "127.0.0.1:47999")
	if err != nil {
		t.Fatalf("the SIP port was taken: %v", err)
	}
	l.Close()
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
	if code := Main([]string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "clearline run") {
		t.Errorf("help: code %d, stdout %q", code, out.String())
	}
	if code := Main([]string{"run", "--config", "/nonexistent.yaml"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("missing file: code %d, stderr %q", code, errOut.String())
	}
}
