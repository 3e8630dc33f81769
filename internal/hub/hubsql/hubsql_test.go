package hubsql_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/hub/hubsql"
	"github.com/clearline/clearline/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// backends opens an empty store of each kind: SQLite in a temporary directory, and a
// database on a real PostgreSQL server.
func backends(t *testing.T) map[string]func(t *testing.T) *hubsql.Store {
	return map[string]func(t *testing.T) *hubsql.Store{
		"sqlite": func(t *testing.T) *hubsql.Store {
			s, err := hubsql.Open(context.Background(), "", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) *hubsql.Store {
			s, err := hubsql.Open(context.Background(), pgtest.URL(t), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func report(i int, district string) hub.Report {
	return hub.Report{V: 1, ID: fmt.Sprintf("r-%04d", i), Source: hub.FromGuard, At: t0.Add(time.Duration(i) * time.Minute),
		District: district, Contact: "call", Number: fmt.Sprintf("+4416329605%02d", i%100), Verdict: "warn",
		Indicators: []string{"authority_claim", "cash_withdrawal"}, Claimed: "police", LossPence: int64(i),
		BadgeNumber: fmt.Sprintf("PC %d", 4720+i), Officer: "DS Miller"}
}

func TestStore(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			batch := []hub.Report{report(1, "Winchester"), report(2, "Test Valley"), report(3, "Eastleigh")}
			n, err := s.AddReports(ctx, batch, t0)
			if err != nil || n != 3 {
				t.Fatalf("AddReports = %d, %v; want 3 new", n, err)
			}
			// Sent again, with one new report among them: only the new one is stored.
			n, err = s.AddReports(ctx, append(batch, report(4, "Winchester")), t0)
			if err != nil || n != 1 {
				t.Fatalf("AddReports again = %d, %v; want 1 new", n, err)
			}
			if c, _ := s.CountReports(ctx); c != 4 {
				t.Fatalf("%d reports stored; want 4", c)
			}
			cr, err := s.CampaignReports(ctx, t0.Add(2*time.Minute))
			if err != nil || len(cr) != 3 {
				t.Fatalf("CampaignReports since minute 2 = %d, %v; want 3", len(cr), err)
			}
			for _, r := range cr {
				if r.Claimed != "police" || len(r.Indicators) != 2 || r.District == "" || !r.At.After(t0) ||
					r.IDNumber != fmt.Sprint(4720+r.Loss) || r.Officer != "detective sergeant miller" {
					t.Errorf("campaign report %+v lost a field", r)
				}
			}
			got, err := s.Reports(ctx, []string{"r-0004", "r-0002", "nope"})
			if err != nil || len(got) != 2 || got[0].ID != "r-0002" || got[1].ID != "r-0004" {
				t.Fatalf("Reports = %+v, %v", got, err)
			}
			if got[0].District != "Test Valley" || got[0].Number != "+441632960502" || got[0].LossPence != 2 || !got[0].At.Equal(report(2, "").At) {
				t.Errorf("report read back as %+v", got[0])
			}

			blocks := []hub.Block{{V: 1, Number: "+441632960501", Campaign: "r-0001", Reason: "campaign", By: "Ann", At: t0}}
			if err := s.AddBlocks(ctx, append(blocks, blocks...)); err != nil {
				t.Fatal(err)
			}
			if bs, err := s.Blocks(ctx); err != nil || len(bs) != 1 || bs[0].Number != "+441632960501" || bs[0].By != "Ann" {
				t.Fatalf("Blocks = %+v, %v", bs, err)
			}
			if err := s.RemoveBlock(ctx, "+441632960501"); err != nil {
				t.Fatal(err)
			}
			if bs, _ := s.Blocks(ctx); len(bs) != 0 {
				t.Fatalf("block still there after removal: %+v", bs)
			}

			a := hub.CommunityAlert{V: 1, ID: "ca-1", Campaign: "r-0001", Districts: []string{"Winchester", "Test Valley"}, Title: "t", Body: "b", By: "Ann", At: t0}
			if err := s.AddAlert(ctx, a); err != nil {
				t.Fatal(err)
			}
			if err := s.AddAlert(ctx, a); err == nil {
				t.Error("the same alert ID was stored twice")
			}
			for _, rc := range []hub.Receipt{{V: 1, Alert: "ca-1", Household: "g1", Guardians: 2}, {V: 1, Alert: "ca-1", Household: "g1", Guardians: 2}, {V: 1, Alert: "ca-1", Household: "g2", Guardians: 1}} {
				if err := s.AddReceipt(ctx, rc); err != nil {
					t.Fatal(err)
				}
			}
			as, err := s.Alerts(ctx, 10)
			if err != nil || len(as) != 1 {
				t.Fatalf("Alerts = %+v, %v", as, err)
			}
			if as[0].Households != 2 || as[0].Guardians != 3 || len(as[0].Districts) != 2 {
				t.Errorf("alert reach = %d households, %d guardians, districts %q; want 2, 3 and two districts", as[0].Households, as[0].Guardians, as[0].Districts)
			}
		})
	}
}

// A failure in the middle of a batch stores nothing of it.
func TestBatchIsAtomic(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			ctx2, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.AddReports(ctx2, []hub.Report{report(1, "Winchester"), report(2, "Winchester")}, t0); err == nil {
				t.Fatal("a cancelled batch was accepted")
			}
			if c, _ := s.CountReports(ctx); c != 0 {
				t.Errorf("%d reports stored from a failed batch", c)
			}
		})
	}
}

func TestOpenRefusesOtherDatabases(t *testing.T) {
	if _, err := hubsql.Open(context.Background(), "mysql://x", t.TempDir()); err == nil {
		t.Fatal("mysql:// accepted")
	}
}
