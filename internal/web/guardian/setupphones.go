package guardian

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/clearline/clearline/internal/guard"
)

// phoneCard is one phone on the phones page, with each device's steps.
type phoneCard struct {
	User, Password string
	Status         guard.PhoneStatus
	Devices        []deviceCard
}

type deviceCard struct {
	Name, Where string
	Steps       [][2]string
}

type phonesData struct {
	Server, Port string
	Phones       []phoneCard
	Trunk        guard.TrunkStatus
}

func (s *Dashboard) phones() phonesData {
	cfg := s.o.Line.Config()
	st := s.o.Line.Status()
	host, port, _ := net.SplitHostPort(cfg.SIP.Listen)
	d := phonesData{Server: host, Port: port, Trunk: st.Trunk}
	for i, p := range cfg.Phones {
		c := phoneCard{User: p.User, Password: p.Password}
		if i < len(st.Phones) && st.Phones[i].User == p.User {
			c.Status = st.Phones[i]
		}
		for _, dev := range devices {
			c.Devices = append(c.Devices, deviceCard{Name: dev.Name, Where: dev.Where, Steps: deviceSteps(dev, host, port, p.User, p.Password)})
		}
		d.Phones = append(d.Phones, c)
	}
	return d
}

func (s *Dashboard) setupPhonesPage(w http.ResponseWriter, r *http.Request) {
	s.renderSetup(w, r, http.StatusOK, "setup-phones", nil, setupPage{Step: 3, Extra: s.phones()})
}

func (s *Dashboard) postSetupRing(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/setup/phones?flash="+url.QueryEscape(s.ring(r.Context())), http.StatusSeeOther)
}

// ring places the test call and says how it went.
func (s *Dashboard) ring(ctx context.Context) string {
	tc, err := s.o.Line.RingPhones(ctx)
	switch {
	case errors.Is(err, guard.ErrNoPhone):
		return "No phone is connected yet: set one up as shown below, then ring again."
	case err != nil:
		return fmt.Sprintf("The test call rang %s but did not get through: %v.", orNone(tc.Rang), err)
	}
	return fmt.Sprintf("The test call rang %s; %s answered and heard the guard. The phones work.", orNone(tc.Rang), tc.Answered)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no phone"
	}
	return strings.Join(names, ", ")
}
