//go:build cgo

package main

/*
#cgo pkg-config: pocketsphinx
#include <stdlib.h>
#include <pocketsphinx.h>
// Not in pocketsphinx's installed headers, but exported by its library.
void *bin_mdef_read(void *config, const char *filename);
int bin_mdef_write_text(void *m, const char *filename);
int bin_mdef_free(void *m);
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// mdefText writes the binary model definition in as text to out, as sphinxtrain reads it.
func mdefText(in, out string) error {
	if out == "" {
		return fmt.Errorf("-mdef MDEF OUT: no OUT")
	}
	ci, co := C.CString(in), C.CString(out)
	defer C.free(unsafe.Pointer(ci))
	defer C.free(unsafe.Pointer(co))
	m := C.bin_mdef_read(nil, ci)
	if m == nil {
		return fmt.Errorf("%s: not a model definition pocketsphinx reads", in)
	}
	defer C.bin_mdef_free(m)
	if C.bin_mdef_write_text(m, co) < 0 {
		return fmt.Errorf("%s: cannot write", out)
	}
	return nil
}
