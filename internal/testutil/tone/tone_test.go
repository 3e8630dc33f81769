package tone

import "testing"

func TestLevelFindsTheToneAndNotOthers(t *testing.T) {
	s := Sine(700, 1600, 8000)
	if l := Level(s, 700); l < 7500 || l > 8500 {
		t.Errorf("700 Hz in a 700 Hz tone of 8000: %.0f", l)
	}
	for _, f := range []float64{400, 1100} {
		if l := Level(s, f); l > 200 {
			t.Errorf("%v Hz in a 700 Hz tone: %.0f", f, l)
		}
	}
	if l := Level(make([]int16, 800), 700); l != 0 {
		t.Errorf("silence: %.0f", l)
	}
}
