package site

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/clearline/clearline/internal/config"
)

// WriteJSON answers with v as indented JSON.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers with {"error": "..."}.
func WriteError(w http.ResponseWriter, code int, err error) {
	WriteJSON(w, code, map[string]string{"error": err.Error()})
}

// Decode reads one JSON object of at most 64 KiB, refusing unknown fields.
func Decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the JSON expected: %v", err)
	}
	return nil
}

// ExportConfig downloads the configuration in force as one file (it holds passwords: only
// for the setup's session and admins).
func (s *Site) ExportConfig(w http.ResponseWriter, cfg *config.Config) {
	b, err := config.Export(cfg)
	if err != nil {
		s.Fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="clearline.yaml"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
