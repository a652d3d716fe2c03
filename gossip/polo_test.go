package gossip

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// poloRecorder is a validate callback in the style of a store's Add: items
// starting with "ok" are accepted, with "dup" ignored, others rejected; it
// records what it saw.
type poloRecorder struct {
	mu   sync.Mutex
	seen map[string]peer.ID // raw → author
}

func newPoloRecorder() *poloRecorder { return &poloRecorder{seen: make(map[string]peer.ID)} }

func (r *poloRecorder) validate(from peer.ID, raw []byte) Verdict {
	r.mu.Lock()
	r.seen[string(raw)] = from
	r.mu.Unlock()
	switch {
	case bytes.HasPrefix(raw, []byte("ok")):
		return Accept
	case bytes.HasPrefix(raw, []byte("dup")):
		return Ignore
	default:
		return Reject
	}
}

func (r *poloRecorder) saw(raw string) (peer.ID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.seen[raw]
	return p, ok
}

// Three nodes on the Polo topic: a published attestation reaches the other
// two's callbacks (not the publisher's); Reject and Ignore verdicts are
// counted; oversized messages are refused on both ends.
func TestPoloTopicFanOut(t *testing.T) {
	checkLeaks(t)
	ha, hb, hc, hd := newHost(t), newHost(t), newHost(t), newHost(t)
	connect(t, ha, hb)
	connect(t, hb, hc)
	connect(t, ha, hc)
	connect(t, hd, ha)
	psA, psB, psC := newPubSub(t, ha, fastConfig()), newPubSub(t, hb, fastConfig()), newPubSub(t, hc, fastConfig())
	ctx := waitCtx(t)

	recs := []*poloRecorder{newPoloRecorder(), newPoloRecorder(), newPoloRecorder()}
	var topics []*PoloTopic
	for i, ps := range []*PubSub{psA, psB, psC} {
		pt, err := ps.JoinPolo(PoloTopicName, recs[i].validate)
		require.NoError(t, err)
		defer pt.Close()
		topics = append(topics, pt)
	}
	for _, pt := range topics {
		require.NoError(t, pt.WaitForPeers(ctx, 2))
	}
	ta, tb, tc := topics[0], topics[1], topics[2]

	require.NoError(t, ta.Publish(ctx, []byte("ok attestation 1")))
	for i, r := range recs[1:] {
		eventually(t, "the attestation to reach B and C", func() bool { _, ok := r.saw("ok attestation 1"); return ok })
		from, _ := r.saw("ok attestation 1")
		require.Equal(t, ha.ID(), from, "node %d: from is the author", i+1)
	}
	_, ok := recs[0].saw("ok attestation 1")
	require.False(t, ok, "the publisher's own callback is not called")
	require.Equal(t, uint64(1), ta.Stats().Published)
	eventually(t, "B and C to count the attestation", func() bool {
		return tb.Stats().Accepted == 1 && tc.Stats().Accepted == 1
	})

	// An invalid attestation: rejected by both receivers, counted.
	require.NoError(t, ta.Publish(ctx, []byte("forged")))
	eventually(t, "B and C to reject it", func() bool {
		return tb.Stats().Rejected == 1 && tc.Stats().Rejected == 1
	})
	require.GreaterOrEqual(t, psB.Stats()[StatRejectValidator], uint64(1))
	// A duplicate by the store's standards: ignored.
	require.NoError(t, ta.Publish(ctx, []byte("dup of something")))
	eventually(t, "B and C to ignore it", func() bool {
		return tb.Stats().Ignored == 1 && tc.Stats().Ignored == 1
	})

	// Too large: refused by Publish, and rejected when a peer without the
	// limit sends it.
	err := ta.Publish(ctx, make([]byte, PoloMaxItemSize+1))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorIs(t, ta.Publish(ctx, nil), ErrEmpty)
	rawD := rawPubSub(t, hd)
	topicD, err := rawD.Join(PoloTopicName)
	require.NoError(t, err)
	defer topicD.Close()
	eventually(t, "D to see A in the topic", func() bool { return len(topicD.ListPeers()) == 1 })
	require.NoError(t, topicD.Publish(ctx, append([]byte("ok"), make([]byte, PoloMaxItemSize)...)))
	eventually(t, "A to reject the oversized message", func() bool { return ta.Stats().TooLarge == 1 })
	require.Equal(t, uint64(1), ta.Stats().Rejected)
	require.Zero(t, ta.Stats().Accepted)
}

// JoinPolo's argument checks, double joins, and Close in any order.
func TestPoloTopicLifecycle(t *testing.T) {
	checkLeaks(t)
	ps := newPubSub(t, newHost(t), Config{})
	accept := func(peer.ID, []byte) Verdict { return Accept }

	for _, bad := range []string{"", "polo", DefaultTopicPrefix + "polo", "/" + string(make([]byte, 256))} {
		_, err := ps.JoinPolo(bad, accept)
		require.Error(t, err, "topic %q", bad)
	}
	_, err := ps.JoinPolo(PoloTopicName, nil)
	require.Error(t, err)

	pt, err := ps.JoinPolo(PoloTopicName, accept)
	require.NoError(t, err)
	require.Equal(t, PoloTopicName, pt.Topic())
	_, err = ps.JoinPolo(PoloTopicName, accept)
	require.ErrorIs(t, err, ErrAlreadyJoined)
	pt.Close()
	pt.Close()
	require.ErrorIs(t, pt.Publish(waitCtx(t), []byte("ok")), ErrClosed)

	// Joined again after Close, then the PubSub closes first.
	pt, err = ps.JoinPolo(PoloTopicName, accept)
	require.NoError(t, err)
	require.NoError(t, ps.Close())
	done := make(chan struct{})
	go func() { pt.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Close after the PubSub's Close hangs")
	}
	require.ErrorIs(t, pt.Publish(waitCtx(t), []byte("ok")), ErrClosed)
	_, err = ps.JoinPolo("/other", accept)
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, "reject", Reject.String())
}
