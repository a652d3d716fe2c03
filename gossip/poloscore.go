package gossip

import (
	"math"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer-score thresholds used when Config.AppScore is set, in the unit of
// AppScore (weight 1). A peer's gossipsub score is its AppScore plus
// penalties (invalid Polo messages, broken gossip promises), all zero or
// negative; so a peer whose AppScore is 0 — a newcomer without Polo, not an
// attacker — scores 0 and stays above every threshold until it misbehaves.
const (
	// ScoreGossipThreshold: below it, no gossip (IHAVE/IWANT) to or from
	// the peer.
	ScoreGossipThreshold = -100.0
	// ScorePublishThreshold: below it, this node's own messages are not
	// flood-published to the peer.
	ScorePublishThreshold = -200.0
	// ScoreGraylistThreshold: below it, every RPC from the peer is ignored.
	ScoreGraylistThreshold = -400.0
	// ScoreOpportunisticGraft: when the median score of a topic mesh falls
	// below it, gossipsub grafts better-scoring peers in.
	ScoreOpportunisticGraft = 1.0
)

// appScoreLimit clamps AppScore's values, so a bad value cannot overflow
// the sum pubsub computes.
const appScoreLimit = 1e6

// poloPeerScore is the pubsub option that turns peer scoring on with app as
// the application-specific score (see Config.AppScore).
func poloPeerScore(app func(peer.ID) float64) pubsub.Option {
	params := &pubsub.PeerScoreParams{
		Topics: map[string]*pubsub.TopicScoreParams{},
		AppSpecificScore: func(p peer.ID) float64 {
			v := app(p)
			if math.IsNaN(v) {
				return 0
			}
			return max(-appScoreLimit, min(appScoreLimit, v))
		},
		AppSpecificWeight: 1,
		// Off: Pilot's test networks run many nodes on one IP, and NATs put
		// many real ones behind one.
		IPColocationFactorWeight: 0,
		// Broken gossip promises and re-grafts during backoff, beyond 6,
		// cost (excess)² points; forgotten over about 10 minutes.
		BehaviourPenaltyWeight:    -1,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               10 * time.Minute,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             ScoreGossipThreshold,
		PublishThreshold:            ScorePublishThreshold,
		GraylistThreshold:           ScoreGraylistThreshold,
		AcceptPXThreshold:           0, // as without scoring; this package sends no PX
		OpportunisticGraftThreshold: ScoreOpportunisticGraft,
	}
	return pubsub.WithPeerScore(params, thresholds)
}

// poloTopicScoreParams makes Reject verdicts on the Polo topic count: each
// invalid message a neighbour forwards adds 1 to a counter that decays over
// about 5 minutes, and the penalty is the counter squared (10 invalid
// messages bring a neighbour to -100, the gossip threshold; 20 to -400,
// the graylist threshold). Every other
// topic component is off.
func poloTopicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshQuantum:              time.Second, // required, though P1 is off
		InvalidMessageDeliveriesWeight: -1,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(5 * time.Minute),
	}
}
