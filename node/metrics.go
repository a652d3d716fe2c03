package node

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/node/trust"
	"github.com/pilot-agents/pilot/reputation"
)

// Pilot's own Prometheus metrics (docs/observability.md). They are always
// counted - into Config.Metrics, or into a private registry nobody serves
// when that is nil - so the instrumentation points never branch on
// whether metrics are on, and a counter costs an atomic add.

// Label values of pilot_resolves_total{result}.
const (
	resolveFound    = "found"
	resolveNotFound = "not_found"
	resolveTimeout  = "timeout"
	resolveError    = "error"
)

// Label values of pilot_sessions_opened_total{path}.
const (
	pathDirect  = "direct"
	pathRelayed = "relayed"
)

// taskOutcomes are the terminal task states, the values of
// pilot_tasks_total{outcome}.
var taskOutcomes = []task.State{task.StateSucceeded, task.StateFailed, task.StateDeclined, task.StateCancelled, task.StateExpired}

// metrics are the node's Pilot metrics. Its methods are safe for
// concurrent use; a nil *metrics ignores every call.
type metrics struct {
	resolves *prometheus.CounterVec
	sessions *prometheus.CounterVec
	// sessDirect and sessRelayed are sessions' two children, resolved
	// once: a stream open costs an atomic add, not a label lookup.
	sessDirect, sessRelayed prometheus.Counter
	redials                 prometheus.Counter
	trustEvents             *prometheus.CounterVec
	accepted                prometheus.Counter
	rejected                *prometheus.CounterVec
	poloCompute             prometheus.Histogram
	lastGC                  atomic.Int64                 // Unix nanoseconds of the last store GC; 0 = never
	tasks                   atomic.Pointer[task.Service] // read at scrape time; nil before Start
}

// newMetrics registers Pilot's metrics with reg (a private registry when
// reg is nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		resolves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pilot_resolves_total",
			Help: "Address resolutions through the DHT, by result: found, not_found, timeout, error.",
		}, []string{"result"}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pilot_sessions_opened_total",
			Help: "Sessions (streams) this node opened to another node's Pilot ports - echo, send, tasks, connect, tunnels - by the path they took: direct or relayed. A stream the remote then refused counts too.",
		}, []string{"path"}),
		redials: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pilot_redials_total",
			Help: "Sessions whose stream failed because the connection under it was dead (the peer restarted or moved without closing it), so the node resolved the peer again and dialled afresh.",
		}),
		trustEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pilot_trust_events_total",
			Help: "Trust handshake events, by kind (request_received, trusted, rejected, revoked, ...).",
		}, []string{"kind"}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pilot_attestations_accepted_total",
			Help: "Polo attestations stored: from gossip, from sync, and issued by this node.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pilot_attestations_rejected_total",
			Help: "Polo attestations refused, by the reputation validator's reason (decode, signature, self, mismatch, expired, future, lifetime, duplicate, sequence, task_replay, rate; error for a store failure).",
		}, []string{"reason"}),
		poloCompute: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pilot_polo_compute_seconds",
			Help:    "Time one Polo score computation (personalised EigenTrust over the stored evidence) took.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10), // 0.5 ms to about 2 minutes
		}),
	}
	for _, r := range []string{resolveFound, resolveNotFound, resolveTimeout, resolveError} {
		m.resolves.WithLabelValues(r)
	}
	m.sessDirect = m.sessions.WithLabelValues(pathDirect)
	m.sessRelayed = m.sessions.WithLabelValues(pathRelayed)
	for _, k := range []string{trust.EventRequestSent, trust.EventRequestReceived, trust.EventTrusted, trust.EventRejected, trust.EventRevoked} {
		m.trustEvents.WithLabelValues(k)
	}
	for _, r := range []reputation.Reason{reputation.ReasonDecode, reputation.ReasonSignature, reputation.ReasonSelf,
		reputation.ReasonMismatch, reputation.ReasonExpired, reputation.ReasonFuture, reputation.ReasonLifetime,
		reputation.ReasonDuplicate, reputation.ReasonSequence, reputation.ReasonTaskReplay, reputation.ReasonRate} {
		m.rejected.WithLabelValues(string(r))
	}
	cs := []prometheus.Collector{m.resolves, m.sessions, m.redials, m.trustEvents, m.accepted, m.rejected, m.poloCompute,
		taskCollector{m}, gcCollector{m}}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if errors.As(err, &dup) {
				return nil, fmt.Errorf("node: metrics: already registered (one Config.Metrics registry per node): %w", err)
			}
			return nil, fmt.Errorf("node: metrics: %w", err)
		}
	}
	return m, nil
}

// resolved counts one resolution and its result.
func (m *metrics) resolved(err error) {
	if m == nil {
		return
	}
	r := resolveError
	switch {
	case err == nil:
		r = resolveFound
	case errors.Is(err, dht.ErrNotFound):
		r = resolveNotFound
	case errors.Is(err, context.DeadlineExceeded):
		r = resolveTimeout
	}
	m.resolves.WithLabelValues(r).Inc()
}

// redialled counts one session that found its connection dead and dialled
// again.
func (m *metrics) redialled() {
	if m != nil {
		m.redials.Inc()
	}
}

// sessionOpened counts one outbound stream to a Pilot port.
func (m *metrics) sessionOpened(relayed bool) {
	if m == nil {
		return
	}
	if relayed {
		m.sessRelayed.Inc()
	} else {
		m.sessDirect.Inc()
	}
}

// meteredHost is the host the ports mux sees: every stream the mux opens
// is a session to a Pilot port, counted by the path it took.
type meteredHost struct {
	host.Host
	m *metrics
}

// NewStream opens a stream through the real host and counts it.
func (h meteredHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err == nil {
		h.m.sessionOpened(isRelayed(s.Conn()))
	}
	return s, err
}

// trustEvent counts one trust event of kind (trust.Event*).
func (m *metrics) trustEvent(kind string) {
	if m == nil {
		return
	}
	m.trustEvents.WithLabelValues(kind).Inc()
}

// attestation counts the outcome of storing one attestation: err is the
// store's answer.
func (m *metrics) attestation(err error) {
	if m == nil {
		return
	}
	if err == nil {
		m.accepted.Inc()
		return
	}
	reason, ok := reputation.ReasonOf(err)
	if !ok {
		reason = "error"
	}
	m.rejected.WithLabelValues(string(reason)).Inc()
}

// poloComputed records how long one score computation took.
func (m *metrics) poloComputed(d time.Duration) {
	if m == nil {
		return
	}
	m.poloCompute.Observe(d.Seconds())
}

// storeGC records that the store's value-log GC ran at t.
func (m *metrics) storeGC(t time.Time) {
	if m == nil {
		return
	}
	m.lastGC.Store(t.UnixNano())
}

// lastStoreGC is when the store's GC last ran (zero: not yet).
func (m *metrics) lastStoreGC() time.Time {
	if m == nil {
		return time.Time{}
	}
	if ns := m.lastGC.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

var taskDesc = prometheus.NewDesc("pilot_tasks_total",
	"Tasks that reached a final state on this node, as requester or worker, by outcome: succeeded, failed, declined, cancelled, expired.",
	[]string{"outcome"}, nil)

// taskCollector reads the task service's own counters at scrape time, so
// node/task needs no instrumentation of its own.
type taskCollector struct{ m *metrics }

func (c taskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- taskDesc }

func (c taskCollector) Collect(ch chan<- prometheus.Metric) {
	var st map[string]uint64
	if s := c.m.tasks.Load(); s != nil {
		st = s.Stats()
	}
	for _, o := range taskOutcomes {
		ch <- prometheus.MustNewConstMetric(taskDesc, prometheus.CounterValue, float64(st[string(o)]), string(o))
	}
}

var gcDesc = prometheus.NewDesc("pilot_store_gc_last_timestamp_seconds",
	"Unix time the store's value-log garbage collection last ran; 0 before the first run (every 10 minutes).",
	nil, nil)

// gcCollector exports the time of the last store GC.
type gcCollector struct{ m *metrics }

func (c gcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- gcDesc }

func (c gcCollector) Collect(ch chan<- prometheus.Metric) {
	v := 0.0
	if t := c.m.lastStoreGC(); !t.IsZero() {
		v = float64(t.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(gcDesc, prometheus.GaugeValue, v)
}
