package gossip

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
)

// A–B–C in a line, A and C subscribed, B only relaying: events cross B in
// both directions with the author's identity intact.
func TestEventsCrossARelay(t *testing.T) {
	checkLeaks(t)
	a, b, c := newHost(t), newHost(t), newHost(t)
	connect(t, a, b)
	connect(t, b, c)
	// Default gossipsub parameters (1 s heartbeat): WaitForPeers must cope.
	psA, psB, psC := newPubSub(t, a, Config{}), newPubSub(t, b, Config{}), newPubSub(t, c, Config{})
	ctx := waitCtx(t)

	stop, err := psB.Relay(ctx, "news")
	require.NoError(t, err)
	defer stop()
	subA, err := psA.Subscribe(ctx, "news")
	require.NoError(t, err)
	defer subA.Close()
	subC, err := psC.Subscribe(ctx, "news")
	require.NoError(t, err)
	defer subC.Close()

	require.NoError(t, psA.WaitForPeers(ctx, "news", 1))
	require.NoError(t, psB.WaitForPeers(ctx, "news", 2))
	require.NoError(t, psC.WaitForPeers(ctx, "news", 1))
	require.Empty(t, a.Network().ConnsToPeer(c.ID()), "A and C must only meet through B")
	peersB, err := psB.Peers("news")
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{a.ID(), c.ID()}, peersB)
	require.Equal(t, []string{"news"}, psB.Topics())

	require.NoError(t, psC.Publish(ctx, "news", []byte("hello from C")))
	ev := next(t, subA)
	addrC, err := addressing.FromPeerID(c.ID())
	require.NoError(t, err)
	require.Equal(t, "news", ev.Topic)
	require.Equal(t, c.ID(), ev.From)
	require.Equal(t, addrC, ev.FromAddr)
	require.Equal(t, []byte("hello from C"), ev.Data)
	require.Equal(t, b.ID(), ev.ReceivedFrom, "it came through the relay")
	require.NotZero(t, ev.Seq)
	require.False(t, ev.ReceivedAt.IsZero())

	own := next(t, subC)
	require.Equal(t, c.ID(), own.ReceivedFrom, "a node's subscriptions see its own events")
	require.Equal(t, ev.Seq, own.Seq)

	require.NoError(t, psA.Publish(ctx, "news", []byte("hello from A")))
	ev = next(t, subC)
	addrA, err := addressing.FromPeerID(a.ID())
	require.NoError(t, err)
	require.Equal(t, a.ID(), ev.From)
	require.Equal(t, addrA, ev.FromAddr)
	require.Equal(t, []byte("hello from A"), ev.Data)

	st := psB.Stats()
	require.Zero(t, st[StatRejectValidator])
	require.Equal(t, uint64(2), st[StatDelivered], "the relay validated and forwarded both")
}

// Several subscriptions to one topic on one node each get every event;
// closing one leaves the others alone; the last one leaves the topic.
func TestSubscriptionsShareATopic(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	psA, psB := newPubSub(t, a, fastConfig()), newPubSub(t, b, fastConfig())
	ctx := waitCtx(t)
	full := DefaultTopicPrefix + "multi"

	s1, err := psA.Subscribe(ctx, "multi")
	require.NoError(t, err)
	s2, err := psA.Subscribe(ctx, "multi")
	require.NoError(t, err)
	require.Equal(t, []string{"multi"}, psA.Topics())
	require.NoError(t, psB.WaitForPeers(ctx, "multi", 1)) // B publishes without subscribing

	require.NoError(t, psB.Publish(ctx, "multi", []byte("m1")))
	require.Equal(t, []byte("m1"), next(t, s1).Data)
	require.Equal(t, []byte("m1"), next(t, s2).Data)
	require.Empty(t, psB.Topics(), "a publisher leaves the topic after publishing")

	s1.Close()
	s1.Close() // idempotent
	_, err = s1.Next(ctx)
	require.ErrorIs(t, err, ErrClosed)

	require.NoError(t, psB.Publish(ctx, "multi", []byte("m2")))
	ev := next(t, s2)
	require.Equal(t, []byte("m2"), ev.Data)
	ev.Data[0] = 'X' // a caller's copy: must not reach other subscriptions or the message cache
	require.Equal(t, []string{"multi"}, psA.Topics())

	s2.Close()
	require.Empty(t, psA.Topics())
	require.NotContains(t, psA.Raw().GetTopics(), full)
	eventually(t, "B to see A leave the topic", func() bool { return len(psB.Raw().ListPeers(full)) == 0 })
}

// Local refusals: bad names, empty and oversized bodies; the limit itself
// is fine, and publishing into an empty topic does not block.
func TestPublishLimits(t *testing.T) {
	checkLeaks(t)
	ps := newPubSub(t, newHost(t), Config{MaxMessageSize: 1000})
	ctx := waitCtx(t)
	require.NoError(t, ps.Publish(ctx, "lim", make([]byte, 1000)))
	err := ps.Publish(ctx, "lim", make([]byte, 1001))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "1001 bytes, at most 1000 allowed")
	require.ErrorIs(t, ps.Publish(ctx, "lim", nil), ErrEmpty)
	require.ErrorIs(t, ps.Publish(ctx, "Lim", []byte("x")), ErrInvalidTopic)
	_, err = ps.Subscribe(ctx, "a/b")
	require.ErrorIs(t, err, ErrInvalidTopic)
	require.Equal(t, uint64(1), ps.Stats()[StatPublished])
	require.Zero(t, ps.Stats()[StatRejectTooLarge], "local refusals are not network rejections")
}

func TestValidTopic(t *testing.T) {
	for _, tc := range []struct {
		name, want string // want: "" if valid, else a substring of the error
	}{
		{"news", ""},
		{"a", ""},
		{"agent-42.tasks_v2", ""},
		{"...", ""},
		{strings.Repeat("x", 64), ""},
		{"", "empty"},
		{strings.Repeat("x", 65), "65 bytes long, at most 64"},
		{"News", "lower case"},
		{"a b", `' '`},
		{"a/b", `'/'`},
		{"naïve", "allowed: a-z 0-9 . _ -"},
		{"tab\t", `'\t'`},
		{"a:b", `at byte 1`},
	} {
		err := ValidTopic(tc.name)
		if tc.want == "" {
			require.NoError(t, err, "%q", tc.name)
			continue
		}
		require.ErrorIs(t, err, ErrInvalidTopic, "%q", tc.name)
		require.ErrorContains(t, err, tc.want, "%q", tc.name)
	}
}

func TestConfigChecks(t *testing.T) {
	h := newHost(t)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{TopicPrefix: "pilot/events"}, "must start and end"},
		{Config{TopicPrefix: "/pilot/events"}, "must start and end"},
		{Config{MaxMessageSize: -1}, "out of range"},
		{Config{MaxMessageSize: MaxMessageSizeLimit + 1}, "out of range"},
		{Config{SubscriptionBuffer: -1}, "subscription buffer -1 is negative"},
		{Config{ValidateQueueSize: -2}, "validate queue size -2 is negative"},
	} {
		_, err := New(context.Background(), h, tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	c, err := Config{}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, DefaultTopicPrefix, c.TopicPrefix)
	require.Equal(t, DefaultMaxMessageSize, c.MaxMessageSize)
}

// Close ends a blocked Next with ErrClosed, refuses later calls, and leaves
// no goroutine behind.
func TestCloseEndsNext(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	psA, psB := newPubSub(t, a, fastConfig()), newPubSub(t, b, fastConfig())
	ctx := waitCtx(t)
	sub, err := psA.Subscribe(ctx, "bye")
	require.NoError(t, err)
	require.NoError(t, psB.WaitForPeers(ctx, "bye", 1))

	done := make(chan error, 2)
	for range 2 {
		go func() { _, err := sub.Next(context.Background()); done <- err }()
	}
	require.NoError(t, psA.Close())
	require.ErrorIs(t, <-done, ErrClosed)
	require.ErrorIs(t, <-done, ErrClosed)
	require.NoError(t, psA.Close(), "Close is idempotent")
	sub.Close() // after the PubSub: must not block

	_, err = sub.Next(ctx)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, psA.Publish(ctx, "bye", []byte("x")), ErrClosed)
	_, err = psA.Subscribe(ctx, "bye")
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, psA.WaitForPeers(ctx, "bye", 1), ErrClosed)
	_, err = psA.Peers("bye")
	require.ErrorIs(t, err, ErrClosed)
	_, err = psA.Relay(ctx, "bye")
	require.ErrorIs(t, err, ErrClosed)

	// The streams were reset: B forgets A, and A's side of every pubsub
	// stream goes (its inbound ones as their handlers return, which can
	// trail Close by a moment).
	eventually(t, "B to drop A", func() bool { return len(psB.Raw().ListPeers(DefaultTopicPrefix+"bye")) == 0 })
	eventually(t, "A's pubsub streams to close", func() bool {
		for _, c := range a.Network().Conns() {
			for _, s := range c.GetStreams() {
				if slices.Contains(psA.Protocols(), s.Protocol()) {
					return false
				}
			}
		}
		return true
	})
}

// Next honours its context without closing the subscription.
func TestNextContext(t *testing.T) {
	checkLeaks(t)
	ps := newPubSub(t, newHost(t), fastConfig())
	sub, err := ps.Subscribe(waitCtx(t), "quiet")
	require.NoError(t, err)
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sub.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)

	require.NoError(t, ps.Publish(waitCtx(t), "quiet", []byte("still open")))
	require.Equal(t, []byte("still open"), next(t, sub).Data)

	wctx, wcancel := context.WithCancel(context.Background())
	wcancel()
	err = ps.WaitForPeers(wctx, "quiet", 1)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "have 0")
}
