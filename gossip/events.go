package gossip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// MaxTopicLen is the longest event-stream topic name.
const MaxTopicLen = 64

// Errors callers branch on (all returned wrapped, test with errors.Is).
var (
	ErrInvalidTopic = errors.New("invalid topic name")
	ErrTooLarge     = errors.New("message too large")
	ErrEmpty        = errors.New("empty message")
)

// ValidTopic checks a user's event-stream topic name: 1 to 64 characters,
// each a lower-case ASCII letter, a digit, '.', '_' or '-'. The error wraps
// ErrInvalidTopic and says what is wrong.
func ValidTopic(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty (want 1-%d characters of a-z 0-9 . _ -)", ErrInvalidTopic, MaxTopicLen)
	case len(name) > MaxTopicLen:
		return fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrInvalidTopic, len(name), MaxTopicLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
			continue
		}
		hint := "allowed: a-z 0-9 . _ -"
		if 'A' <= c && c <= 'Z' {
			hint = "topic names are lower case"
		}
		return fmt.Errorf("%w: %q has %q at byte %d (%s)", ErrInvalidTopic, name, c, i, hint)
	}
	return nil
}

// Event is one message of the event stream as delivered to a Subscription.
type Event struct {
	Topic        string          // the user topic name, without the prefix
	From         peer.ID         // the author; pubsub verified its signature
	FromAddr     addressing.Addr // the author's Pilot address
	Data         []byte          // the body, as published (never empty)
	Seq          uint64          // the author's sequence number: (From, Seq) identifies the message
	ReceivedFrom peer.ID         // the neighbour that forwarded it; this node's own ID for local publishes
	ReceivedAt   time.Time       // when this node accepted it
}

// eventMeta is what the event validator learns about a message, handed to
// Next through pubsub.Message.ValidatorData.
type eventMeta struct {
	addr       addressing.Addr
	receivedAt time.Time
}

// fullTopic validates a user topic name and returns its pubsub topic.
func (ps *PubSub) fullTopic(name string) (string, error) {
	if err := ValidTopic(name); err != nil {
		return "", fmt.Errorf("gossip: %w", err)
	}
	return ps.cfg.TopicPrefix + name, nil
}

// validateEvent is the validator of every event topic: bodies are opaque,
// so it only rejects empty and oversized ones and authors without an
// address. Signatures were checked by pubsub before it runs.
func (ps *PubSub) validateEvent(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	switch {
	case len(msg.Data) == 0:
		ps.tr.count(StatRejectEmpty)
		return pubsub.ValidationReject
	case len(msg.Data) > ps.cfg.MaxMessageSize:
		ps.tr.count(StatRejectTooLarge)
		return pubsub.ValidationReject
	}
	addr, err := authorAddr(msg)
	if err != nil {
		ps.tr.count(StatRejectBadAuthor)
		return pubsub.ValidationReject
	}
	msg.ValidatorData = &eventMeta{addr: addr, receivedAt: time.Now()}
	return pubsub.ValidationAccept
}

// authorAddr derives the Pilot address of a message's author, from the key
// it carries (keys too large to inline in a peer ID) or from its peer ID.
func authorAddr(msg *pubsub.Message) (addressing.Addr, error) {
	if len(msg.Key) > 0 {
		pub, err := crypto.UnmarshalPublicKey(msg.Key)
		if err != nil {
			return addressing.Addr{}, err
		}
		return addressing.FromPublicKey(pub)
	}
	return addressing.FromPeerID(msg.GetFrom())
}

// Publish sends data to every subscriber of topic that this node can reach
// through the mesh. It does not wait for peers: published into a topic
// where this node knows no peer yet, the message is lost (see
// WaitForPeers). Bodies over Config.MaxMessageSize fail with ErrTooLarge,
// empty ones with ErrEmpty, bad names with ErrInvalidTopic. This node's own
// subscriptions to topic receive the message too.
func (ps *PubSub) Publish(ctx context.Context, topic string, data []byte) error {
	full, err := ps.fullTopic(topic)
	if err != nil {
		return err
	}
	switch {
	case len(data) == 0:
		return fmt.Errorf("gossip: publish to %s: %w", topic, ErrEmpty)
	case len(data) > ps.cfg.MaxMessageSize:
		return fmt.Errorf("gossip: publish to %s: %w: %d bytes, at most %d allowed",
			topic, ErrTooLarge, len(data), ps.cfg.MaxMessageSize)
	}
	if err := ps.enter(); err != nil {
		return err
	}
	defer ps.calls.Done()
	t, err := ps.join(full, ps.validateEvent)
	if err != nil {
		return err
	}
	defer ps.leave(full)
	if err := t.Publish(ctx, data); err != nil {
		return ps.closedOr(fmt.Errorf("gossip: publish to %s: %w", topic, err))
	}
	ps.tr.count(StatPublished)
	return nil
}

// Subscription receives the events of one topic. Several Subscriptions to
// one topic on one node each receive every event.
type Subscription struct {
	ps     *PubSub
	name   string
	full   string
	raw    *pubsub.Subscription
	ctx    context.Context // cancelled by Close and by PubSub.Close
	cancel context.CancelFunc
	once   sync.Once
}

// Subscribe starts receiving the events of topic. The subscription is
// announced to peers asynchronously; use WaitForPeers to know when
// publishers can reach it. Events arriving while the subscription's buffer
// (Config.SubscriptionBuffer) is full are dropped.
func (ps *PubSub) Subscribe(ctx context.Context, topic string) (*Subscription, error) {
	full, err := ps.fullTopic(topic)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.calls.Done()
	t, err := ps.join(full, ps.validateEvent)
	if err != nil {
		return nil, err
	}
	raw, err := t.Subscribe(pubsub.WithBufferSize(ps.cfg.SubscriptionBuffer))
	if err != nil {
		ps.leave(full)
		return nil, ps.closedOr(fmt.Errorf("gossip: subscribe to %s: %w", topic, err))
	}
	s := &Subscription{ps: ps, name: topic, full: full, raw: raw}
	s.ctx, s.cancel = context.WithCancel(ps.ctx)
	return s, nil
}

// Topic returns the user topic name of the subscription.
func (s *Subscription) Topic() string { return s.name }

// Next blocks until the next event arrives and returns it, or returns
// ErrClosed once the subscription or its PubSub is closed, or ctx's error.
// Concurrent calls each receive different events.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	if s.ctx.Err() != nil {
		return Event{}, ErrClosed
	}
	next, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	msg, err := s.raw.Next(next)
	switch {
	case s.ctx.Err() != nil:
		return Event{}, ErrClosed
	case ctx.Err() != nil:
		return Event{}, ctx.Err()
	case err != nil || msg == nil:
		return Event{}, ErrClosed // pubsub cancelled the subscription
	}
	return s.event(msg), nil
}

// event converts a delivered pubsub message.
func (s *Subscription) event(msg *pubsub.Message) Event {
	ev := Event{
		Topic:        s.name,
		From:         msg.GetFrom(),
		Data:         slices.Clone(msg.Data), // pubsub keeps msg for gossip: never hand out its buffer
		ReceivedFrom: msg.ReceivedFrom,
	}
	if len(msg.Seqno) == 8 {
		ev.Seq = binary.BigEndian.Uint64(msg.Seqno)
	}
	if m, ok := msg.ValidatorData.(*eventMeta); ok {
		ev.FromAddr, ev.ReceivedAt = m.addr, m.receivedAt
	} else { // not expected: every event topic has the validator
		ev.FromAddr, _ = authorAddr(msg)
		ev.ReceivedAt = time.Now()
	}
	return ev
}

// Close ends the subscription: Next returns ErrClosed, and when it was the
// topic's last user on this node, the node leaves the topic and tells its
// peers. Close is idempotent.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.cancel()
		s.raw.Cancel() // returns at once if the PubSub is closed
		s.ps.leave(s.full)
	})
}

// Relay makes this node forward topic's events between its peers without
// subscribing to them, so that subscribers connected only through this node
// hear each other (anchors may relay well-known topics). Call the returned
// function to stop; it is idempotent.
func (ps *PubSub) Relay(ctx context.Context, topic string) (stop func(), err error) {
	full, err := ps.fullTopic(topic)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.calls.Done()
	return ps.relay(full, ps.validateEvent)
}

// WaitForPeers blocks until at least n peers are known to be in topic and,
// when this node subscribes to or relays topic, at least min(n, D) of them
// are in its mesh. After it returns nil, what this node publishes or relays
// reaches those peers. It returns ctx's error (wrapped) or ErrClosed.
func (ps *PubSub) WaitForPeers(ctx context.Context, topic string, n int) error {
	full, err := ps.fullTopic(topic)
	if err != nil {
		return err
	}
	if err := ps.enter(); err != nil {
		return err
	}
	defer ps.calls.Done()
	return ps.waitForPeers(ctx, full, n)
}

// Peers returns the peers this node knows to be in topic (they subscribe to
// or relay it), whether or not this node has joined it: the neighbours a
// Publish reaches first.
func (ps *PubSub) Peers(topic string) ([]peer.ID, error) {
	full, err := ps.fullTopic(topic)
	if err != nil {
		return nil, err
	}
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer ps.calls.Done()
	return ps.raw.ListPeers(full), nil
}

// Topics returns the event-stream topics this node has joined (subscribed,
// relayed, or publishing right now), by user name, sorted.
func (ps *PubSub) Topics() []string {
	var out []string
	for _, full := range ps.joinedTopics() {
		if name, ok := strings.CutPrefix(full, ps.cfg.TopicPrefix); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
