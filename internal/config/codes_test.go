package config

import (
	"strings"
	"testing"
)

func TestHandsetCodes(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Codes.BlockLast != "*84" || c.Codes.ReportLast != "*85" {
		t.Errorf("default codes %+v; want *84 and *85", c.Codes)
	}
	c, err = Parse([]byte("codes:\n  block_last: '#7'\n  report_last: ''\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Codes.BlockLast != "#7" || c.Codes.ReportLast != "" {
		t.Errorf("codes %+v; want #7 and off", c.Codes)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"codes:\n  block_last: '84'\n", "codes.block_last (line 2): \"84\" is not a handset code"},
		{"codes:\n  block_last: '*8a'\n", "is not a handset code"},
		{"codes:\n  report_last: '*'\n", "codes.report_last (line 2): \"*\" is not a handset code"},
		{"codes:\n  report_last: '*1234567'\n", "1 to 6 digits"},
		{"codes:\n  block_last: '*84#'\n", "is not a handset code"},
		{"codes:\n  block_last: '*999'\n", "emergency number 999"},
		{"emergency: ['999', '112', '111']\ncodes:\n  report_last: '#111'\n", "emergency number 111"},
		{"codes:\n  block_last: '*88'\n", "call-back code"},
		{"codes:\n  report_last: '*89'\n", "call-back code"},
		{"codes:\n  block_last: '*60'\n  report_last: '*60'\n", "codes.report_last (line 3): \"*60\" is also codes.block_last"},
		{"codes:\n  block_lst: '*60'\n", "block_lst"},
	} {
		_, err := Parse([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v; want %q", tt.yaml, err, tt.want)
		}
	}
}
