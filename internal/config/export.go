package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"
)

// SetupFile is the name, in data_dir, of what the dashboard's first-run setup saved. It
// is read over the configuration file, so its keys win; delete it to go back to the file
// alone.
const SetupFile = "setup.yaml"

// Setup is the part of the configuration the first-run setup writes: the guard's address,
// the provider, the phones and the numbers for safe call-back.
type Setup struct {
	SIP       SetupSIP       `yaml:"sip"`
	Trunk     Trunk          `yaml:"trunk"`
	Phones    []Phone        `yaml:"phones"`
	Callback  Callback       `yaml:"callback"`
	Household SetupHousehold `yaml:"household"`
}

// SetupSIP is where the guard listens, as the setup chose it.
type SetupSIP struct {
	Listen string `yaml:"listen"`
}

// SetupHousehold is the household's name, as the setup gave it.
type SetupHousehold struct {
	Name string `yaml:"name"`
}

// SetupOf is c's values for the keys the setup writes.
func SetupOf(c *Config) Setup {
	return Setup{SIP: SetupSIP{Listen: c.SIP.Listen}, Trunk: c.Trunk, Phones: c.Phones, Callback: c.Callback,
		Household: SetupHousehold{Name: c.Household.Name}}
}

// Over checks the setup over the configuration in force exactly as LoadWithSetup would
// read it at the next start — the configuration as one file (its export), then the setup
// document — and returns the configuration that makes, and the document to save.
func (s Setup) Over(cur *Config) (*Config, []byte, error) {
	base, err := Export(cur)
	if err != nil {
		return nil, nil, err
	}
	doc, err := s.YAML()
	if err != nil {
		return nil, nil, err
	}
	next, err := ParseSources(Source{Name: "the configuration in force", YAML: base}, Source{Name: SetupFile, YAML: doc})
	if err != nil {
		return nil, nil, err
	}
	return next, doc, nil
}

// YAML writes the setup as the document SetupFile holds.
func (s Setup) YAML() ([]byte, error) {
	if s.Phones == nil {
		s.Phones = []Phone{}
	}
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return append([]byte("# Saved by clearline's first-run setup on the dashboard. Read over the configuration\n# file: these keys win. Delete this file to go back to the configuration file alone.\n"), b...), nil
}

// Export writes the whole configuration as one YAML file: given alone to clearline run
// --config, it makes the same guard.
func Export(c *Config) ([]byte, error) {
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return append([]byte("# clearline configuration, exported from the dashboard: clearline run --config FILE\n"), b...), nil
}

// MarshalText writes a duration as Go does, like 45s or 1h0m0s.
func (d Duration) MarshalText() ([]byte, error) {
	if d.bad != "" {
		return []byte(d.bad), nil
	}
	return []byte(d.v.String()), nil
}

// LoadWithSetup reads the configuration file at path (the embedded defaults when path is
// empty) and, over it, what the first-run setup saved in its data_dir, if anything.
func LoadWithSetup(path string) (*Config, error) {
	base, name := Source{YAML: defaultYAML}, "embedded defaults"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		base, name = Source{Name: path, YAML: b}, path
	}
	c, err := ParseSources(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sp := filepath.Join(c.DataDir, SetupFile)
	b, err := os.ReadFile(sp)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if c, err = ParseSources(base, Source{Name: sp, YAML: b}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// SaveSetup writes the setup document into dataDir, whole or not at all; it holds the
// phones' and the provider's passwords, so only the guard's user may read it.
func SaveSetup(dataDir string, doc []byte) error {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, SetupFile+".*")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(doc); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, SetupFile)); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
