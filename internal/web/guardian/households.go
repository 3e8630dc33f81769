package guardian

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/web/site"
)

// Standing is a household with how its day is going.
type Standing struct {
	dash.Household
	Today dash.Standing `json:"today"`
}

// Standings are the households v may see, the one at most risk today first: open alerts,
// then the riskiest call the guard heard, then warned and blocked calls; then by name.
func (s *Dashboard) Standings(ctx context.Context, v site.Viewer) ([]Standing, error) {
	hs, err := s.Visible(ctx, v)
	if err != nil {
		return nil, err
	}
	sums, err := s.dash.Standings(ctx, v.Households(), startOfToday())
	if err != nil {
		return nil, err
	}
	out := make([]Standing, len(hs))
	for i, h := range hs {
		out[i] = Standing{Household: h, Today: sums[h.ID]}
	}
	slices.SortStableFunc(out, func(a, b Standing) int {
		return cmp.Or(
			cmp.Compare(b.Today.OpenAlerts, a.Today.OpenAlerts),
			cmp.Compare(b.Today.Risk, a.Today.Risk),
			cmp.Compare(b.Today.Warned, a.Today.Warned),
			cmp.Compare(b.Today.Blocked, a.Today.Blocked),
			cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func startOfToday() time.Time {
	now := time.Now().In(site.London)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, site.London)
}

// listPage is how many households a page of the list shows.
const listPage = 100

type householdsData struct {
	Households       []Standing
	From, To, Of     int // the page's first and last (counting from 1), of how many
	Prev, Next, Page int // the neighbouring pages (0: none)
}

// householdsPage lists the viewer's households, the one at most risk today first, a
// hundred to a page.
func (s *Dashboard) householdsPage(w http.ResponseWriter, r *http.Request, v site.Viewer) {
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			http.Error(w, fmt.Sprintf("page %q must be a whole number from 1", p), http.StatusBadRequest)
			return
		}
		page = n
	}
	st, err := s.Standings(r.Context(), v)
	if err != nil {
		s.site.Fail(w, err)
		return
	}
	d := householdsData{Of: len(st), Page: page}
	if page > 1 && (page-1)*listPage >= len(st) {
		http.Error(w, fmt.Sprintf("there is no page %d: %d households make %d", page, len(st), (len(st)+listPage-1)/listPage), http.StatusNotFound)
		return
	}
	lo := min((page-1)*listPage, len(st))
	hi := min(lo+listPage, len(st))
	d.Households, d.From, d.To = st[lo:hi], lo+1, hi
	if page > 1 {
		d.Prev = page - 1
	}
	if hi < len(st) {
		d.Next = page + 1
	}
	s.site.Render(w, http.StatusOK, pages, "households", site.Page{Title: "Households", V: v, Nav: "households", Data: d})
}
