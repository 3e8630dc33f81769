package screen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Entry is one number on a list, with what the list says about it.
type Entry struct {
	Number string // canonical
	// Name is who the number belongs to (for do-not-originate numbers) or why it is listed.
	Name string
	// Source is where the entry comes from (a published page, a campaign, a household).
	Source string
	// Kind groups do-not-originate numbers: service, police, bank, government.
	Kind string
}

// List is a set of numbers, by canonical number.
type List map[string]Entry

// Contains looks up a canonical number.
func (l List) Contains(n string) (Entry, bool) {
	e, ok := l[n]
	return e, ok
}

// ReadList reads CSV lines "number,name,source,kind" (only number is required; lines
// starting with # are comments). Every bad line is reported with its number and reason, and
// nothing is returned unless the whole file is good.
func ReadList(r io.Reader, name string) (List, error) {
	l := List{}
	var errs []error
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %v", name, n, err))
			continue
		}
		num, err := Canonical(rec[0])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %v", name, n, err))
			continue
		}
		e := Entry{Number: num}
		fields := []*string{&e.Name, &e.Source, &e.Kind}
		for i := 1; i < len(rec) && i <= len(fields); i++ {
			*fields[i-1] = strings.TrimSpace(rec[i])
		}
		if len(rec) > 4 {
			errs = append(errs, fmt.Errorf("%s:%d: %d fields; want at most number,name,source,kind", name, n, len(rec)))
			continue
		}
		l[num] = e
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// LoadList reads a list file.
func LoadList(path string) (List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadList(f, path)
}

// ListOf makes a list from numbers given in configuration.
func ListOf(numbers []string, source string) (List, error) {
	l := List{}
	for i, s := range numbers {
		n, err := Canonical(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		l[n] = Entry{Number: n, Source: source}
	}
	return l, nil
}
