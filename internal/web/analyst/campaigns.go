package analyst

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/screen"
	"github.com/clearline/clearline/internal/web/site"
)

// hubView is the analysts' front page.
type hubView struct {
	Campaigns []campaign.Campaign
	Stats     hub.Stats
	Alerts    []hub.AlertReach
	Blocks    []hub.Block
}

func (s *Analyst) hubPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	ctx := r.Context()
	d := hubView{Campaigns: s.hub.Campaigns(), Stats: s.hub.Stats()}
	var err error
	if d.Alerts, err = s.hub.Store().Alerts(ctx, 20); err == nil {
		d.Blocks, err = s.hub.Store().Blocks(ctx)
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	s.site.Render(w, http.StatusOK, pages, "hub", site.Page{Title: "Campaigns", V: v, Nav: "hub", Flash: r.URL.Query().Get("flash"), Data: d})
}

// campaign finds the campaign in the path with its reports; it writes the error itself.
func (s *Analyst) campaign(w http.ResponseWriter, r *http.Request) (campaign.Campaign, []hub.Report, bool) {
	c, ok := s.hub.Campaign(r.PathValue("id"))
	if !ok {
		http.Error(w, "No such campaign (it may have merged into another: see the list).", http.StatusNotFound)
		return c, nil, false
	}
	reports, err := s.hub.Store().Reports(r.Context(), c.Reports)
	if err != nil {
		s.site.Fail(w, err)
		return c, nil, false
	}
	return c, reports, true
}

// campaignView is one campaign's page.
type campaignView struct {
	C        campaign.Campaign
	Reports  []hub.Report
	Map      any
	Chart    any
	Alert    map[string]string
	Blocked  map[string]bool
	AllBlock bool
}

func (s *Analyst) campaignPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, reports, ok := s.campaign(w, r)
	if !ok {
		return
	}
	s.renderCampaign(w, r, v, http.StatusOK, c, reports, nil, nil)
}

func (s *Analyst) renderCampaign(w http.ResponseWriter, r *http.Request, v site.Viewer, code int, c campaign.Campaign, reports []hub.Report, errs dash.FieldErrors, alert map[string]string) {
	blocks, err := s.hub.Store().Blocks(r.Context())
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	d := campaignView{C: c, Reports: reports, Map: districtMap(c, reports), Chart: districtDays(c, reports), Alert: alert, Blocked: map[string]bool{}}
	for _, b := range blocks {
		d.Blocked[b.Number] = true
	}
	d.AllBlock = !slices.ContainsFunc(c.Numbers, func(n string) bool { return !d.Blocked[n] })
	if d.Alert == nil {
		d.Alert = draftAlert(c, reports)
	}
	s.site.Render(w, code, pages, "campaign", site.Page{Title: "Campaign " + c.ID, V: v, Nav: "hub", Errors: errs, Flash: r.URL.Query().Get("flash"), Data: d})
}

func (s *Analyst) postConfirm(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	id := r.PathValue("id")
	blocks, err := s.hub.Confirm(r.Context(), id, v.Name)
	if errors.Is(err, hub.ErrNoCampaign) {
		http.Error(w, "No such campaign.", http.StatusNotFound)
		return
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	msg := fmt.Sprintf("%d numbers added to the shared block-list; every guard blocks them from its next call.", len(blocks))
	http.Redirect(w, r, "/hub/campaigns/"+id+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func (s *Analyst) postCommunityAlert(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	form := map[string]string{"title": r.PostFormValue("title"), "body": r.PostFormValue("body"), "districts": r.PostFormValue("districts"), "campaign": r.PostFormValue("campaign")}
	a := hub.CommunityAlert{Campaign: form["campaign"], Title: form["title"], Body: form["body"], By: v.Name}
	for _, d := range strings.FieldsFunc(form["districts"], func(r rune) bool { return r == '\n' || r == ',' }) {
		if d = strings.TrimSpace(d); d != "" {
			a.Districts = append(a.Districts, d)
		}
	}
	sent, err := s.hub.SendAlert(r.Context(), a)
	if fe := fieldErrors(err); fe != nil {
		if c, ok := s.hub.Campaign(a.Campaign); ok {
			reports, rerr := s.hub.Store().Reports(r.Context(), c.Reports)
			if rerr != nil {
				s.site.Fail(w, rerr)
				return
			}
			s.renderCampaign(w, r, v, http.StatusUnprocessableEntity, c, reports, fe, form)
			return
		}
		http.Error(w, "Alert not sent: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	msg := fmt.Sprintf("Alert %s sent to %s.", sent.ID, strings.Join(sent.Districts, ", "))
	if a.Campaign != "" {
		http.Redirect(w, r, "/hub/campaigns/"+a.Campaign+"?flash="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/hub?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

// unblock takes a number off the shared block-list (a spoofed number may belong to someone
// innocent); it must be on the list.
func (s *Analyst) unblock(r *http.Request, number string, v site.Viewer) error {
	n, err := screen.Canonical(number)
	if err != nil {
		return err
	}
	if err := s.hub.Unblock(r.Context(), n); err != nil {
		return err
	}
	s.site.Log.Info("shared block-list: number removed", "number", n, "by", v.Name)
	return nil
}

func (s *Analyst) postUnblock(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	msg := "Removed from the shared block-list: every guard lets it ring from its next call."
	if err := s.unblock(r, r.PostFormValue("number"), v); err != nil {
		msg = "Not removed: " + err.Error()
	}
	http.Redirect(w, r, "/hub?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}
