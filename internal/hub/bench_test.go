package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/hub"
	"github.com/clearline/clearline/internal/hub/hubsql"
)

// benchReport is the i-th of a stream of guard reports: 2,000 numbers in 20 districts.
func benchReport(run string, i int, at time.Time) hub.Report {
	return hub.Report{V: 1, ID: fmt.Sprintf("%s-%08d", run, i), Source: hub.FromGuard, At: at, District: fmt.Sprintf("District %02d", i%20),
		Contact: "call", Number: fmt.Sprintf("+4416329%05d", i%2000), Verdict: "warn", Claimed: "police",
		Indicators: []string{"authority_claim", "cash_withdrawal"}, Reasons: []string{"the caller's name says \"Police\""}}
}

// BenchmarkIngest measures reports per second from guards' publishes to rows in the hub's
// store, over a real NATS server with JetStream: the figure the README quotes. The
// baseline in the same run is the store alone (the same reports written in batches
// straight to it), so the ratio shows what the messaging costs.
func BenchmarkIngest(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB) hub.Store
	}{{"sqlite", sqliteHubStore}, {"postgres", postgresHubStore}} {
		b.Run("store-only/"+be.name, func(b *testing.B) {
			st := be.open(b)
			ctx := context.Background()
			at := time.Now().UTC().Add(-time.Hour)
			b.ResetTimer()
			for n := 0; n < b.N; {
				batch := make([]hub.Report, 0, 1000)
				for ; n < b.N && len(batch) < 1000; n++ {
					batch = append(batch, benchReport("s", n, at))
				}
				if _, err := st.AddReports(ctx, batch, at); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		})
		b.Run("via-nats/"+be.name, func(b *testing.B) {
			n := startNATS(b, 1)
			st := be.open(b)
			h := startHub(b, connect(b, n, "hub"), st, 1)
			js := connect(b, n, "guard")
			ctx := context.Background()
			at := time.Now().UTC().Add(-time.Hour)
			before, _ := st.CountReports(ctx)
			b.ResetTimer()
			for i := range b.N {
				body, _ := json.Marshal(benchReport(fmt.Sprintf("n%d", b.N), i, at))
				if _, err := js.PublishAsync(hub.GuardReports, body, jetstream.WithMsgID(fmt.Sprint(i))); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
			for {
				c, _ := st.CountReports(ctx)
				if c-before >= b.N {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
			b.StopTimer()
			if s := h.Stats(); s.Rejected != 0 {
				b.Fatalf("%d reports refused", s.Rejected)
			}
		})
	}
}

// BenchmarkDetectStored1M measures campaign detection over 1,000,000 reports stored in the
// hub's SQLite store: reading them back and clustering. The clustering alone (the
// baseline) is reported beside it.
func BenchmarkDetectStored1M(b *testing.B) {
	const total = 1_000_000
	ctx := context.Background()
	st, err := hubsql.Open(ctx, "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	start := now.Add(-60 * 24 * time.Hour)
	step := (60 * 24 * time.Hour) / total
	for i := 0; i < total; {
		batch := make([]hub.Report, 0, 5000)
		for ; i < total && len(batch) < 5000; i++ {
			r := benchReport("d", i, start.Add(time.Duration(i)*step))
			r.Number = fmt.Sprintf("+4416329%05d", (i*7919)%100000)
			batch = append(batch, r)
		}
		if _, err := st.AddReports(ctx, batch, now); err != nil {
			b.Fatal(err)
		}
	}
	var reports []campaign.Report
	b.Run("read+detect", func(b *testing.B) {
		for range b.N {
			rs, err := st.CampaignReports(ctx, now.Add(-90*24*time.Hour))
			if err != nil || len(rs) != total {
				b.Fatalf("%d reports read, %v", len(rs), err)
			}
			campaign.Detect(rs, now)
			reports = rs
		}
	})
	b.Run("detect-only", func(b *testing.B) {
		for range b.N {
			campaign.Detect(reports, now)
		}
	})
}

// BenchmarkConfirmToBlock measures the time from an analyst's confirmation on the hub to
// the number being on another guard's block-list (its screening chain is rebuilt by the
// callback), over a real NATS server.
func BenchmarkConfirmToBlock(b *testing.B) {
	n := startNATS(b, 1)
	h := startHub(b, connect(b, n, "hub"), sqliteHubStore(b), 1)
	g := startGuard(b, connect(b, n, "guard"), "Eastleigh")
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Hour)
	var worst time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		number := fmt.Sprintf("+4416329%05d", i%100000)
		for j := range 2 {
			r := benchReport(fmt.Sprintf("c%d-%d", b.N, i), j, at)
			r.Number = number
			if _, err := h.Submit(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		if err := h.Detect(ctx); err != nil {
			b.Fatal(err)
		}
		var id string
		for _, c := range h.Campaigns() {
			if slices.Contains(c.Numbers, number) {
				id = c.ID
			}
		}
		b.StartTimer()
		t0 := time.Now()
		if _, err := h.Confirm(ctx, id, "bench"); err != nil {
			b.Fatal(err)
		}
		for !g.blocked(number) {
			<-g.changed
		}
		worst = max(worst, time.Since(t0))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
