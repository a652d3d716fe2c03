package trust

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

var log = logging.Logger("pilot/trust")

// Manager runs the trust handshake of one node. All methods are safe for
// concurrent use.
type Manager struct {
	cfg  Config
	key  crypto.PrivKey
	self peer.ID

	// stateMu serialises every read-modify-write of records and outbox
	// entries (operator calls and inbound frames). incoming counts the
	// incoming-pending records and is guarded by it too.
	stateMu  sync.Mutex
	incoming int

	// trusted is the in-memory copy of the trusted set, for IsTrusted.
	cacheMu sync.RWMutex
	trusted map[peer.ID]struct{}

	seqMu   sync.Mutex
	lastSeq uint64        // our last sequence number, persisted before use
	gen     atomic.Uint64 // outbox entry generations

	limiter *limiter

	statsMu sync.Mutex
	stats   map[string]uint64

	events chan Event

	// lifecycle
	lifeMu  sync.Mutex
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// outbox delivery
	kick       chan struct{}
	inflightMu sync.Mutex
	inflight   map[peer.ID]chan struct{} // closed when that delivery ends
	sendSem    chan struct{}
	inboundSem chan struct{}
}

// statNames are the counters Stats always reports (zero until incremented).
var statNames = []string{
	"frames_received", "frames_accepted",
	"rejected_malformed", "rejected_oversized", "rejected_version",
	"rejected_wrong_to", "rejected_wrong_from", "rejected_bad_key", "rejected_bad_signature",
	"rejected_expired", "rejected_future", "rejected_replay",
	"rejected_rate_limited", "rejected_pending_full", "rejected_busy", "rejected_internal",
	"ignored_unsolicited_approve", "ignored_reject", "ignored_revoke", "ignored_request_rejected",
	"sent", "send_failed", "send_refused", "outbox_queued", "outbox_dropped",
	"events_dropped", "store_corrupt",
}

// New checks cfg and loads the trust state from the store. No network
// activity happens before Start; the read methods work right away.
func New(cfg Config) (*Manager, error) {
	if cfg.Host == nil {
		return nil, errors.New("trust: config: Host is required")
	}
	if cfg.DB == nil {
		return nil, errors.New("trust: config: DB is required")
	}
	cfg.setDefaults()
	key := cfg.Key
	if key == nil {
		key = cfg.Host.Peerstore().PrivKey(cfg.Host.ID())
		if key == nil {
			return nil, errors.New("trust: config: no Key and the host's peerstore has none")
		}
	}
	if key.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("trust: config: identity key is %s, want Ed25519", key.Type())
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("trust: config: peer ID of key: %w", err)
	}
	if self != cfg.Host.ID() {
		return nil, fmt.Errorf("trust: config: key is %s's, host is %s", self, cfg.Host.ID())
	}
	m := &Manager{
		cfg:        cfg,
		key:        key,
		self:       self,
		trusted:    make(map[peer.ID]struct{}),
		limiter:    newLimiter(cfg.FramesPerMinute, cfg.RequestsPerMinute),
		stats:      make(map[string]uint64, len(statNames)),
		events:     make(chan Event, cfg.EventBuffer),
		kick:       make(chan struct{}, 1),
		inflight:   make(map[peer.ID]chan struct{}),
		sendSem:    make(chan struct{}, cfg.MaxConcurrentSends),
		inboundSem: make(chan struct{}, cfg.MaxInboundStreams),
	}
	for _, n := range statNames {
		m.stats[n] = 0
	}
	m.gen.Store(uint64(cfg.Now().UnixNano()))
	if m.lastSeq, err = loadSeq(cfg.DB); err != nil {
		return nil, err
	}
	err = scan(cfg.DB, recPrefix, func(v []byte) error {
		r, err := decodeRecord(v)
		if err != nil {
			return err
		}
		switch r.State {
		case StateTrusted:
			m.trusted[r.id] = struct{}{}
		case StateIncomingPending:
			m.incoming++
		}
		return nil
	}, m.corrupt)
	if err != nil {
		return nil, fmt.Errorf("trust: load records: %w", err)
	}
	return m, nil
}

// corrupt reports a stored value that does not decode; it is skipped.
func (m *Manager) corrupt(key []byte, err error) {
	m.count("store_corrupt")
	log.Errorw("skipping corrupt trust entry", "key", string(key), "err", err)
}

// Start registers the stream handler and starts the outbox retrier, which
// first retries every queued message. It does not block; ctx is not
// retained (Close stops the manager).
func (m *Manager) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("trust: start: %w", err)
	}
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.closed {
		return fmt.Errorf("trust: start: %w (closed)", ErrNotRunning)
	}
	if m.started {
		return errors.New("trust: start: already started")
	}
	m.started = true
	forced := m.queuedPeers() // before any new message can be queued
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.cfg.Host.SetStreamHandler(ProtocolID, m.handleStream)
	m.wg.Add(2)
	go m.dispatchEvents()
	go m.retrier(forced)
	return nil
}

// Close removes the stream handler, cancels deliveries and inbound streams
// in progress and waits for every goroutine the manager started. It is
// idempotent. Queued messages stay in the outbox for the next Start. Close
// the Manager before closing the DB.
func (m *Manager) Close() error {
	m.lifeMu.Lock()
	if m.closed {
		m.lifeMu.Unlock()
		return nil
	}
	m.closed = true
	started := m.started
	m.lifeMu.Unlock()
	if !started {
		return nil
	}
	m.cfg.Host.RemoveStreamHandler(ProtocolID)
	m.cancel()
	m.wg.Wait()
	return nil
}

// enter registers an operation that must finish before Close returns; it
// fails when the manager is not running.
func (m *Manager) enter() bool {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if !m.started || m.closed {
		return false
	}
	m.wg.Add(1)
	return true
}

func (m *Manager) leave() { m.wg.Done() }

// Get returns p's record; ok is false when there is none.
func (m *Manager) Get(p peer.ID) (Record, bool, error) {
	var r storedRecord
	var ok bool
	err := m.cfg.DB.View(func(txn *badger.Txn) (err error) {
		r, ok, err = getRecord(txn, p)
		return err
	})
	if err != nil || !ok {
		return Record{}, false, err
	}
	return r.record(), true, nil
}

// List returns every record, ordered by the peer ID's text form.
func (m *Manager) List() ([]Record, error) {
	return m.list(func(State) bool { return true })
}

// Pending returns the incoming- and outgoing-pending records.
func (m *Manager) Pending() ([]Record, error) {
	return m.list(func(s State) bool { return s == StateIncomingPending || s == StateOutgoingPending })
}

func (m *Manager) list(keep func(State) bool) ([]Record, error) {
	var out []Record
	err := scan(m.cfg.DB, recPrefix, func(v []byte) error {
		r, err := decodeRecord(v)
		if err == nil && keep(r.State) {
			out = append(out, r.record())
		}
		return err
	}, m.corrupt)
	if err != nil {
		return nil, fmt.Errorf("trust: list: %w", err)
	}
	return out, nil
}

// Outbox returns the messages waiting for delivery, ordered by the peer
// ID's text form.
func (m *Manager) Outbox() ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := scan(m.cfg.DB, outPrefix, func(v []byte) error {
		e, err := decodeOutbox(v)
		if err == nil {
			out = append(out, e.entry())
		}
		return err
	}, m.corrupt)
	if err != nil {
		return nil, fmt.Errorf("trust: outbox: %w", err)
	}
	return out, nil
}

// IsTrusted reports whether p is trusted. It reads an in-memory set kept in
// step with the store and is cheap enough for every inbound stream.
func (m *Manager) IsTrusted(p peer.ID) bool {
	m.cacheMu.RLock()
	defer m.cacheMu.RUnlock()
	_, ok := m.trusted[p]
	return ok
}

// Trusted returns the trusted peers, sorted.
func (m *Manager) Trusted() []peer.ID {
	m.cacheMu.RLock()
	ids := slices.Collect(maps.Keys(m.trusted))
	m.cacheMu.RUnlock()
	slices.Sort(ids)
	return ids
}

// setTrusted updates the in-memory trusted set.
func (m *Manager) setTrusted(p peer.ID, trusted bool) {
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if trusted {
		m.trusted[p] = struct{}{}
	} else {
		delete(m.trusted, p)
	}
}

// Stats returns a snapshot of the counters: frames received and accepted,
// every rejection and ignore reason, deliveries, outbox and event drops.
func (m *Manager) Stats() map[string]uint64 {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	return maps.Clone(m.stats)
}

func (m *Manager) count(name string) {
	m.statsMu.Lock()
	m.stats[name]++
	m.statsMu.Unlock()
}

// emit queues ev for OnEvent without blocking; overflow is counted.
func (m *Manager) emit(ev Event) {
	if m.cfg.OnEvent == nil {
		return
	}
	select {
	case m.events <- ev:
	default:
		m.count("events_dropped")
		log.Warnw("trust event dropped: OnEvent is too slow", "kind", ev.Kind, "peer", ev.Peer)
	}
}

func (m *Manager) dispatchEvents() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case ev := <-m.events:
			m.cfg.OnEvent(ev)
		}
	}
}

// nextSeq returns a new sequence number, persisted before it is used. It is
// at least the current time in microseconds, so it keeps rising even if
// the store was lost.
func (m *Manager) nextSeq() (uint64, error) {
	m.seqMu.Lock()
	defer m.seqMu.Unlock()
	seq := max(m.lastSeq+1, uint64(max(m.cfg.Now().UnixMicro(), 0)))
	if err := saveSeq(m.cfg.DB, seq); err != nil {
		return 0, err
	}
	m.lastSeq = seq
	return seq, nil
}
