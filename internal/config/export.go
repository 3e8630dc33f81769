package config

import (
	"fmt"

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
