package node

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/logkey"
)

// Gossipsub forwards a topic only through nodes that subscribe to it or
// relay it, and it does not run over relayed connections. Private nodes
// meet only through anchors, so a node that publishes or subscribes asks
// its anchors (its bootstrap peers) to relay the topic for a while:
// /pilot/topic-relay/1.0.0, one topic name per stream.
const topicRelayProtocol = protocol.ID("/pilot/topic-relay/1.0.0")

// Topic relaying limits on an anchor.
const (
	topicRelayTTL     = 30 * time.Minute
	maxRelayedTopics  = 1024
	topicRelayRefresh = 10 * time.Minute
)

// topicRelays are the topics an anchor relays, each with its expiry.
type topicRelays struct {
	mu     sync.Mutex
	topics map[string]*relayedTopic
	asked  map[string]time.Time // client side: when we last asked
}

type relayedTopic struct {
	stop    func()
	expires time.Time
}

// serveTopicRelay runs on anchors: relay the named topic for topicRelayTTL.
func (n *Node) serveTopicRelay(s network.Stream) {
	defer s.Close()
	if !n.cfg.Anchor {
		s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(io.LimitReader(s, gossip.MaxTopicLen+1))
	if err != nil || gossip.ValidTopic(string(b)) != nil {
		s.Reset()
		return
	}
	if err := n.relayTopic(string(b)); err != nil {
		log.Debugw("topic relay refused", logkey.Topic, string(b), logkey.Err, err)
		s.Reset()
		return
	}
	_, _ = s.Write([]byte{1})
}

func (n *Node) relayTopic(topic string) error {
	r := &n.topicRelays
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for name, t := range r.topics {
		if now.After(t.expires) {
			t.stop()
			delete(r.topics, name)
		}
	}
	if t, ok := r.topics[topic]; ok {
		t.expires = now.Add(topicRelayTTL)
		return nil
	}
	if len(r.topics) >= maxRelayedTopics {
		return errors.New("too many relayed topics")
	}
	stop, err := n.gossip.Relay(context.Background(), topic)
	if err != nil {
		return err
	}
	if r.topics == nil {
		r.topics = make(map[string]*relayedTopic)
	}
	r.topics[topic] = &relayedTopic{stop: stop, expires: now.Add(topicRelayTTL)}
	return nil
}

// stopTopicRelays ends every relayed topic (on Close).
func (n *Node) stopTopicRelays() {
	r := &n.topicRelays
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, t := range r.topics {
		t.stop()
		delete(r.topics, name)
	}
}

// askRelays asks each connected anchor to relay topic, at most once per
// topicRelayRefresh.
func (n *Node) askRelays(ctx context.Context, topic string) {
	r := &n.topicRelays
	r.mu.Lock()
	if last, ok := r.asked[topic]; ok && time.Since(last) < topicRelayRefresh {
		r.mu.Unlock()
		return
	}
	if r.asked == nil {
		r.asked = make(map[string]time.Time)
	}
	r.asked[topic] = time.Now()
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, ai := range n.bootstrap {
		wg.Go(func() { n.askRelay(ctx, ai.ID, topic) })
	}
	wg.Wait()
}

func (n *Node) askRelay(ctx context.Context, p peer.ID, topic string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := n.host.NewStream(ctx, p, topicRelayProtocol)
	if err != nil {
		return
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Write([]byte(topic)); err != nil {
		s.Reset()
		return
	}
	_ = s.CloseWrite()
	var ack [1]byte
	_, _ = io.ReadFull(s, ack[:])
}

// Publish sends data to every subscriber of topic, network-wide. It waits
// briefly (bounded) for the topic's mesh so a first message is not lost.
func (n *Node) Publish(ctx context.Context, topic string, data []byte) (peers int, err error) {
	if err := n.running(); err != nil {
		return 0, err
	}
	if err := gossip.ValidTopic(topic); err != nil {
		return 0, err
	}
	n.askRelays(ctx, topic)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_ = n.gossip.WaitForPeers(wctx, topic, 1)
	cancel()
	if err := n.gossip.Publish(ctx, topic, data); err != nil {
		return 0, err
	}
	ps, _ := n.gossip.Peers(topic)
	return len(ps), nil
}

// Subscribe calls f for every message on topic until ctx ends, f fails or
// count messages arrived (0: no limit). The node's own messages are left
// out.
func (n *Node) Subscribe(ctx context.Context, topic string, count int, f func(gossip.Event) error) error {
	if err := n.running(); err != nil {
		return err
	}
	sub, err := n.gossip.Subscribe(ctx, topic)
	if err != nil {
		return err
	}
	defer sub.Close()
	n.askRelays(ctx, topic)
	for seen := 0; count == 0 || seen < count; {
		e, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if e.From == n.id {
			continue
		}
		if err := f(e); err != nil {
			return err
		}
		seen++
	}
	return nil
}
