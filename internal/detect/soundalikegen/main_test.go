package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/clearline/clearline/internal/detect/garble"
)

// The committed table is what the generator makes from Debian's dictionary (installed by
// make test-deps with pocketsphinx-en-us).
func TestCommittedTableIsGenerated(t *testing.T) {
	f, err := os.Open(garble.DefaultDict)
	if err != nil {
		t.Fatalf("Debian's pronouncing dictionary (pocketsphinx-en-us, installed by make test-deps): %v", err)
	}
	defer f.Close()
	var got bytes.Buffer
	if _, err := Generate(f, &got, garble.DefaultDict); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../soundalike.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Error("internal/detect/soundalike.txt differs from the generator's output: run `make soundalike` and commit it")
	}
}

// Homophones, one-phone neighbours of long words and splits are found; rule words and
// common words are never mapped.
func TestGenerateSmallDictionary(t *testing.T) {
	dict := strings.Join([]string{
		"account AH0 K AW1 N T", "a AH0", "count K AW1 N T",
		"warrant W AO1 R AH0 N T", "warrants W AO1 R AH0 N T S", "quarrant K W AO1 R AH0 N T",
		"one W AH1 N", "won W AH1 N", "having HH AE1 V IH0 NG", "hacking HH AE1 K IH0 NG",
	}, "\n")
	var out bytes.Buffer
	if _, err := Generate(strings.NewReader(dict), &out, "test"); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"a count\taccount", "quarrant\twarrant"} {
		if !strings.Contains(table, want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, never := range []string{"\nwon\t", "\nwarrants\t", "\nhaving\t"} {
		if strings.Contains(table, never) {
			t.Errorf("table maps a rule word or a common word (%q):\n%s", never, table)
		}
	}
}

// Near words: common words one phone from a rule word of three phones or more are listed
// apart ("~dress"), never small words, rule words or a rule word's other forms.
func TestGenerateNearWords(t *testing.T) {
	dict := strings.Join([]string{
		"press P R EH1 S", "dress D R EH1 S", "the DH AH0", "marked M AA1 R K T", "marks M AA1 R K S",
		"call K AO1 L", "haul HH AO1 L", "card K AA1 R D", "cord K AO1 R D", "cards K AA1 R D Z",
	}, "\n")
	var out bytes.Buffer
	if _, err := Generate(strings.NewReader(dict), &out, "test"); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"~dress\tpress", "~haul\tcall", "~cord\tcard"} {
		if !strings.Contains(table, "\n"+want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, never := range []string{"\n~the\t", "\n~marks\t", "\n~cards\t", "\ndress\t"} {
		if strings.Contains(table, never) {
			t.Errorf("table has %q:\n%s", never, table)
		}
	}
}
