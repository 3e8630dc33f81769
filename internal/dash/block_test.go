package dash

import "testing"

func TestWithBlocked(t *testing.T) {
	s := Settings{Block: []Contact{{Number: "+441632960001"}}}
	got, changed, err := s.WithBlocked(" 01632 960123 ", " from the phone ")
	if err != nil || !changed || len(got.Block) != 2 || got.Block[1] != (Contact{Number: "01632 960123", Name: "from the phone"}) {
		t.Fatalf("WithBlocked = %+v, %v, %v", got.Block, changed, err)
	}
	if len(s.Block) != 1 {
		t.Errorf("the settings given changed: %+v", s.Block)
	}
	if again, changed, err := got.WithBlocked("+441632960123", ""); err != nil || changed || len(again.Block) != 2 {
		t.Errorf("the same number written otherwise: %+v, %v, %v", again.Block, changed, err)
	}
	if _, changed, err := s.WithBlocked("anonymous", ""); err == nil || changed {
		t.Errorf("a withheld caller's name was blocked: %v, %v", changed, err)
	}
}
