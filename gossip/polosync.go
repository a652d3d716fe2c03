package gossip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// PoloSyncProtocol is the protocol ID of the Polo anti-entropy sync on the
// public network; a private swarm passes its own to NewPoloSync.
const PoloSyncProtocol = protocol.ID("/pilot/polo-sync/1.0.0")

// Defaults of SyncOptions.
const (
	DefaultSyncMaxItems = 10_000
	DefaultSyncTimeout  = 30 * time.Second
)

// SyncMaxRounds is the most request/response exchanges of one sync
// session, whatever the options. An initiator stops there (the result is
// Truncated); a responder asked for more resets the stream.
const SyncMaxRounds = 1024

// Internal bounds of one session.
const (
	// syncMaxStoreCalls bounds the SyncStore calls one session makes, so a
	// peer cannot make this node scan its store without end.
	syncMaxStoreCalls = 1 << 17
	// syncMaxNodes bounds the prefixes an initiator queries in one session
	// (and so its queue: a few MB at most). A difference of 10,000 items
	// in a store of a million needs about 10,300.
	syncMaxNodes = 1 << 15
	// syncMaxInbound is the most sessions served at once; more are reset.
	syncMaxInbound = 16
)

// Errors of the sync protocol (returned wrapped, test with errors.Is).
var (
	// ErrSyncProtocol: the peer sent a malformed or unexpected message.
	ErrSyncProtocol = errors.New("polo sync: protocol violation")
	// ErrSyncLimit: the peer asked for more than one session allows.
	ErrSyncLimit = errors.New("polo sync: session limit exceeded")
)

// SyncStore is the item set being reconciled. Items are opaque bytes
// identified by the SHA-256 of their bytes ([32]byte IDs). Every method
// must be safe for concurrent use: several sessions run at once.
type SyncStore interface {
	// Summary returns the number of stored IDs starting with prefix (0..32
	// bytes) and the XOR of those IDs. It must be exactly the XOR of the
	// IDs: for small ranges PoloSync computes it itself from ListIDs, and
	// both sides must agree.
	Summary(prefix []byte) (count int, fingerprint [32]byte, err error)
	// ListIDs returns up to limit IDs starting with prefix, ascending.
	ListIDs(prefix []byte, limit int) ([][32]byte, error)
	// Get returns the item with the given ID, if stored.
	Get(id [32]byte) (raw []byte, ok bool, err error)
	// Add validates and stores an item; an invalid item returns an error
	// and is not stored.
	Add(raw []byte) error
}

// SyncOptions configures NewPoloSync. The zero value is valid.
type SyncOptions struct {
	// MaxItems bounds the items one session transfers, both directions
	// together (received, rejected and sent). Default DefaultSyncMaxItems.
	// A larger difference takes several sessions.
	MaxItems int
	// Timeout bounds one session, from the stream's opening to its end,
	// on both sides. Default DefaultSyncTimeout.
	Timeout time.Duration
	// Accept decides who may open a session with this node; nil lets
	// everyone. It runs on the stream's goroutine and must be quick.
	Accept func(peer.ID) bool
	// OnSynced, if set, receives the result of every successful session
	// that Run started.
	OnSynced func(SyncResult)
	// OnServed, if set, receives the result of every session a peer opened
	// with this node, and the error that ended it (nil when the peer
	// closed it cleanly).
	OnServed func(SyncResult, error)
}

// SyncResult describes one sync session, from this node's side.
type SyncResult struct {
	Peer          peer.ID // the other side
	Rounds        int     // request/response exchanges
	SentItems     int     // items sent to the peer
	ReceivedItems int     // items received from the peer and stored
	Rejected      int     // items received from the peer that the store refused
	BytesSent     int64   // protocol bytes written (frames, not stream overhead)
	BytesReceived int64   // protocol bytes read
	Truncated     bool    // a session limit was reached: sync again to finish
}

// SyncStats counts the sessions of a PoloSync since NewPoloSync.
type SyncStats struct {
	Initiated     uint64 // sessions opened by SyncWith
	Served        uint64 // sessions opened by peers and accepted
	Refused       uint64 // sessions opened by peers and reset at once (Accept said no, or too many at once)
	Failed        uint64 // sessions (either side) that ended in an error
	ItemsReceived uint64 // items received and stored
	ItemsSent     uint64 // items sent
	Rejected      uint64 // items received that the store refused
}

// PoloSync runs the Polo anti-entropy protocol on a host: it answers the
// sessions peers open (NewPoloSync registers the stream handler) and opens
// its own (SyncWith, Run). After a session both sides hold the union of
// their valid items, up to the session's limits. Every method is safe for
// concurrent use.
type PoloSync struct {
	h        host.Host
	proto    protocol.ID
	store    SyncStore
	opts     SyncOptions
	inbound  chan struct{} // semaphore of sessions served
	rejected *rejectCache

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup // sessions and Run loops in flight
	closeOnce sync.Once

	initiated, served, refused, failed atomic.Uint64
	itemsIn, itemsOut, itemsRejected   atomic.Uint64
}

// NewPoloSync registers the sync protocol proto (PoloSyncProtocol, or a
// swarm's own) on h over store. Close removes it.
func NewPoloSync(h host.Host, proto protocol.ID, store SyncStore, opts SyncOptions) *PoloSync {
	if opts.MaxItems <= 0 {
		opts.MaxItems = DefaultSyncMaxItems
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultSyncTimeout
	}
	s := &PoloSync{
		h:        h,
		proto:    proto,
		store:    store,
		opts:     opts,
		inbound:  make(chan struct{}, syncMaxInbound),
		rejected: newRejectCache(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(proto, s.handle)
	return s
}

// Protocol returns the protocol ID the sync runs on.
func (s *PoloSync) Protocol() protocol.ID { return s.proto }

// Close removes the stream handler, resets the sessions in flight (both
// sides), ends Run loops and waits for all of them. It is idempotent and
// always returns nil.
func (s *PoloSync) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.h.RemoveStreamHandler(s.proto)
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// enter registers a session or loop in flight; it fails once Close has
// begun. Every successful enter is paired with s.wg.Done().
func (s *PoloSync) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.store == nil {
		return errors.New("polo sync: no store")
	}
	s.wg.Add(1)
	return nil
}

// Stats returns the counters of sessions and items since NewPoloSync.
func (s *PoloSync) Stats() SyncStats {
	return SyncStats{
		Initiated:     s.initiated.Load(),
		Served:        s.served.Load(),
		Refused:       s.refused.Load(),
		Failed:        s.failed.Load(),
		ItemsReceived: s.itemsIn.Load(),
		ItemsSent:     s.itemsOut.Load(),
		Rejected:      s.itemsRejected.Load(),
	}
}

// account adds a finished session to the counters.
func (s *PoloSync) account(res SyncResult, err error) {
	if err != nil {
		s.failed.Add(1)
	}
	s.itemsIn.Add(uint64(res.ReceivedItems))
	s.itemsOut.Add(uint64(res.SentItems))
	s.itemsRejected.Add(uint64(res.Rejected))
}

// Bounds of the cache of rejected item IDs.
const (
	rejectCacheSize = 4096
	rejectCacheTTL  = 10 * time.Minute
)

// rejectCache remembers, for a while, the IDs of items the store refused,
// so that periodic sessions with a peer that holds invalid items do not
// download them again each time. Entries expire (an item that could not be
// verified yet may become valid); when full it forgets everything.
type rejectCache struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time // expiry
}

func newRejectCache() *rejectCache { return &rejectCache{m: make(map[[32]byte]time.Time)} }

func (c *rejectCache) has(id [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.m[id]
	if ok && time.Now().After(exp) {
		delete(c.m, id)
		return false
	}
	return ok
}

func (c *rejectCache) add(id [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if len(c.m) >= rejectCacheSize {
		for k, exp := range c.m {
			if now.After(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= rejectCacheSize {
			clear(c.m)
		}
	}
	c.m[id] = now.Add(rejectCacheTTL)
}
