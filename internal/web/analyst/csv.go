package analyst

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clearline/clearline/internal/web/site"
)

// campaignCSV exports a campaign's reports, one per line, for forwarding to the national
// fraud reporting service.
func (s *Analyst) campaignCSV(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	c, reports, ok := s.campaign(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="campaign-%s.csv"`, c.ID))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"campaign", "report_id", "date_time_utc", "district", "contact", "caller_number", "claimed_to_be", "officer_name",
		"force", "badge_number", "asked_for", "loss_gbp", "indicators", "verdict", "source", "reporter", "account"})
	for _, rp := range reports {
		loss := ""
		if rp.LossPence > 0 {
			loss = fmt.Sprintf("%d.%02d", rp.LossPence/100, rp.LossPence%100)
		}
		_ = cw.Write(safeCells(c.ID, rp.ID, rp.At.UTC().Format(time.RFC3339), rp.District, rp.Contact, rp.Number, rp.Claimed, rp.Officer,
			rp.Force, rp.BadgeNumber, rp.AskedFor, loss, strings.Join(rp.Indicators, " "), rp.Verdict, rp.Source, rp.Reporter, rp.Words))
	}
	cw.Flush()
}

// safeCells keeps spreadsheet programs from running a cell as a formula: a cell starting
// with = @ or a tab, or with + or - not followed by digits only, gets a leading quote.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c == "" {
			continue
		}
		switch c[0] {
		case '=', '@', '\t', '\r':
			cells[i] = "'" + c
		case '+', '-':
			if strings.Trim(c[1:], "0123456789") != "" || len(c) == 1 {
				cells[i] = "'" + c
			}
		}
	}
	return cells
}
