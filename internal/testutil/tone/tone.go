// Package tone makes and measures pure tones in 8 kHz linear audio, for tests that check
// which party's audio reached which: each party sends its own frequency, and the level of
// each frequency in what a party received says whose audio it heard.
package tone

import "math"

// Rate is the sample rate of telephone audio.
const Rate = 8000

// Sine is n samples of a tone of freq Hz at amplitude amp (of 32767).
func Sine(freq float64, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/Rate))
	}
	return out
}

// Level is the amplitude of the freq Hz component of samples (Goertzel's algorithm): a
// tone of amplitude A measures about A, other frequencies and silence near 0.
func Level(samples []int16, freq float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / Rate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(samples))
}
