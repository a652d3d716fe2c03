package gossip

import (
	"context"
	"fmt"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// peerPollInterval is how often WaitForPeers re-checks its condition.
const peerPollInterval = 20 * time.Millisecond

// joined is one pubsub topic handle shared by every user of the topic on
// this node: Publish calls in flight, Subscriptions and relays.
type joined struct {
	t    *pubsub.Topic
	refs int
}

// join returns the shared handle of the pubsub topic full, joining it and
// registering val as its (inline) validator on first use. Each successful
// join is paired with one leave. val runs on pubsub's validation workers:
// it must be cheap and must not block; while the PubSub is closing, its
// messages are ignored without calling val.
func (ps *PubSub) join(full string, val pubsub.ValidatorEx) (*pubsub.Topic, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, ErrClosed
	}
	if j := ps.topics[full]; j != nil {
		j.refs++
		return j.t, nil
	}
	guarded := func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if ps.ctx.Err() != nil {
			return pubsub.ValidationIgnore
		}
		return val(ctx, from, msg)
	}
	// The validator goes first, so no message of the topic is ever accepted
	// without it.
	if err := ps.raw.RegisterTopicValidator(full, pubsub.ValidatorEx(guarded), pubsub.WithValidatorInline(true)); err != nil {
		return nil, ps.closedOr(fmt.Errorf("gossip: register validator for %s: %w", full, err))
	}
	t, err := ps.raw.Join(full)
	if err != nil {
		_ = ps.raw.UnregisterTopicValidator(full)
		return nil, ps.closedOr(fmt.Errorf("gossip: join %s: %w", full, err))
	}
	ps.topics[full] = &joined{t: t, refs: 1}
	return t, nil
}

// leave drops one reference to full; the last one closes the handle (pubsub
// has already left the mesh when the last subscription or relay went) and
// removes the validator. It does nothing after Close.
func (ps *PubSub) leave(full string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	j := ps.topics[full]
	if j == nil {
		return
	}
	if j.refs--; j.refs > 0 {
		return
	}
	delete(ps.topics, full)
	if err := j.t.Close(); err != nil && ps.ctx.Err() == nil {
		log.Warnw("close topic", "topic", full, "err", err)
	}
	if err := ps.raw.UnregisterTopicValidator(full); err != nil && ps.ctx.Err() == nil {
		log.Warnw("unregister validator", "topic", full, "err", err)
	}
}

// relay makes this node forward the messages of full to its mesh peers
// without delivering them locally, until the returned function is called.
func (ps *PubSub) relay(full string, val pubsub.ValidatorEx) (func(), error) {
	t, err := ps.join(full, val)
	if err != nil {
		return nil, err
	}
	stopRelay, err := t.Relay()
	if err != nil {
		ps.leave(full)
		return nil, ps.closedOr(fmt.Errorf("gossip: relay %s: %w", full, err))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			stopRelay()
			ps.leave(full)
		})
	}, nil
}

// joinedTopics lists the full names of the topics joined through this core.
func (ps *PubSub) joinedTopics() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]string, 0, len(ps.topics))
	for full := range ps.topics {
		out = append(out, full)
	}
	return out
}

// waitForPeers blocks until at least n peers announced the topic full and,
// if this node is in the topic's mesh (it subscribes or relays), at least
// min(n, D) of them are in its mesh, so that both what it publishes and what
// it relays reaches them. It returns ctx's error (wrapped) or ErrClosed.
func (ps *PubSub) waitForPeers(ctx context.Context, full string, n int) error {
	if n <= 0 {
		return nil
	}
	want := min(n, ps.params.D)
	var tick *time.Ticker
	for {
		have := len(ps.raw.ListPeers(full))
		mesh, member := ps.tr.meshSize(full)
		if have >= n && (!member || mesh >= want) {
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(peerPollInterval)
			defer tick.Stop()
		}
		select {
		case <-tick.C:
		case <-ps.ctx.Done():
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("gossip: wait for %d peers on %s (have %d, mesh %d): %w", n, full, have, mesh, ctx.Err())
		}
	}
}

// closedOr returns ErrClosed once the PubSub is closing, err otherwise: a
// pubsub call that failed because Close cancelled it is not a fault.
func (ps *PubSub) closedOr(err error) error {
	if ps.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}
