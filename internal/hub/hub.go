package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clearline/clearline/internal/campaign"
	"github.com/clearline/clearline/internal/detect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Store keeps what the hub receives. hubsql implements it on SQLite and PostgreSQL.
type Store interface {
	// AddReports stores the reports whose IDs are new, atomically, and counts them.
	AddReports(ctx context.Context, reports []Report, received time.Time) (int, error)
	// CampaignReports returns reports made at or after since, for the clustering.
	CampaignReports(ctx context.Context, since time.Time) ([]campaign.Report, error)
	// Reports returns the reports with these IDs, oldest first.
	Reports(ctx context.Context, ids []string) ([]Report, error)
	CountReports(ctx context.Context) (int, error)
	AddBlocks(ctx context.Context, blocks []Block) error
	// RemoveBlock takes a number off the block-list, or returns ErrNotBlocked.
	RemoveBlock(ctx context.Context, number string) error
	Blocks(ctx context.Context) ([]Block, error)
	AddAlert(ctx context.Context, a CommunityAlert) error
	AddReceipt(ctx context.Context, r Receipt) error
	Alerts(ctx context.Context, limit int) ([]AlertReach, error)
	Where() string
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	Close() error
}

// AlertReach is a community alert with the households and guardians it reached.
type AlertReach struct {
	CommunityAlert
	Households int `json:"households"`
	Guardians  int `json:"guardians"`
}

// Options configure a Hub.
type Options struct {
	Store Store
	JS    jetstream.JetStream
	// Replicas is how many servers keep each stream (1, or 3 on a cluster).
	Replicas int
	// Window is how far back campaign detection looks (default 90 days).
	Window time.Duration
	Log    *slog.Logger
	// Now is the clock (tests set it).
	Now func() time.Time
}

// Hub receives reports, detects campaigns, confirms block-lists and sends alerts.
type Hub struct {
	o     Options
	kv    jetstream.KeyValue
	signs *detect.Detector

	mu        sync.RWMutex
	campaigns []campaign.Campaign
	detected  time.Time
	took      time.Duration
	dirty     atomic.Bool

	stored, duplicate, rejected atomic.Int64
}

// Stats are the hub's counters since it started.
type Stats struct {
	Stored, Duplicates, Rejected int64
	Campaigns                    int
	DetectedAt                   time.Time
	DetectTook                   time.Duration
}

// EnsureStreams creates (or updates) the streams and bucket of clearline-hub/1.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	if replicas < 1 {
		replicas = 1
	}
	for _, sc := range []jetstream.StreamConfig{
		{Name: ReportsStream, Subjects: []string{reportsSubjects}, MaxAge: 14 * 24 * time.Hour, Duplicates: 2 * time.Minute},
		{Name: AlertsStream, Subjects: []string{alertsPrefix + "*"}, MaxAge: 30 * 24 * time.Hour, Duplicates: 2 * time.Minute},
		{Name: ReceiptsStream, Subjects: []string{ReceiptsSubject}, MaxAge: 30 * 24 * time.Hour, Duplicates: 2 * time.Minute},
	} {
		sc.Storage, sc.Replicas = jetstream.FileStorage, replicas
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BlocklistBucket, History: 1, Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "clearline shared block-list (clearline-hub/1)"})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", BlocklistBucket, err)
	}
	return kv, nil
}

// New sets up the streams and puts the stored block-list into the bucket (so a bucket
// that was lost is whole again).
func New(ctx context.Context, o Options) (*Hub, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Window == 0 {
		o.Window = 90 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	kv, err := EnsureStreams(ctx, o.JS, o.Replicas)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h := &Hub{o: o, kv: kv, signs: detect.New()}
	if err := h.syncBlocks(ctx); err != nil {
		return nil, err
	}
	h.dirty.Store(true)
	return h, nil
}

// Run takes reports and receipts from JetStream and keeps the campaigns up to date until
// ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { h.consume(ctx, ReportsStream, "hub-reports", 1000, h.ingest) })
	wg.Go(func() { h.consume(ctx, ReceiptsStream, "hub-receipts", 100, h.receipts) })
	wg.Go(func() { h.detectLoop(ctx) })
	wg.Wait()
	return nil
}

// consume fetches batches from a durable consumer and hands them to handle, which acks.
func (h *Hub) consume(ctx context.Context, stream, durable string, batch int, handle func(context.Context, []jetstream.Msg)) {
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		var err error
		if cons == nil {
			cons, err = h.o.JS.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: durable,
				AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 20000})
			if err != nil {
				h.o.Log.Warn("hub: consumer not ready; retrying", "stream", stream, "err", err)
				sleep(ctx, time.Second)
				continue
			}
		}
		msgs, err := cons.Fetch(batch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() == nil {
				h.o.Log.Warn("hub: fetch failed; retrying", "stream", stream, "err", err)
				cons = nil
				sleep(ctx, time.Second)
			}
			continue
		}
		var got []jetstream.Msg
		for m := range msgs.Messages() {
			got = append(got, m)
		}
		if len(got) > 0 {
			handle(ctx, got)
		}
	}
}

// ingest stores a batch of reports; bad ones are refused (terminated) and logged.
func (h *Hub) ingest(ctx context.Context, msgs []jetstream.Msg) {
	now := h.o.Now()
	var good []Report
	var keep []jetstream.Msg
	for _, m := range msgs {
		r, err := ParseReport(m.Data(), now)
		if err != nil {
			h.rejected.Add(1)
			h.o.Log.Warn("hub: report refused", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		good, keep = append(good, r), append(keep, m)
	}
	if len(good) == 0 {
		return
	}
	added, err := h.o.Store.AddReports(ctx, good, now)
	if err != nil {
		h.o.Log.Error("hub: reports not stored; they will be redelivered", "reports", len(good), "err", err)
		for _, m := range keep {
			_ = m.NakWithDelay(time.Second)
		}
		return
	}
	for _, m := range keep {
		_ = m.Ack()
	}
	h.stored.Add(int64(added))
	h.duplicate.Add(int64(len(good) - added))
	if added > 0 {
		h.dirty.Store(true)
	}
}

func (h *Hub) receipts(ctx context.Context, msgs []jetstream.Msg) {
	for _, m := range msgs {
		var r Receipt
		if err := json.Unmarshal(m.Data(), &r); err != nil || r.V != Version || r.Alert == "" || r.Household == "" {
			h.o.Log.Warn("hub: receipt refused", "err", err)
			_ = m.Term()
			continue
		}
		if err := h.o.Store.AddReceipt(ctx, r); err != nil {
			h.o.Log.Error("hub: receipt not stored", "err", err)
			_ = m.NakWithDelay(time.Second)
			continue
		}
		_ = m.Ack()
	}
}

// Submit stores a report a person made (already checked) and says whether it was new. A
// person's account that names no signs of the script is read by the scam detector for
// them, so that it links to campaigns as a guard's report would.
func (h *Hub) Submit(ctx context.Context, r Report) (bool, error) {
	if r.Source == FromPerson && len(r.Indicators) == 0 {
		r.Indicators = Signs(h.signs, r.Words+". "+r.AskedFor)
	}
	n, err := h.o.Store.AddReports(ctx, []Report{r}, h.o.Now())
	if err != nil {
		return false, err
	}
	if n > 0 {
		h.stored.Add(1)
		h.dirty.Store(true)
	}
	return n > 0, nil
}

// detectLoop re-runs detection when reports have arrived, at most every second and never
// more than half the time (detection over a million reports takes seconds).
func (h *Hub) detectLoop(ctx context.Context) {
	for {
		if err := h.Refresh(ctx); err != nil && ctx.Err() == nil {
			h.o.Log.Error("hub: campaign detection failed", "err", err)
		}
		h.mu.RLock()
		wait := max(time.Second, h.took)
		h.mu.RUnlock()
		if !sleep(ctx, wait) {
			return
		}
	}
}

// Detect clusters the stored reports of the window into campaigns now.
func (h *Hub) Detect(ctx context.Context) error {
	start := time.Now()
	now := h.o.Now()
	reports, err := h.o.Store.CampaignReports(ctx, now.Add(-h.o.Window))
	if err != nil {
		return err
	}
	cs := campaign.Detect(reports, now)
	h.mu.Lock()
	h.campaigns, h.detected, h.took = cs, now, time.Since(start)
	h.mu.Unlock()
	return nil
}

// Refresh runs detection if reports arrived since it last ran; when it fails, the next
// Refresh tries again.
func (h *Hub) Refresh(ctx context.Context) error {
	if !h.dirty.Swap(false) {
		return nil
	}
	err := h.Detect(ctx)
	if err != nil {
		h.dirty.Store(true)
	}
	return err
}

// Campaigns returns the campaigns found by the latest detection, most recent first.
func (h *Hub) Campaigns() []campaign.Campaign {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.campaigns
}

// Campaign finds one campaign by ID.
func (h *Hub) Campaign(id string) (campaign.Campaign, bool) {
	for _, c := range h.Campaigns() {
		if c.ID == id {
			return c, true
		}
	}
	return campaign.Campaign{}, false
}

// Districts lists every district a campaign reached, sorted.
func (h *Hub) Districts() []string {
	seen := map[string]bool{}
	for _, c := range h.Campaigns() {
		for _, d := range c.Districts {
			for _, n := range d.New {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Stats reports the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Stored: h.stored.Load(), Duplicates: h.duplicate.Load(), Rejected: h.rejected.Load(),
		Campaigns: len(h.campaigns), DetectedAt: h.detected, DetectTook: h.took}
}

// Health reports what of the hub is not working: its NATS connection or its store.
func (h *Hub) Health(ctx context.Context) error {
	var errs []error
	if st := h.o.JS.Conn().Status(); st != nats.CONNECTED {
		errs = append(errs, fmt.Errorf("NATS: %s", strings.ToLower(st.String())))
	}
	if err := h.o.Store.Ping(ctx); err != nil {
		errs = append(errs, fmt.Errorf("store %s: %w", h.o.Store.Where(), err))
	}
	return errors.Join(errs...)
}

// Store is the hub's store.
func (h *Hub) Store() Store { return h.o.Store }

// ErrNoCampaign is returned for a campaign ID the latest detection does not know.
var ErrNoCampaign = errors.New("no such campaign")

// ErrNotBlocked is returned for a number the shared block-list does not hold.
var ErrNotBlocked = errors.New("not on the shared block-list")

// Confirm puts a campaign's numbers on the shared block-list; every guard applies it to its
// next call. It returns the numbers newly blocked.
func (h *Hub) Confirm(ctx context.Context, id, by string) ([]Block, error) {
	c, ok := h.Campaign(id)
	if !ok {
		return nil, ErrNoCampaign
	}
	stored, err := h.o.Store.Blocks(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, b := range stored {
		have[b.Number] = true
	}
	var blocks []Block
	now := h.o.Now().UTC()
	for _, n := range c.Numbers {
		if have[n] {
			continue
		}
		blocks = append(blocks, Block{V: Version, Number: n, Campaign: c.ID, By: by, At: now,
			Reason: fmt.Sprintf("used in scam campaign %s (%d reports, %s to %s)", c.ID, len(c.Reports),
				c.First.Format("2 Jan"), c.Latest.Format("2 Jan 2006"))})
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if err := h.o.Store.AddBlocks(ctx, blocks); err != nil {
		return nil, err
	}
	return blocks, h.publishBlocks(ctx, blocks)
}

// Unblock takes a number off the shared block-list.
func (h *Hub) Unblock(ctx context.Context, number string) error {
	if err := h.o.Store.RemoveBlock(ctx, number); err != nil {
		return err
	}
	if err := h.kv.Delete(ctx, BlockKey(number)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("block-list: %w", err)
	}
	return nil
}

// syncBlocks makes the bucket hold what the store holds, touching only what differs, so a
// hub restart does not make every guard rebuild its rules once per number.
func (h *Hub) syncBlocks(ctx context.Context) error {
	blocks, err := h.o.Store.Blocks(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	keys, err := h.kv.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return fmt.Errorf("block-list: %w", err)
	}
	for _, k := range keys {
		have[k] = true
	}
	var missing []Block
	for _, b := range blocks {
		if !have[BlockKey(b.Number)] {
			missing = append(missing, b)
		}
		delete(have, BlockKey(b.Number))
	}
	for k := range have { // unblocked in the store while the bucket was away
		if err := h.kv.Delete(ctx, k); err != nil {
			return fmt.Errorf("block-list: %w", err)
		}
	}
	return h.publishBlocks(ctx, missing)
}

func (h *Hub) publishBlocks(ctx context.Context, blocks []Block) error {
	for _, b := range blocks {
		body, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if _, err := h.kv.Put(ctx, BlockKey(b.Number), body); err != nil {
			return fmt.Errorf("block-list: %s: %w", b.Number, err)
		}
	}
	return nil
}

// SendAlert records a community alert and publishes it to each of its districts.
func (h *Hub) SendAlert(ctx context.Context, a CommunityAlert) (CommunityAlert, error) {
	if err := a.Check(); err != nil {
		return a, err
	}
	a.V, a.At = Version, h.o.Now().UTC()
	if a.ID == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		a.ID = "ca-" + a.At.Format("20060102") + "-" + hex.EncodeToString(b)
	}
	if err := h.o.Store.AddAlert(ctx, a); err != nil {
		return a, err
	}
	body, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	for _, d := range a.Districts {
		if _, err := h.o.JS.Publish(ctx, AlertSubject(d), body, jetstream.WithMsgID(a.ID+"/"+DistrictToken(d))); err != nil {
			return a, fmt.Errorf("alert to %s: %w", d, err)
		}
	}
	return a, nil
}

// Signs are the scam script's signs the detector finds in a person's account, in order.
func Signs(d *detect.Detector, account string) []string {
	c := d.NewCall()
	a := c.Feed(detect.Segment{Speaker: "caller", Text: account})
	var out []string
	for _, f := range a.Indicators {
		if k := f.Kind.String(); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
