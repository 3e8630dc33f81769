//go:build !cgo

package main

import "errors"

func mdefText(string, string) error { return errors.New("-mdef needs cgo and libpocketsphinx") }
