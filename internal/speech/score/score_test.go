package score

import "testing"

func TestWordErrors(t *testing.T) {
	for _, c := range []struct {
		said, heard string
		errors      int
	}{
		{"Hello, Mrs Hughes!", "hello mrs hughes", 0},
		{"we need you to withdraw cash", "we need to with draw cash", 3}, // deletion, substitution, insertion
		{"don't tell the bank", "", 4},
		{"", "noise", 1},
		{"ten of clubs", "ten of clubs of", 1},
	} {
		if got := Errors(Words(c.said), Words(c.heard)); got != c.errors {
			t.Errorf("%q heard as %q: %d errors, want %d", c.said, c.heard, got, c.errors)
		}
	}
	var tl Tally
	tl.Add("one two three four", "one two three four")
	if a := tl.Add("one two three four", "one too three"); a != 0.5 {
		t.Errorf("accuracy %v, want 0.5", a)
	}
	if tl.Errors != 2 || tl.Words != 8 || tl.Accuracy() != 0.75 {
		t.Errorf("tally %+v accuracy %v", tl, tl.Accuracy())
	}
}
