package gossip

import (
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Keys of PubSub.Stats. "reject_*" messages count against their sender
// (pubsub's ValidationReject); "ignore_*" and "drop_*" are not the sender's
// fault.
const (
	// Rejected by an event-topic validator of this package.
	StatRejectTooLarge  = "reject_too_large"  // body over Config.MaxMessageSize
	StatRejectEmpty     = "reject_empty"      // empty body
	StatRejectBadAuthor = "reject_bad_author" // author ID or key yields no address
	// Rejected by any topic validator (events and later topics alike): the
	// sum of the precise reject_* reasons of every validator.
	StatRejectValidator = "reject_validator"
	// Rejected by pubsub before the topic validators.
	StatRejectInvalidSignature = "reject_invalid_signature"
	StatRejectMissingSignature = "reject_missing_signature"
	StatRejectSelfOrigin       = "reject_self_origin" // claims to be ours, arrived from a peer
	StatRejectBlacklisted      = "reject_blacklisted" // from or forwarded by a blacklisted peer
	StatRejectUnexpectedSig    = "reject_unexpected_signature"
	// Not the sender's fault.
	StatIgnoreValidator    = "ignore_validator"             // a validator said ValidationIgnore
	StatIgnoreQueueFull    = "ignore_validation_queue_full" // Config.ValidateQueueSize exceeded
	StatIgnoreThrottled    = "ignore_validation_throttled"  // too many async validations
	StatDropSlowSubscriber = "drop_slow_subscriber"         // a Subscription's buffer was full
	StatDropRPC            = "drop_rpc"                     // an RPC to a peer was dropped: its outbound queue was full (or the RPC was oversized)
	StatDuplicate          = "duplicate"                    // seen before (normal in a mesh)
	StatDelivered          = "delivered"                    // accepted and handed to local subscribers
	StatPublished          = "published"                    // published by this node through Publish
)

// statKeys lists every key of Stats, in a fixed order.
var statKeys = []string{
	StatRejectTooLarge, StatRejectEmpty, StatRejectBadAuthor, StatRejectValidator,
	StatRejectInvalidSignature, StatRejectMissingSignature, StatRejectSelfOrigin,
	StatRejectBlacklisted, StatRejectUnexpectedSig,
	StatIgnoreValidator, StatIgnoreQueueFull, StatIgnoreThrottled,
	StatDropSlowSubscriber, StatDropRPC,
	StatDuplicate, StatDelivered, StatPublished,
}

// rejectReasons maps pubsub's RejectMessage reasons to Stats keys.
var rejectReasons = map[string]string{
	pubsub.RejectValidationFailed:    StatRejectValidator,
	pubsub.RejectInvalidSignature:    StatRejectInvalidSignature,
	pubsub.RejectMissingSignature:    StatRejectMissingSignature,
	pubsub.RejectSelfOrigin:          StatRejectSelfOrigin,
	pubsub.RejectBlacklstedPeer:      StatRejectBlacklisted,
	pubsub.RejectBlacklistedSource:   StatRejectBlacklisted,
	pubsub.RejectUnexpectedSignature: StatRejectUnexpectedSig,
	pubsub.RejectUnexpectedAuthInfo:  StatRejectUnexpectedSig,
	pubsub.RejectValidationIgnored:   StatIgnoreValidator,
	pubsub.RejectValidationQueueFull: StatIgnoreQueueFull,
	pubsub.RejectValidationThrottled: StatIgnoreThrottled,
}

// tracer is a pubsub.RawTracer that counts messages and keeps this node's
// view of each topic mesh (for WaitForPeers). Pubsub calls it from its
// event loop and from validation workers, so it is safe for concurrent use
// and never blocks.
type tracer struct {
	counts map[string]*atomic.Uint64 // fixed after newTracer

	mu   sync.Mutex
	mesh map[string]map[peer.ID]struct{} // topics whose mesh we are in
}

var _ pubsub.RawTracer = (*tracer)(nil)

func newTracer() *tracer {
	t := &tracer{
		counts: make(map[string]*atomic.Uint64, len(statKeys)),
		mesh:   make(map[string]map[peer.ID]struct{}),
	}
	for _, k := range statKeys {
		t.counts[k] = new(atomic.Uint64)
	}
	return t
}

func (t *tracer) count(key string) { t.counts[key].Add(1) }

func (t *tracer) snapshot() map[string]uint64 {
	out := make(map[string]uint64, len(t.counts))
	for k, v := range t.counts {
		out[k] = v.Load()
	}
	return out
}

// meshSize reports how many peers are in this node's mesh for topic, and
// whether this node is in the topic's mesh at all (subscribed or relaying).
func (t *tracer) meshSize(topic string) (n int, member bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.mesh[topic]
	return len(m), ok
}

func (t *tracer) Join(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mesh[topic] == nil {
		t.mesh[topic] = make(map[peer.ID]struct{})
	}
}

func (t *tracer) Leave(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.mesh, topic)
}

func (t *tracer) Graft(p peer.ID, topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.mesh[topic]; m != nil {
		m[p] = struct{}{}
	}
}

func (t *tracer) Prune(p peer.ID, topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.mesh[topic], p)
}

func (t *tracer) OnClosedOutboundStream(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.mesh {
		delete(m, p)
	}
}

func (t *tracer) RejectMessage(_ *pubsub.Message, reason string) {
	if k, ok := rejectReasons[reason]; ok {
		t.count(k)
	}
}

func (t *tracer) DeliverMessage(*pubsub.Message)       { t.count(StatDelivered) }
func (t *tracer) DuplicateMessage(*pubsub.Message)     { t.count(StatDuplicate) }
func (t *tracer) UndeliverableMessage(*pubsub.Message) { t.count(StatDropSlowSubscriber) }
func (t *tracer) DropRPC(*pubsub.RPC, peer.ID)         { t.count(StatDropRPC) }

func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *tracer) ValidateMessage(*pubsub.Message)                      {}
func (t *tracer) ThrottlePeer(peer.ID)                                 {}
func (t *tracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
