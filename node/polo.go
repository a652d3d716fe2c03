package node

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/reputation"
	"github.com/pilot-agents/pilot/reputation/score"
)

// Polo (docs/polo.md): attestations of completed tasks, validated and
// kept in the store (reputation.Store), spread by a gossipsub topic for
// speed and by anti-entropy sync for completeness, and scored by each node
// for itself (score.Engine, personalised EigenTrust anchored on the node
// and the peers it trusts).

const (
	// poloSyncEvery is how often a node reconciles its attestations with
	// one random directly connected peer.
	poloSyncEvery = time.Minute
	// poloRecompute is the least time between two score computations on
	// the query path; a query in between uses the cached view.
	poloRecompute = 2 * time.Second
	// attestationLifetime is how long an attestation this node issues is
	// valid (the store's MaxAge keeps evidence 30 days anyway).
	attestationLifetime = 30 * 24 * time.Hour
	// syncBatchMax bounds the attestations a sync session buffers before
	// they are stored (one session transfers at most 10,000).
	syncBatchMax = 20000
)

// poloState is the node's reputation machinery.
type poloState struct {
	store  *reputation.Store
	engine *score.Engine
	topic  *gossip.PoloTopic
	sync   *gossip.PoloSync

	mu          sync.Mutex
	computedAt  time.Time
	anchorsKey  string
	pending     [][]byte // attestations received by sync, stored in order at the session's end
	issueMu     sync.Mutex
	gossipStats map[string]uint64
}

// poloProtocols are the topic and the sync protocol of the node's network:
// the public mesh's, or its swarm's (prefixed like the DHT).
func (n *Node) poloProtocols() (topic string, sync protocol.ID) {
	return n.cfg.ProtocolPrefix + "/polo/1.0.0", protocol.ID(n.cfg.ProtocolPrefix + "/polo-sync/1.0.0")
}

// openPolo opens the attestation store and loads its evidence into the
// score engine. It runs before gossip starts, whose peer score reads it.
func (n *Node) openPolo() error {
	st, err := reputation.Open(n.db, reputation.Rules{})
	if err != nil {
		return err
	}
	eng := score.New(score.Params{})
	eng.SetAnchors(n.id, nil)
	if err := st.Each(func(a reputation.Attestation) error {
		eng.Add(evidence(a))
		return nil
	}); err != nil {
		return err
	}
	n.polo = &poloState{store: st, engine: eng}
	return nil
}

func evidence(a reputation.Attestation) score.Evidence {
	return score.Evidence{Issuer: a.Issuer, Subject: a.Subject, Success: a.Outcome == reputation.Success, Cost: a.Cost, IssuedAt: a.IssuedAt}
}

// gossipScore is gossipsub's application-specific score of p: its Polo.
func (n *Node) gossipScore(p peer.ID) float64 {
	if n.polo == nil {
		return 0
	}
	return score.GossipScore(n.polo.engine.Score(p).Polo)
}

// startPolo joins the attestation topic and starts the sync protocol.
func (n *Node) startPolo(ctx context.Context) error {
	topic, proto := n.poloProtocols()
	t, err := n.gossip.JoinPolo(topic, n.validateGossip)
	if err != nil {
		return err
	}
	n.polo.topic = t
	n.polo.sync = gossip.NewPoloSync(n.host, proto, poloSyncStore{n}, gossip.SyncOptions{
		OnSynced: func(gossip.SyncResult) { n.flushSynced() },
		OnServed: func(gossip.SyncResult, error) { n.flushSynced() },
	})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.polo.sync.Run(ctx, poloSyncEvery, n.directPeers)
	}()
	return nil
}

// catchUp reconciles with the peers the node joined through, so a late
// joiner holds the mesh's attestations before its first sync interval.
func (n *Node) catchUp(ctx context.Context) {
	peers := n.directPeers()
	if len(peers) > 3 {
		peers = peers[:3]
	}
	for _, p := range peers {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if _, err := n.polo.sync.SyncWith(ctx, p); err != nil {
				log.Debugw("polo catch-up", logkey.Peer, p, logkey.Err, err)
			}
			n.flushSynced()
		}()
	}
}

// directPeers are the peers with a direct (not relayed) connection.
func (n *Node) directPeers() []peer.ID {
	var out []peer.ID
	for _, p := range n.host.Network().Peers() {
		if n.host.Network().Connectedness(p) == network.Connected && n.hasDirectConn(p) {
			out = append(out, p)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// validateGossip is the attestation topic's validator: the store's Add.
// Malformed or forged attestations count against the sender; what an
// honest node can also produce - a duplicate, a sequence gap from gossip
// reordering, a clock difference, an issuer over its rate - is ignored.
func (n *Node) validateGossip(_ peer.ID, raw []byte) gossip.Verdict {
	err := n.addAttestation(raw)
	if err == nil {
		return gossip.Accept
	}
	reason, _ := reputation.ReasonOf(err)
	switch reason {
	case reputation.ReasonDecode, reputation.ReasonSignature, reputation.ReasonSelf,
		reputation.ReasonMismatch, reputation.ReasonLifetime, reputation.ReasonTaskReplay:
		return gossip.Reject
	}
	return gossip.Ignore
}

// addAttestation stores raw and feeds the score engine.
func (n *Node) addAttestation(raw []byte) error {
	a, err := n.polo.store.Add(raw)
	n.metrics.attestation(err)
	if err != nil {
		return err
	}
	n.polo.engine.Add(evidence(a))
	return nil
}

// poloSyncStore adapts the store to the sync protocol. Attestations that
// arrive by sync come in ID order, not in their per-pair sequence order,
// and the store takes a pair's sequence numbers only upwards: so Add
// checks what needs no stored state at once and buffers the rest, which
// flushSynced stores sorted by (issuer, subject, seq) when the session
// ends.
type poloSyncStore struct{ n *Node }

func (s poloSyncStore) Summary(prefix []byte) (int, [32]byte, error) {
	return s.n.polo.store.Summary(prefix)
}

func (s poloSyncStore) ListIDs(prefix []byte, limit int) ([][32]byte, error) {
	return s.n.polo.store.ListIDs(prefix, limit)
}

func (s poloSyncStore) Get(id [32]byte) ([]byte, bool, error) { return s.n.polo.store.Get(id) }

func (s poloSyncStore) Add(raw []byte) error {
	if _, err := (reputation.Rules{}).Check(raw); err != nil {
		s.n.metrics.attestation(err)
		return err
	}
	p := s.n.polo
	p.mu.Lock()
	full := len(p.pending) >= syncBatchMax
	if !full {
		p.pending = append(p.pending, slices.Clone(raw))
	}
	p.mu.Unlock()
	if full {
		s.n.flushSynced()
		return s.n.addAttestation(raw)
	}
	return nil
}

// flushSynced stores the attestations buffered by sync, in sequence order
// per pair.
func (n *Node) flushSynced() {
	p := n.polo
	p.mu.Lock()
	batch := p.pending
	p.pending = nil
	p.mu.Unlock()
	type item struct {
		a   reputation.Attestation
		raw []byte
	}
	items := make([]item, 0, len(batch))
	for _, raw := range batch {
		a, err := reputation.UnmarshalAttestation(raw)
		if err == nil {
			items = append(items, item{a, raw})
		}
	}
	slices.SortFunc(items, func(x, y item) int {
		return cmp.Or(cmp.Compare(x.a.Issuer, y.a.Issuer), cmp.Compare(x.a.Subject, y.a.Subject), cmp.Compare(x.a.Seq, y.a.Seq))
	})
	for _, it := range items {
		if err := n.addAttestation(it.raw); err != nil && !errors.Is(err, reputation.ErrDuplicate) {
			log.Debugw("attestation from sync refused", logkey.Err, err)
		}
	}
}

// PoloScore is p's Polo in this node's view, recomputed if the evidence
// or the trusted peers changed (at most every poloRecompute).
func (n *Node) PoloScore(p peer.ID) score.Detail {
	n.refreshPolo(false)
	return n.polo.engine.Score(p)
}

// refreshPolo recomputes the scores when evidence or anchors changed and
// the last computation is older than poloRecompute (or force is set).
func (n *Node) refreshPolo(force bool) {
	st := n.polo
	trusted := n.trustedPeers()
	key := ""
	for _, p := range trusted {
		key += string(p)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	changed := key != st.anchorsKey
	if !force && !changed && !st.engine.Stale() {
		return
	}
	if !force && !st.computedAt.IsZero() && time.Since(st.computedAt) < poloRecompute {
		return
	}
	if changed {
		st.engine.SetAnchors(n.id, trusted)
		st.anchorsKey = key
	}
	start := time.Now()
	st.engine.Compute(start)
	st.computedAt = time.Now()
	n.metrics.poloComputed(st.computedAt.Sub(start))
}

// trustedPeers are the peers this node trusts, sorted.
func (n *Node) trustedPeers() []peer.ID {
	lister, ok := n.trust.(interface{ Trusted() []peer.ID })
	if !ok {
		return nil
	}
	ps := lister.Trusted()
	slices.Sort(ps)
	return ps
}

// Choose picks a partner among candidates the Polo way: probability
// rising with score, plus a share explore of picks among newcomers
// (reputation.Choose, docs/polo.md).
func (n *Node) Choose(rng *rand.Rand, candidates []peer.ID, explore float64) peer.ID {
	n.refreshPolo(false)
	return reputation.Choose(rng, candidates, func(p peer.ID) int { return n.polo.engine.Score(p).Polo }, explore)
}

// issueAttestation signs and spreads this node's attestation about a
// task the worker finished, from the worker's receipt.
func (n *Node) issueAttestation(ctx context.Context, rawReceipt []byte) error {
	r, err := reputation.UnmarshalReceipt(rawReceipt)
	if err != nil {
		return err
	}
	if r.Requester != n.id {
		return errors.New("node: a receipt for another requester")
	}
	st := n.polo
	st.issueMu.Lock() // one sequence number at a time per node
	defer st.issueMu.Unlock()
	last, err := st.store.LastSeq(n.id, r.Worker)
	if err != nil {
		return err
	}
	now := time.Now()
	a, err := reputation.SignAttestation(n.priv, reputation.NewAttestation(r, now, now.Add(attestationLifetime), last+1))
	if err != nil {
		return err
	}
	raw, err := a.Marshal()
	if err != nil {
		return err
	}
	if err := n.addAttestation(raw); err != nil {
		return err
	}
	if err := st.topic.Publish(ctx, raw); err != nil {
		log.Debugw("publish attestation (sync will carry it)", logkey.Err, err)
	}
	return nil
}

// closePolo stops the topic and the sync protocol.
func (n *Node) closePolo() {
	if n.polo == nil {
		return
	}
	if n.polo.sync != nil {
		_ = n.polo.sync.Close()
	}
	if n.polo.topic != nil {
		n.polo.topic.Close()
	}
}
