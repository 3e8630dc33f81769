package voices

import (
	"bytes"
	"math"
	"testing"

	"github.com/zaf/g711"
)

// Every bench voice speaks: some audio at the line's level, the sentence ends in order,
// and the same voice, line and words give the same bytes; line noise changes them, and
// another seed changes the noise.
func TestEveryBenchVoiceSpeaksDeterministically(t *testing.T) {
	sentences := []string{"Hello, this is the bank.", "Please call us back."}
	for _, v := range Bench {
		t.Run(v.Name, func(t *testing.T) {
			a, err := v.Speak(Clean, sentences...)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Ends) != 2 || a.Ends[0] <= 0 || a.Ends[1] <= a.Ends[0] {
				t.Fatalf("sentence ends %v", a.Ends)
			}
			if secs := float64(len(a.Ulaw)) / 8000; secs < 1.5 || secs > 10 {
				t.Errorf("%.1f s of audio for two short sentences", secs)
			}
			if r := rms(a.Ulaw[:int(a.Ends[0].Seconds()*8000)]); r < 0.5*Level || r > 1.5*Level {
				t.Errorf("speech RMS %.0f, want about %.0f", r, Level)
			}
			b, err := v.Speak(Clean, sentences...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Ulaw, b.Ulaw) {
				t.Error("the same words came out differently twice")
			}
			n1, _ := v.Speak(Line{SNR: 20, Seed: 1}, sentences...)
			n1b, _ := v.Speak(Line{SNR: 20, Seed: 1}, sentences...)
			n2, _ := v.Speak(Line{SNR: 20, Seed: 2}, sentences...)
			if bytes.Equal(n1.Ulaw, a.Ulaw) || !bytes.Equal(n1.Ulaw, n1b.Ulaw) || bytes.Equal(n1.Ulaw, n2.Ulaw) {
				t.Error("line noise is missing, or not repeatable, or ignores its seed")
			}
			// In the gap after the last sentence the line carries only its hiss: 20 dB below.
			tail := n1.Ulaw[int(n1.Ends[1].Seconds()*8000)+100:]
			if r := rms(tail); r < 0.05*Level || r > 0.2*Level {
				t.Errorf("hiss RMS %.0f, want about %.0f", r, 0.1*Level)
			}
		})
	}
}

func TestFindNamesTheVoices(t *testing.T) {
	if v, err := Find("flite-awb"); err != nil || v.ID != "awb" {
		t.Errorf("Find(flite-awb) = %+v, %v", v, err)
	}
	if _, err := Find("nobody"); err == nil {
		t.Error("an unknown voice was found")
	}
}

func rms(ulaw []byte) float64 {
	var s float64
	for _, b := range ulaw {
		v := float64(g711.DecodeUlawFrame(b))
		s += v * v
	}
	return math.Sqrt(s / float64(len(ulaw)))
}
