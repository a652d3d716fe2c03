package gossip

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// With Config.AppScore set, gossipsub scores peers: AppScore 0 (a newcomer)
// keeps a peer fully heard, a negative AppScore below the graylist mutes
// it, and Reject verdicts on the Polo topic cost the neighbour that sent
// them.
func TestAppScore(t *testing.T) {
	checkLeaks(t)
	ha, hb, hc := newHost(t), newHost(t), newHost(t)
	connect(t, hb, ha)
	connect(t, hc, ha)

	var mu sync.Mutex
	scores := map[peer.ID]float64{}
	score := func(p peer.ID) float64 {
		mu.Lock()
		defer mu.Unlock()
		return scores[p]
	}
	cfg := fastConfig()
	cfg.AppScore = func(p peer.ID) float64 {
		switch p {
		case hc.ID():
			return -1000
		case hb.ID():
			return 0
		default:
			return math.NaN() // clamped to 0
		}
	}
	cfg.Options = []pubsub.Option{pubsub.WithPeerScoreInspect(func(m map[peer.ID]float64) {
		mu.Lock()
		defer mu.Unlock()
		for p, s := range m {
			scores[p] = s
		}
	}, 50*time.Millisecond)}
	psA := newPubSub(t, ha, cfg)
	psB, psC := newPubSub(t, hb, fastConfig()), newPubSub(t, hc, fastConfig())
	ctx := waitCtx(t)

	recA := newPoloRecorder()
	ta, err := psA.JoinPolo(PoloTopicName, recA.validate)
	require.NoError(t, err)
	defer ta.Close()
	accept := func(peer.ID, []byte) Verdict { return Accept }
	tb, err := psB.JoinPolo(PoloTopicName, accept)
	require.NoError(t, err)
	defer tb.Close()
	tc, err := psC.JoinPolo(PoloTopicName, accept)
	require.NoError(t, err)
	defer tc.Close()
	require.NoError(t, tb.WaitForPeers(ctx, 1))
	require.NoError(t, tc.WaitForPeers(ctx, 1))

	eventually(t, "the inspector to report B and C", func() bool {
		mu.Lock()
		defer mu.Unlock()
		_, okB := scores[hb.ID()]
		_, okC := scores[hc.ID()]
		return okB && okC
	})
	require.Equal(t, 0.0, score(hb.ID()), "a newcomer scores 0")
	require.Less(t, score(hc.ID()), ScoreGraylistThreshold)

	// C is graylisted: A ignores its messages; B, at 0, is heard.
	require.NoError(t, tc.Publish(ctx, []byte("ok from C")))
	require.NoError(t, tb.Publish(ctx, []byte("ok from B")))
	eventually(t, "B's attestation to reach A", func() bool { _, ok := recA.saw("ok from B"); return ok })
	// An absence has no event to wait for: B's later message arrived, and
	// C's, published first, must not arrive for a further 300 ms.
	require.Never(t, func() bool { _, ok := recA.saw("ok from C"); return ok },
		300*time.Millisecond, 10*time.Millisecond, "a graylisted peer is not heard")

	// Invalid attestations from B cost it: 5 rejects, about -25.
	for i := range 5 {
		require.NoError(t, tb.Publish(ctx, fmt.Appendf(nil, "forged %d", i)))
	}
	eventually(t, "A to reject B's forgeries", func() bool { return ta.Stats().Rejected == 5 })
	eventually(t, "B's score to drop", func() bool { return score(hb.ID()) < -20 })
	require.Greater(t, score(hb.ID()), ScoreGossipThreshold, "5 invalid messages do not mute a peer")
}

// Without AppScore there is no peer scoring: pubsub refuses a score
// inspector.
func TestNoAppScoreNoScoring(t *testing.T) {
	// When an option fails, pubsub v0.19 leaves the address book that
	// DefaultGossipSubRouter made running (it is closed only once the
	// router is attached): a leak of pubsub's, on New's error path.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, ignore, goleak.IgnoreTopFunction(
			"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem.(*memoryAddrBook).background"))
	})
	cfg := Config{Options: []pubsub.Option{pubsub.WithPeerScoreInspect(func(map[peer.ID]float64) {}, time.Second)}}
	_, err := New(waitCtx(t), newHost(t), cfg)
	require.ErrorContains(t, err, "peer scoring is not enabled")
}
