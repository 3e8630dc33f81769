// Command britishgen writes internal/claim/british.txt: British pronunciations of the
// grammars' words, for the recogniser's dictionary beside the American ones of Debian's
// pocketsphinx dictionary. They come from espeak-ng's en-gb rules (the one British English
// lexicon a Debian machine has), written in the acoustic model's phones. `make claim-dict`
// runs it; its output is committed, so the guard needs nothing installed to use it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/clearline/clearline/internal/claim"
	"github.com/clearline/clearline/internal/speech/sphinx"
)

func main() {
	out := "internal/claim/british.txt"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := run(out); err != nil {
		fmt.Fprintln(os.Stderr, "britishgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	f, err := os.Open(filepath.Join(sphinx.DefaultModelDir, "cmudict-en-us.dict"))
	if err != nil {
		return err
	}
	american := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		entry, pron, _ := strings.Cut(sc.Text(), " ")
		w, _, _ := strings.Cut(entry, "(")
		american[w] = append(american[w], strings.TrimSpace(pron))
	}
	f.Close()
	c, err := claim.Base()
	if err != nil {
		return err
	}
	var lines []string
	for _, w := range c.Words() {
		ipa, err := exec.Command("espeak-ng", "-q", "-x", "-v", "en-gb", w).Output()
		if err != nil {
			return fmt.Errorf("espeak-ng %q: %w (Debian package espeak-ng)", w, err)
		}
		phones, err := claim.FromEspeak(strings.TrimSpace(string(ipa)))
		if err != nil {
			return fmt.Errorf("%q: %w", w, err)
		}
		known := append(american[w], c.Pronounce[w]...)
		dup := false
		for _, k := range known {
			dup = dup || k == phones
		}
		if !dup && phones != "" {
			lines = append(lines, w+" = "+phones)
		}
	}
	sort.Strings(lines)
	head := "# British pronunciations of the grammars' words that Debian's dictionary lacks, in the\n" +
		"# en-us acoustic model's phones: espeak-ng's en-gb rules, mapped. Written by\n" +
		"# `make claim-dict` (internal/claim/britishgen); do not edit by hand.\n"
	return os.WriteFile(out, []byte(head+strings.Join(lines, "\n")+"\n"), 0o644)
}
