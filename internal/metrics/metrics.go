// Package metrics holds the Prometheus collectors of a guard and implements the small
// counting interfaces the guard, the relay and the recorder report to.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clearline/clearline/internal/call"
)

// Metrics is every collector, registered on its own registry.
type Metrics struct {
	Registry *prometheus.Registry

	calls        *prometheus.CounterVec
	active       prometheus.Gauge
	teardown     prometheus.Histogram
	authFailures prometheus.Counter
	malformed    prometheus.Counter
	prompts      *prometheus.CounterVec
	mediaActive  prometheus.Gauge
	rtpPackets   *prometheus.CounterVec
	rtpFrom      [4]prometheus.Counter // by call.Side, resolved once: Packet runs per packet
	storeWritten prometheus.Counter
	storeFailed  prometheus.Counter
	storeDropped prometheus.Counter
	storeDurable prometheus.Counter

	listenStreams    *prometheus.CounterVec
	listenDropped    prometheus.Counter
	listenUtterances prometheus.Counter
	interventions    *prometheus.CounterVec
}

// New registers the collectors (and the Go runtime's) on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clearline_calls_total", Help: "Calls ended, by direction and outcome.",
		}, []string{"direction", "outcome"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clearline_active_calls", Help: "Calls in progress.",
		}),
		teardown: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "clearline_teardown_seconds",
			Help:    "Time from one leg's hang-up reaching the guard to the guard's BYE on the other leg.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .2, .5, 1},
		}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_auth_failures_total", Help: "Requests refused for a wrong user name or password.",
		}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_malformed_requests_total", Help: "Requests refused as malformed (headers or SDP).",
		}),
		prompts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clearline_prompts_played_total", Help: "Spoken prompts played to the end, by prompt.",
		}, []string{"prompt"}),
		mediaActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "clearline_media_sessions", Help: "Relayed media sessions open.",
		}),
		rtpPackets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clearline_rtp_packets_relayed_total", Help: "RTP packets relayed between legs, by the side they came from.",
		}, []string{"from"}),
		storeWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_store_events_written_total", Help: "Call events committed to the store.",
		}),
		storeFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_store_write_failures_total", Help: "Store writes that failed and will be retried.",
		}),
		storeDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_store_events_dropped_total", Help: "Call events dropped because the store queue was full.",
		}),
		storeDurable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_store_durable_timeouts_total",
			Help: "Hang-ups answered before the call's end was stored, after waiting the most they may (200 ms).",
		}),
		listenStreams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clearline_listen_streams_total",
			Help: "Calls whose speech analysis started, or did not: started, busy (no free recogniser), failed (started, then stopped), none.",
		}, []string{"result"}),
		listenDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_listen_audio_dropped_seconds_total",
			Help: "Caller audio not analysed because speech analysis fell behind (the call itself got all of it).",
		}),
		listenUtterances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "clearline_listen_utterances_total", Help: "Utterances recognised and given to the detector.",
		}),
		interventions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clearline_interventions_total", Help: "In-call warnings to residents and alerts to guardians, by kind.",
		}, []string{"kind"}),
	}
	m.rtpFrom[call.Trunk] = m.rtpPackets.WithLabelValues(call.Trunk.String())
	m.rtpFrom[call.Household] = m.rtpPackets.WithLabelValues(call.Household.String())
	m.rtpFrom[call.Guardian] = m.rtpPackets.WithLabelValues(call.Guardian.String())
	m.Registry.MustRegister(m.calls, m.active, m.teardown, m.authFailures, m.malformed, m.prompts, m.mediaActive,
		m.rtpPackets, m.storeWritten, m.storeFailed, m.storeDropped, m.storeDurable,
		m.listenStreams, m.listenDropped, m.listenUtterances, m.interventions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CallStarted counts a call in progress.
func (m *Metrics) CallStarted(call.Direction) { m.active.Inc() }

// CallEnded counts a finished call by direction and outcome.
func (m *Metrics) CallEnded(c call.Call) {
	m.active.Dec()
	m.calls.WithLabelValues(c.Direction.String(), c.Outcome.String()).Inc()
}

// Teardown observes one two-leg teardown.
func (m *Metrics) Teardown(d time.Duration) { m.teardown.Observe(d.Seconds()) }

// AuthFailed counts a wrong password.
func (m *Metrics) AuthFailed() { m.authFailures.Inc() }

// Malformed counts a refused malformed request.
func (m *Metrics) Malformed() { m.malformed.Inc() }

// Prompt counts a prompt played to the end.
func (m *Metrics) Prompt(name string) { m.prompts.WithLabelValues(name).Inc() }

// SessionOpened counts an open media session.
func (m *Metrics) SessionOpened() { m.mediaActive.Inc() }

// SessionClosed counts a closed media session.
func (m *Metrics) SessionClosed() { m.mediaActive.Dec() }

// Packet counts one RTP packet relayed from side.
func (m *Metrics) Packet(from call.Side) { m.rtpFrom[from].Inc() }

// Written counts events committed.
func (m *Metrics) Written(n int) { m.storeWritten.Add(float64(n)) }

// WriteFailed counts a failed store write.
func (m *Metrics) WriteFailed() { m.storeFailed.Inc() }

// Dropped counts an event the store queue had no room for.
func (m *Metrics) Dropped() { m.storeDropped.Inc() }

// DurableTimeout counts a hang-up answered before the call's end was stored.
func (m *Metrics) DurableTimeout() { m.storeDurable.Inc() }

// Stream counts a call's analysis starting, or why it did not.
func (m *Metrics) Stream(result string) { m.listenStreams.WithLabelValues(result).Inc() }

// AudioDropped counts 20 ms audio frames analysis had no room for.
func (m *Metrics) AudioDropped(frames int) { m.listenDropped.Add(float64(frames) * 0.02) }

// Utterance counts one utterance recognised.
func (m *Metrics) Utterance() { m.listenUtterances.Inc() }

// Intervention counts a warning or an alert.
func (m *Metrics) Intervention(kind string) { m.interventions.WithLabelValues(kind).Inc() }
