package call

import "testing"

// A value no name is known for prints as its number, rather than String calling itself.
func TestUnknownEnumValuesPrint(t *testing.T) {
	if s := Direction(0).String(); s != "unknown(0)" {
		t.Errorf("Direction(0) = %q", s)
	}
	if s := Inbound.String(); s != "inbound" {
		t.Errorf("Inbound = %q", s)
	}
}
