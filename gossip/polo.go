package gossip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PoloTopic is the pubsub topic of Polo attestations on the public network;
// a private swarm passes its own to JoinPolo.
const PoloTopicName = "/pilot/polo/1.0.0"

// PoloMaxItemSize is the largest Polo attestation in bytes, on the topic and
// in the sync protocol.
const PoloMaxItemSize = 2 << 10

// poloSubscriptionBuffer is the buffer of the subscription that keeps a
// PoloTopic in the mesh; what it receives is dropped.
const poloSubscriptionBuffer = 32

// ErrAlreadyJoined is returned by JoinPolo for a topic this PubSub has
// joined already.
var ErrAlreadyJoined = errors.New("gossip: topic already joined")

// Verdict is a Polo validate callback's decision about a received message.
type Verdict int

// Verdicts. Any other value counts as Ignore.
const (
	// Accept: valid and stored; pubsub forwards it to the mesh.
	Accept Verdict = iota + 1
	// Ignore: not forwarded, and not the sender's fault: a duplicate, or
	// not verifiable yet.
	Ignore
	// Reject: invalid; not forwarded, and it counts against the neighbour
	// that sent it (with peer scoring on: Config.AppScore).
	Reject
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Ignore:
		return "ignore"
	case Reject:
		return "reject"
	default:
		return fmt.Sprintf("verdict(%d)", int(v))
	}
}

// PoloStats counts a PoloTopic's messages since JoinPolo.
type PoloStats struct {
	Accepted  uint64 // the callback said Accept
	Ignored   uint64 // the callback said Ignore (or gave no valid verdict)
	Rejected  uint64 // the callback said Reject, or the message was empty or too large
	TooLarge  uint64 // of Rejected: over PoloMaxItemSize, or empty
	Published uint64 // published by this node through Publish
}

// PoloTopic is a joined Polo attestation topic: fast, best-effort fan-out
// of attestations. Pubsub gives no catch-up for late joiners; PoloSync is
// the source of truth and repairs what gossip missed.
type PoloTopic struct {
	ps       *PubSub
	name     string
	topic    *pubsub.Topic
	sub      *pubsub.Subscription
	validate func(from peer.ID, raw []byte) Verdict

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the drain goroutine ends
	once   sync.Once

	accepted, ignored, rejected, tooLarge, published atomic.Uint64
}

// poloJoinMu serialises JoinPolo, so that two calls for one topic cannot
// both believe they joined it first.
var poloJoinMu sync.Mutex

// JoinPolo joins the Polo attestation topic (PoloTopicName on the public
// network, a swarm-specific name in a private swarm) and keeps this node
// subscribed, so it is in the topic's mesh and forwards attestations.
//
// validate is the store's Add, wrapped into a Verdict: it runs for every
// message received from a peer (pubsub has already checked the message's
// signature), stores it if it is valid, and says Accept (stored: forward
// it), Ignore (duplicate, or not verifiable yet) or Reject (invalid). A
// message is therefore stored by the time pubsub accepts it, and nothing
// reads the subscription. from is the message's author, not the
// neighbour that forwarded it. raw is a copy the callback may keep. It runs
// on pubsub's validation workers: it must not block for long, and it must
// be safe for concurrent use. Messages this node publishes itself are not
// passed to it: store them before Publish.
//
// Empty messages and messages over PoloMaxItemSize are rejected before
// validate. The topic must not be an event topic (start with
// Config.TopicPrefix) and may be joined once per PubSub.
func (ps *PubSub) JoinPolo(topic string, validate func(from peer.ID, raw []byte) Verdict) (*PoloTopic, error) {
	switch {
	case validate == nil:
		return nil, errors.New("gossip: join polo topic: nil validate callback")
	case topic == "" || len(topic) > 256 || !strings.HasPrefix(topic, "/"):
		return nil, fmt.Errorf("gossip: join polo topic %q: want 1-256 bytes starting with \"/\"", topic)
	case strings.HasPrefix(topic, ps.cfg.TopicPrefix):
		return nil, fmt.Errorf("gossip: join polo topic %q: inside the event-stream prefix %q", topic, ps.cfg.TopicPrefix)
	}
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.calls.Done()

	t := &PoloTopic{ps: ps, name: topic, validate: validate, done: make(chan struct{})}
	if err := t.join(); err != nil {
		return nil, err
	}
	t.ctx, t.cancel = context.WithCancel(ps.ctx)
	go t.drain()
	return t, nil
}

// join joins the pubsub topic with t's validator and subscribes to it.
func (t *PoloTopic) join() error {
	ps := t.ps
	poloJoinMu.Lock()
	defer poloJoinMu.Unlock()
	ps.mu.Lock()
	exists := ps.topics[t.name] != nil
	ps.mu.Unlock()
	if exists {
		return fmt.Errorf("gossip: join polo topic %s: %w", t.name, ErrAlreadyJoined)
	}
	topic, err := ps.join(t.name, t.validateMsg)
	if err != nil {
		return err
	}
	if ps.cfg.AppScore != nil {
		if err := topic.SetScoreParams(poloTopicScoreParams()); err != nil {
			ps.leave(t.name)
			return ps.closedOr(fmt.Errorf("gossip: score parameters of %s: %w", t.name, err))
		}
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(poloSubscriptionBuffer))
	if err != nil {
		ps.leave(t.name)
		return ps.closedOr(fmt.Errorf("gossip: subscribe to %s: %w", t.name, err))
	}
	t.topic, t.sub = topic, sub
	return nil
}

// drain reads and drops what the subscription delivers: validate stored
// it already.
func (t *PoloTopic) drain() {
	defer close(t.done)
	for {
		if _, err := t.sub.Next(t.ctx); err != nil {
			return
		}
	}
}

// validateMsg is the topic's pubsub validator.
func (t *PoloTopic) validateMsg(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if len(msg.Data) == 0 || len(msg.Data) > PoloMaxItemSize {
		t.tooLarge.Add(1)
		t.rejected.Add(1)
		return pubsub.ValidationReject
	}
	if from == t.ps.h.ID() {
		return pubsub.ValidationAccept // our own Publish: stored by the caller
	}
	switch t.validate(msg.GetFrom(), slices.Clone(msg.Data)) {
	case Accept:
		t.accepted.Add(1)
		return pubsub.ValidationAccept
	case Reject:
		t.rejected.Add(1)
		return pubsub.ValidationReject
	default:
		t.ignored.Add(1)
		return pubsub.ValidationIgnore
	}
}

// Topic returns the pubsub topic name.
func (t *PoloTopic) Topic() string { return t.name }

// Publish sends an attestation to the topic's peers. It does not call the
// validate callback: store raw before publishing. Published into a topic
// where this node knows no peer yet, the message is lost (PoloSync repairs
// that). raw must be 1 to PoloMaxItemSize bytes (ErrEmpty, ErrTooLarge).
func (t *PoloTopic) Publish(ctx context.Context, raw []byte) error {
	switch {
	case len(raw) == 0:
		return fmt.Errorf("gossip: publish to %s: %w", t.name, ErrEmpty)
	case len(raw) > PoloMaxItemSize:
		return fmt.Errorf("gossip: publish to %s: %w: %d bytes, at most %d allowed", t.name, ErrTooLarge, len(raw), PoloMaxItemSize)
	}
	if t.ctx.Err() != nil {
		return ErrClosed
	}
	if err := t.ps.enter(); err != nil {
		return err
	}
	defer t.ps.calls.Done()
	if err := t.topic.Publish(ctx, raw); err != nil {
		if t.ctx.Err() != nil {
			return ErrClosed
		}
		return t.ps.closedOr(fmt.Errorf("gossip: publish to %s: %w", t.name, err))
	}
	t.published.Add(1)
	t.ps.tr.count(StatPublished)
	return nil
}

// WaitForPeers blocks until at least n peers are in the topic and at least
// min(n, D) of them in this node's mesh. It returns ctx's error (wrapped)
// or ErrClosed.
func (t *PoloTopic) WaitForPeers(ctx context.Context, n int) error {
	if err := t.ps.enter(); err != nil {
		return err
	}
	defer t.ps.calls.Done()
	return t.ps.waitForPeers(ctx, t.name, n)
}

// Peers returns the peers this node knows to be in the topic.
func (t *PoloTopic) Peers() []peer.ID { return t.topic.ListPeers() }

// Stats returns the topic's counters.
func (t *PoloTopic) Stats() PoloStats {
	return PoloStats{
		Accepted:  t.accepted.Load(),
		Ignored:   t.ignored.Load(),
		Rejected:  t.rejected.Load(),
		TooLarge:  t.tooLarge.Load(),
		Published: t.published.Load(),
	}
}

// Close leaves the topic and waits for its goroutine. It is idempotent and
// may be called after the PubSub's Close.
func (t *PoloTopic) Close() {
	t.once.Do(func() {
		t.cancel()
		t.sub.Cancel()
		<-t.done
		t.ps.leave(t.name)
	})
}
