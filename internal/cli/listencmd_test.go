package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/config"
	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/listen"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/wav"
	"github.com/zaf/g711"
)

func script(t *testing.T, name string) speechtest.Script {
	t.Helper()
	ss, err := speechtest.LoadScripts("../../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no script %s", name)
	return speechtest.Script{}
}

func writeFile(t *testing.T, path string, write func(io.Writer) error) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func results(t *testing.T, out string) []result {
	t.Helper()
	var rs []result
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			rs = append(rs, r)
		}
	}
	return rs
}

// A scam call recorded as µ-law, the same call as A-law and as 16-bit PCM at 16 kHz are
// each heard as a scam, with utterances and their times, in detect's JSON shape; files that
// are not WAV, in a codec a line does not carry, or empty, are named on stderr with what is
// wrong, the others are still heard, and the exit status says something failed.
func TestListenGoodAndBadFiles(t *testing.T) {
	a, err := speechtest.Speak(script(t, "police_courier"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ulaw, alaw, pcm := filepath.Join(dir, "ulaw.wav"), filepath.Join(dir, "alaw.wav"), filepath.Join(dir, "pcm16k.wav")
	writeFile(t, ulaw, func(w io.Writer) error { return wav.WriteG711(w, wav.ULaw, a.Ulaw) })
	writeFile(t, alaw, func(w io.Writer) error {
		al := make([]byte, len(a.Ulaw))
		for i, b := range a.Ulaw {
			al[i] = g711.Ulaw2AlawFrame(b)
		}
		return wav.WriteG711(w, wav.ALaw, al)
	})
	writeFile(t, pcm, func(w io.Writer) error {
		// The same speech at 16 kHz, each sample repeated: the line's filter removes the images.
		s := make([]int16, 0, 2*len(a.Ulaw))
		for _, b := range a.Ulaw {
			v := g711.DecodeUlawFrame(b)
			s = append(s, v, v)
		}
		return wav.WritePCM(w, 16000, s)
	})
	text, float, empty := filepath.Join(dir, "notes.wav"), filepath.Join(dir, "float.wav"), filepath.Join(dir, "empty.wav")
	writeFile(t, text, func(w io.Writer) error { _, err := io.WriteString(w, "call the bank on monday\n"); return err })
	writeFile(t, float, func(w io.Writer) error {
		h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
		h = binary.LittleEndian.AppendUint16(h, 3) // IEEE float
		h = append(h, 1, 0, 0x80, 0x3e, 0, 0, 0, 0xfa, 0, 0, 4, 0, 32, 0)
		_, err := w.Write(append(h, "data\x04\x00\x00\x00\x00\x00\x00\x00"...))
		return err
	})
	writeFile(t, empty, func(w io.Writer) error { return wav.WritePCM(w, 16000, nil) })
	missing := filepath.Join(dir, "missing.wav")

	var out, errOut bytes.Buffer
	code := Main([]string{"listen", text, ulaw, float, alaw, empty, missing, pcm}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	for _, want := range []string{
		text + ": not a WAV file",
		float + ": unsupported codec: WAVE format tag 0x3 (IEEE float)",
		empty + ": empty",
		missing + ": no such file",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	rs := results(t, out.String())
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3 (µ-law, A-law, PCM):\n%s", len(rs), out.String())
	}
	for i, name := range []string{ulaw, alaw, pcm} {
		r := rs[i]
		if r.Call != name || r.Verdict != detect.Scam || len(r.Indicators) == 0 {
			t.Errorf("%s: %+v", name, r)
		}
	}
	for _, want := range []string{"# " + ulaw + ": 3", "µ-law at 8000 Hz", "A-law at 8000 Hz", "16-bit PCM at 16000 Hz", "withdraw five thousand pounds"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// --transcript: the words alone, no times, no JSON.
	out.Reset()
	if code := Main([]string{"listen", "--transcript", ulaw}, &out, &errOut); code != 0 {
		t.Fatalf("--transcript: exit %d: %s", code, errOut.String())
	}
	if s := out.String(); strings.Contains(s, "{") || strings.Contains(s, "#") || !strings.Contains(s, "withdraw five thousand pounds") {
		t.Errorf("--transcript printed:\n%s", s)
	}
}

// A recording gets the verdict, risk and signs that the live path — a call's tap, fed its
// packets as they arrive — gives the same audio.
func TestListenAgreesWithTheLivePath(t *testing.T) {
	for _, name := range []string{"bank_safe_account"} {
		a, err := speechtest.Speak(script(t, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".wav")
		writeFile(t, path, func(w io.Writer) error { return wav.WriteG711(w, wav.ULaw, a.Ulaw) })
		var out, errOut bytes.Buffer
		if code := Main([]string{"listen", path}, &out, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		rs := results(t, out.String())
		if len(rs) != 1 {
			t.Fatalf("results: %s", out.String())
		}

		cfg, err := config.Default()
		if err != nil {
			t.Fatal(err)
		}
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		lc := cfg.Listening
		lc.Decoders = 1
		rec, err := recogniser(lc, quiet)
		if err != nil {
			t.Fatal(err)
		}
		var dropped countDrops
		l := listen.New(rec, detect.New(), listen.DefaultPolicy, &dropped, quiet)
		tap := l.Listen("live", listen.Hooks{})
		tick := time.NewTicker(10 * time.Millisecond) // twice real time: the tap keeps up
		for i := 0; i*160 < len(a.Ulaw); i++ {
			pkt := []byte{0x80, 0, byte(i >> 8), byte(i), 0, 0, 0, 0, 0, 0, 0, 1}
			tap.Packet(append(pkt, a.Ulaw[i*160:min((i+1)*160, len(a.Ulaw))]...))
			<-tick.C
		}
		tick.Stop()
		time.Sleep(time.Second) // the queue empties (the recogniser runs ten times real time)
		tap.Close()
		<-tap.Done()
		rec.Close()
		if dropped.n > 0 {
			t.Fatalf("the live tap dropped %d packets: the machine is too busy for this comparison", dropped.n)
		}
		live, err := riskResult(path, tap.Risk())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(rs[0])
		want, _ := json.Marshal(live)
		t.Logf("%s: %s", name, got)
		if !bytes.Equal(got, want) {
			t.Errorf("clearline listen:\n%s\nthe live tap:\n%s", got, want)
		}
	}
}

type countDrops struct {
	listen.NoMetrics
	n int
}

func (c *countDrops) AudioDropped(n int) { c.n += n }

// `listen --eval DIR --heard FILE` writes what was heard, alternatives and all, in the
// detector's format, and `detect --eval FILE` replays it to the same verdicts the listening
// gave: the detector can be measured again on recorded readings without the audio.
func TestHeardReadingsReplayToTheSameVerdicts(t *testing.T) {
	dir := t.TempDir()
	for name, label := range map[string]string{"bank_safe_account": "scam", "gp_surgery": "benign"} {
		s := script(t, name)
		a, err := speechtest.Speak(s)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name+".wav"), func(w io.Writer) error { return wav.WriteG711(w, wav.ULaw, a.Ulaw) })
		words := "# " + label + ": " + name + "\n" + strings.Join(s.Lines, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(words), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	heard := filepath.Join(t.TempDir(), "heard.jsonl")
	var out, errOut bytes.Buffer
	if code := Main([]string{"listen", "--eval", dir, "--heard", heard}, &out, &errOut); code != 0 {
		t.Fatalf("listen --eval: exit %d: %s", code, errOut.String())
	}
	verdicts := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 6 && (f[0] == "bank_safe_account" || f[0] == "gp_surgery") {
			verdicts[f[0]] = f[4]
		}
	}
	if verdicts["bank_safe_account"] != "scam" || verdicts["gp_surgery"] == "scam" {
		t.Fatalf("listen verdicts %v:\n%s", verdicts, out.String())
	}
	b, err := os.ReadFile(heard)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"alternatives":[`) || !strings.Contains(string(b), `"label":"ok"`) {
		t.Errorf("heard file without alternatives or the benign label as ok:\n%s", b)
	}
	out.Reset()
	if code := Main([]string{"detect", "--eval", heard}, &out, &errOut); code != 0 {
		t.Fatalf("detect --eval: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "calls: 2 (scam 1, ok 1)") || !strings.Contains(out.String(), "precision 1.000  recall 1.000") {
		t.Errorf("the replay did not give listening's verdicts:\n%s", out.String())
	}
	// --heard without --eval, and a file that cannot be written, fail before anything is heard.
	if code := Main([]string{"listen", "--heard", heard, filepath.Join(dir, "bank_safe_account.wav")}, &out, &errOut); code != 2 {
		t.Errorf("--heard without --eval: exit %d", code)
	}
	errOut.Reset()
	if code := Main([]string{"listen", "--eval", dir, "--heard", filepath.Join(dir, "no", "such", "heard.jsonl")}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("an unwritable --heard: exit %d, %s", code, errOut.String())
	}
}
