package external_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/external"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

// serve runs the reference recogniser on a loopback port.
func serve(t *testing.T) string {
	t.Helper()
	rec, err := sphinx.New(sphinx.Options{Decoders: 2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); rec.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); external.Serve(c, rec) }()
		}
	}()
	return ln.Addr().String()
}

// Speech streamed over the protocol comes back as exactly what the embedded recogniser
// finds in the same audio, each utterance placed in the stream.
func TestStreamOverTCP(t *testing.T) {
	r, err := external.New(external.Options{Address: serve(t)})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := speechtest.LoadScripts("../../../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	a, err := speechtest.Speak(ss[0])
	if err != nil {
		t.Fatal(err)
	}
	local, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	want := transcribe(t, local, a)
	got := transcribe(t, r, a)
	if len(want) == 0 {
		t.Fatal("the embedded recogniser heard nothing")
	}
	if len(got) != len(want) {
		t.Fatalf("%d utterances over the protocol, %d embedded:\n%+v\n%+v", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i].Text != want[i].Text || got[i].End-want[i].End > time.Millisecond || want[i].End-got[i].End > time.Millisecond {
			t.Errorf("utterance %d: over the protocol %+v, embedded %+v", i, got[i], want[i])
		}
	}
}

func transcribe(t *testing.T, r speech.Recognizer, a speechtest.Audio) []speech.Utterance {
	t.Helper()
	us, err := speechtest.Recognise(r, a)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// A wrong header is answered with an error line that says what was expected.
func TestBadHeaderRefused(t *testing.T) {
	c, err := net.Dial("tcp", serve(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(`{"protocol":"clearline-asr/9","rate":8000}` + "\n"))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, `"error"`) || !strings.Contains(line, "clearline-asr/1") {
		t.Errorf("answer %q", line)
	}
}

func TestUnreachableRecogniser(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	r, _ := external.New(external.Options{Address: addr})
	if _, err := r.Start("x"); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v, want one naming %s", err, addr)
	}
	if _, err := external.New(external.Options{}); err == nil {
		t.Error("options with neither address nor command accepted")
	}
}
