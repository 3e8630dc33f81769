package speech

import (
	"math"
	"testing"
)

// Telephone keeps the speech band and cuts what a line cuts, from any input rate: a 1 kHz
// tone passes at its level, 3.9 kHz (which would alias) and 100 Hz (below the band) do not.
func TestTelephoneBand(t *testing.T) {
	for _, rate := range []int{8000, 11025, 16000, 22050, 44100} {
		for _, c := range []struct {
			f        float64
			min, max float64 // output amplitude over input
		}{{1000, 0.95, 1.05}, {3000, 0.9, 1.05}, {3900, 0, 0.01}, {100, 0, 0.2}} {
			if c.f*2 >= float64(rate) {
				continue
			}
			in := make([]int16, rate) // one second
			for i := range in {
				in[i] = int16(8000 * math.Sin(2*math.Pi*c.f*float64(i)/float64(rate)))
			}
			out := Telephone(in, rate)
			if len(out) != LineRate {
				t.Fatalf("%d Hz: %d samples out, want %d", rate, len(out), LineRate)
			}
			got := 2 * math.Sqrt(power(out[800:], c.f, LineRate)) / 8000 // skip the filters' start
			if got < c.min || got > c.max {
				t.Errorf("%d Hz input, %.0f Hz tone: gain %.3f, want %.2f-%.2f", rate, c.f, got, c.min, c.max)
			}
		}
	}
}
