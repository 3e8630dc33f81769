package sphinx_test

import (
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/detect"
	"github.com/clearline/clearline/internal/speech"
	"github.com/clearline/clearline/internal/speech/speechtest"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

func recognise(t testing.TB, r speech.Recognizer, a speechtest.Audio) []speech.Utterance {
	t.Helper()
	us, err := speechtest.Recognise(r, a)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func scripts(t testing.TB) []speechtest.Script {
	t.Helper()
	ss, err := speechtest.LoadScripts("../../../testdata/listen")
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// In the default mode the recogniser's words, fed to the detector, flag both scam scripts
// and none of the benign ones.
func TestDomainModeServesTheDetector(t *testing.T) {
	r, err := sphinx.New(sphinx.Options{Mode: sphinx.Domain, Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := detect.New()
	for _, s := range scripts(t) {
		a, err := speechtest.Speak(s)
		if err != nil {
			t.Fatal(err)
		}
		c := d.NewCall()
		var words []string
		var as detect.Assessment
		for _, u := range recognise(t, r, a) {
			words = append(words, u.Text)
			as = c.Feed(detect.Segment{Text: u.Text, T: u.End.Seconds()})
		}
		t.Logf("%s: risk %.2f %v: %s", s.Name, as.Risk, as.Verdict, strings.Join(words, " | "))
		if flagged := as.Verdict == detect.Scam; flagged != (s.Label == "scam") {
			t.Errorf("%s (%s): verdict %v, risk %.2f", s.Name, s.Label, as.Verdict, as.Risk)
		}
	}
}

// Utterances are cut at the pauses between sentences: each ends shortly after a sentence.
func TestUtterancesEndAtPauses(t *testing.T) {
	r, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := scripts(t)[0]
	a, err := speechtest.Speak(s)
	if err != nil {
		t.Fatal(err)
	}
	us := recognise(t, r, a)
	if len(us) < len(s.Lines)-1 {
		t.Fatalf("%d utterances for %d sentences: %+v", len(us), len(s.Lines), us)
	}
	for _, u := range us {
		if u.End <= u.Start || u.End > speech.SampleTime(int64(len(a.Ulaw)*2)) {
			t.Errorf("utterance %+v outside the audio", u)
		}
	}
}

func TestPoolRefusesBeyondDecoders(t *testing.T) {
	r, err := sphinx.New(sphinx.Options{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := r.Start("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("b"); err != speech.ErrBusy {
		t.Fatalf("second stream on one decoder: %v, want ErrBusy", err)
	}
	st.Close()
	st2, err := r.Start("c")
	if err != nil {
		t.Fatalf("decoder not returned to the pool: %v", err)
	}
	st2.Close()
}

func TestMissingModelIsReported(t *testing.T) {
	_, err := sphinx.New(sphinx.Options{ModelDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Fatalf("err = %v, want one naming the Debian package", err)
	}
}

// With Alternatives, utterances carry other readings than their best one, each once; with
// FreshMean, a decoder hears the same call the same way whatever it heard before.
func TestAlternativesAndFreshMean(t *testing.T) {
	r, err := sphinx.New(sphinx.Options{Decoders: 1, Alternatives: 3, FreshMean: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := speechtest.Speak(scripts(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	first := recognise(t, r, a)
	alts := 0
	for _, u := range first {
		seen := map[string]bool{u.Text: true}
		for _, alt := range u.Alternatives {
			if seen[alt] || alt == "" {
				t.Errorf("utterance %q: alternative %q repeated or empty", u.Text, alt)
			}
			seen[alt] = true
		}
		alts += len(u.Alternatives)
	}
	if alts == 0 {
		t.Errorf("no alternatives in %d utterances", len(first))
	}
	other, err := speechtest.Speak(scripts(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	recognise(t, r, other) // another caller, another voice level and line
	again := recognise(t, r, a)
	if len(again) != len(first) {
		t.Fatalf("%d utterances the second time, %d the first", len(again), len(first))
	}
	for i := range first {
		if first[i].Text != again[i].Text {
			t.Errorf("utterance %d: %q, then %q after another call", i, first[i].Text, again[i].Text)
		}
	}
}
