package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/reputation"
)

// TestPoloHostileGossip: a real libp2p peer with its own gossipsub joins
// the victim's Polo topic and publishes, past any validation of its own,
// every kind of bad attestation: forged, replayed (duplicates and a second
// attestation of an attested task), expired, future-dated, oversized,
// self-issued, garbage, and a flood from one issuer over its rate. The
// victim counts each under its reason, stores only the valid ones, drops
// the hostile peer from its mesh (its gossipsub score went negative), and
// keeps serving an honest peer: echo, a task round trip, and that peer's
// attestation arriving by gossip.
func TestPoloHostileGossip(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMesh(t, 2)
	victim, honest := nodes[0], nodes[1]
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	// The victim's echo port is open to anyone (it trusts nobody), so the
	// honest peer can check it is still served.
	require.NoError(t, victim.SetPortPublic(ports.PortEcho, true))
	topicName, _ := victim.poloProtocols()
	hp := startHostilePeer(t, victim, topicName)
	defer hp.close(t)

	now := time.Now().Add(-time.Minute)
	expiry := now.Add(attestationLifetime)
	processed := func() uint64 {
		st := victim.polo.topic.Stats()
		return st.Accepted + st.Ignored + st.Rejected
	}
	var sent uint64
	publish := func(raws ...[]byte) {
		t.Helper()
		for _, raw := range raws {
			hp.publish(t, raw)
		}
		sent += uint64(len(raws))
		eventually(t, 10*time.Second, func() error {
			if got := processed(); got != sent {
				return fmt.Errorf("the victim validated %d of the %d messages sent (%+v)", got, sent, victim.polo.topic.Stats())
			}
			return nil
		})
	}

	// 1. Three valid attestations, each about its own worker (so the
	// per-pair sequence does not depend on validation order).
	issuerA, _ := hostileKey(t)
	var valid []reputation.Attestation
	var validRaw [][]byte
	for i := range 3 {
		worker, _ := hostileKey(t)
		a, raw := hostileAttestation(t, issuerA, worker, fmt.Sprintf("valid %d", i), now, expiry, 1)
		valid, validRaw = append(valid, a), append(validRaw, raw)
	}
	publish(validRaw...)
	require.Equal(t, uint64(3), victim.polo.store.Stats()[reputation.Accepted])

	// 2. What an honest node could also send, ignored without penalty:
	// the same attestations again, expired ones, future-dated ones.
	issuerB, _ := hostileKey(t)
	var expired, future [][]byte
	for i := range 3 {
		worker, _ := hostileKey(t)
		_, raw := hostileAttestation(t, issuerB, worker, fmt.Sprintf("expired %d", i),
			time.Now().Add(-40*24*time.Hour), time.Now().Add(-10*24*time.Hour), 1)
		expired = append(expired, raw)
		_, raw = hostileAttestation(t, issuerB, worker, fmt.Sprintf("future %d", i),
			time.Now().Add(time.Hour), time.Now().Add(time.Hour+attestationLifetime), 1)
		future = append(future, raw)
	}
	publish(validRaw...)
	publish(expired...)
	publish(future...)

	// 3. A flood: 200 valid-looking attestations from one issuer (the
	// hostile host's own key) in one rate window; 60 pass, 140 are over
	// the rate. Sent in batches, so the hostile side's outbound queue
	// (128 RPCs) never drops one.
	var flood [][]byte
	for i := range 200 {
		worker, _ := hostileKey(t)
		_, raw := hostileAttestation(t, hp.key, worker, fmt.Sprintf("flood %d", i), now, expiry, 1)
		flood = append(flood, raw)
	}
	for batch := range slices.Chunk(flood, 50) {
		publish(batch...)
	}

	// 4. What only an attacker sends, rejected (each costs the sender in
	// the victim's gossipsub score). 15 rejections: a P4 penalty of 15² =
	// 225, below 0 and the publish threshold (-200) but above the
	// graylist (-400), so every one of them is still validated.
	hp.waitInMesh(t, victim.PeerID())
	require.Zero(t, hp.prunes.Load(), "the victim kept the hostile peer in its mesh so far")

	issuerC, _ := hostileKey(t)
	var forged [][]byte
	{
		worker, _ := hostileKey(t)
		a, raw := hostileAttestation(t, issuerC, worker, "forged 0", now, expiry, 1)
		raw[len(raw)-1] ^= 0xff // the issuer's signature
		forged = append(forged, raw)

		_, raw = hostileAttestation(t, issuerC, worker, "forged 1", now, expiry, 2)
		b, err := reputation.UnmarshalAttestation(raw)
		require.NoError(t, err)
		b.Seq = 99 // changed after signing
		raw, err = b.Marshal()
		require.NoError(t, err)
		forged = append(forged, raw)

		// Impersonation: an attestation in the honest peer's name, with a
		// genuine receipt made out to it, but not signed by it.
		wk, wid := hostileKey(t)
		r, err := reputation.SignReceipt(wk, reputation.Receipt{
			Worker: wid, Requester: honest.PeerID(), TaskHash: sha256.Sum256([]byte("forged 2")),
			ResultHash: sha256.Sum256([]byte("result")), Outcome: reputation.Success, Cost: 10, EndedAt: now.Add(-time.Second),
		})
		require.NoError(t, err)
		imp := reputation.NewAttestation(r, now, expiry, 1)
		imp.Sig = a.Sig
		raw, err = imp.Marshal()
		require.NoError(t, err)
		forged = append(forged, raw)
	}
	var self [][]byte
	selfKey, _ := hostileKey(t)
	for i := range 3 {
		_, raw := hostileAttestation(t, selfKey, selfKey, fmt.Sprintf("self %d", i), now, expiry, uint64(i+1))
		self = append(self, raw)
	}
	garbage := [][]byte{[]byte("definitely not an attestation"), make([]byte, 512)}
	_, err := rand.Read(garbage[1])
	require.NoError(t, err)
	{
		worker, _ := hostileKey(t)
		_, raw := hostileAttestation(t, issuerC, worker, "trailing", now, expiry, 1)
		garbage = append(garbage, append(raw, 0)) // trailing byte: not canonical
	}
	oversized := [][]byte{
		bytes.Repeat([]byte{1}, gossip.PoloMaxItemSize+1),
		append(slices.Clone(validRaw[0]), make([]byte, 4<<10)...),
		make([]byte, 16<<10),
	}
	var replays [][]byte
	for _, v := range valid {
		a, err := reputation.SignAttestation(issuerA, reputation.NewAttestation(v.Receipt, now.Add(time.Second), expiry, 2))
		require.NoError(t, err)
		raw, err := a.Marshal()
		require.NoError(t, err)
		replays = append(replays, raw)
	}
	publish(forged...)
	publish(self...)
	publish(garbage...)
	publish(oversized...)
	publish(replays...)

	// Every refusal under its reason; only the 63 valid ones stored.
	want := map[reputation.Reason]uint64{
		reputation.Accepted:         3 + 60,
		reputation.ReasonDuplicate:  3,
		reputation.ReasonExpired:    3,
		reputation.ReasonFuture:     3,
		reputation.ReasonRate:       140,
		reputation.ReasonSignature:  3,
		reputation.ReasonSelf:       3,
		reputation.ReasonDecode:     3,
		reputation.ReasonTaskReplay: 3,
	}
	stats := victim.polo.store.Stats()
	require.Equal(t, want, stats)
	require.Equal(t, 63, victim.polo.store.Count())
	for _, raw := range validRaw {
		ok, err := victim.polo.store.Has(reputation.IDOf(raw))
		require.NoError(t, err)
		require.True(t, ok, "a valid attestation is stored")
	}
	for _, raw := range slices.Concat(expired, future, forged, self, replays) {
		ok, err := victim.polo.store.Has(reputation.IDOf(raw))
		require.NoError(t, err)
		require.False(t, ok, "an invalid attestation is not stored")
	}
	// Which 60 of the flood got in depends on validation order (pubsub
	// validates concurrently); how many does not.
	stored := 0
	for _, raw := range flood {
		ok, err := victim.polo.store.Has(reputation.IDOf(raw))
		require.NoError(t, err)
		if ok {
			stored++
		}
	}
	require.Equal(t, 60, stored, "the issuer's rate (60 per hour) let 60 of its 200 in")
	topicStats := victim.polo.topic.Stats()
	require.Equal(t, gossip.PoloStats{Accepted: 63, Ignored: 3 + 3 + 3 + 140, Rejected: 15, TooLarge: 3}, topicStats)
	gs := victim.gossip.Stats()
	require.GreaterOrEqual(t, gs[gossip.StatRejectValidator], uint64(15))
	require.GreaterOrEqual(t, gs[gossip.StatIgnoreValidator], uint64(149))
	require.Zero(t, gs[gossip.StatIgnoreQueueFull])
	t.Logf("store stats %v, count %d; topic stats %+v; gossip reject_validator %d ignore_validator %d",
		stats, victim.polo.store.Count(), topicStats, gs[gossip.StatRejectValidator], gs[gossip.StatIgnoreValidator])

	// The victim's gossipsub score of the hostile peer went negative.
	// Pubsub offers no way to read another instance's scores (only
	// pubsub.WithPeerScoreInspect at construction, which the node does
	// not pass), so this is observed from the hostile side: a peer with a
	// negative score is pruned from the mesh at the next heartbeat (there
	// is no other reason to prune here: 2 peers, far below Dhi, no backoff).
	eventually(t, 10*time.Second, func() error {
		if hp.prunes.Load() == 0 {
			return fmt.Errorf("the victim has not pruned the hostile peer")
		}
		return nil
	})

	// The victim still serves an honest peer: echo, then a task (victim =
	// worker), whose attestation by the honest peer reaches the victim by
	// gossip and is stored.
	eventually(t, 30*time.Second, func() error {
		_, err := honest.Resolve(ctx, victim.Addr())
		return err
	})
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, _, err := honest.Echo(ectx, victim.Addr(), "still serving")
	require.NoError(t, err)
	require.Equal(t, "still serving", got)

	sub, err := honest.SubmitTask(ctx, victim.Addr(), "echo", json.RawMessage(`{"x":1}`), time.Minute, false)
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() error {
		got, err := victim.Tasks().Get(sub.ID)
		if err != nil {
			return err
		}
		if got.State != task.StateSubmitted {
			return fmt.Errorf("state %s", got.State)
		}
		return nil
	})
	_, err = victim.Tasks().Accept(ctx, sub.ID)
	require.NoError(t, err)
	_, err = victim.Tasks().Complete(ctx, sub.ID, json.RawMessage(`{"y":2}`), "")
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	done, err := honest.Tasks().Wait(wctx, sub.ID)
	require.NoError(t, err)
	require.Equal(t, task.StateSucceeded, done.State)
	require.JSONEq(t, `{"y":2}`, string(done.Result))
	eventually(t, 10*time.Second, func() error {
		if n := victim.polo.store.Count(); n != 64 {
			return fmt.Errorf("victim holds %d attestations, want 64 (the honest peer's arrived)", n)
		}
		return nil
	})
	want[reputation.Accepted]++
	require.Equal(t, want, victim.polo.store.Stats())
	require.Equal(t, uint64(64), victim.polo.topic.Stats().Accepted)
	about, err := victim.polo.store.BySubject(victim.PeerID())
	require.NoError(t, err)
	require.Len(t, about, 1, "the honest peer's attestation is about the victim")
	require.Equal(t, honest.PeerID(), about[0].Issuer)

	hp.close(t)
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}

// hostilePeer is a libp2p host with its own gossipsub, connected to a
// victim node and joined to its Polo topic without a validator: whatever
// it publishes goes out as is.
type hostilePeer struct {
	key    crypto.PrivKey
	h      host.Host
	ps     *gossip.PubSub
	cancel context.CancelFunc
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	done   chan struct{}
	closed bool

	meshWatch
}

func startHostilePeer(t *testing.T, victim *Node, topicName string) *hostilePeer {
	t.Helper()
	key, _ := hostileKey(t)
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DisableRelay(),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	hp := &hostilePeer{key: key, h: h, cancel: cancel, done: make(chan struct{})}
	hp.meshWatch.victim, hp.meshWatch.topic = victim.PeerID(), topicName
	started := false
	defer func() {
		if !started {
			_ = hp.closeAll()
		}
	}()
	// The same topic prefix as the node's, and a tracer that sees the
	// victim's GRAFTs and PRUNEs.
	hp.ps, err = gossip.New(ctx, h, gossip.Config{
		TopicPrefix: victim.cfg.topicPrefix(),
		Options:     []pubsub.Option{pubsub.WithRawTracer(&hp.meshWatch)},
	})
	require.NoError(t, err)
	// JoinPolo would validate our own messages (its Publish refuses
	// oversized ones, and its validator runs on local publishes too), so
	// the hostile side joins the raw pubsub topic, which has no validator.
	if hp.topic, err = hp.ps.Raw().Join(topicName); err == nil {
		hp.sub, err = hp.topic.Subscribe() // to be in the victim's mesh
	}
	require.NoError(t, err)
	go func() {
		defer close(hp.done)
		for {
			if _, err := hp.sub.Next(ctx); err != nil {
				return
			}
		}
	}()

	var mas []ma.Multiaddr
	for _, s := range victim.JoinAddrs() {
		m, err := ma.NewMultiaddr(s)
		require.NoError(t, err)
		mas = append(mas, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	require.NoError(t, h.Connect(cctx, infos[0]))
	eventually(t, 10*time.Second, func() error {
		if !slices.Contains(hp.topic.ListPeers(), victim.PeerID()) {
			return fmt.Errorf("the hostile peer does not see the victim in %s", topicName)
		}
		return nil
	})
	started = true
	return hp
}

func (hp *hostilePeer) publish(t *testing.T, raw []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, hp.topic.Publish(ctx, raw))
}

// waitInMesh waits until the victim is in the hostile peer's mesh, so the
// hostile peer is in the victim's (a GRAFT either way, no PRUNE back).
func (hp *hostilePeer) waitInMesh(t *testing.T, victim peer.ID) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if !hp.inMesh.Load() {
			return fmt.Errorf("the hostile peer and the victim %s have not grafted each other", victim)
		}
		return nil
	})
}

func (hp *hostilePeer) close(t *testing.T) {
	t.Helper()
	if hp.closed {
		return
	}
	hp.closed = true
	require.NoError(t, hp.closeAll())
}

func (hp *hostilePeer) closeAll() error {
	if hp.sub != nil {
		hp.sub.Cancel()
	}
	hp.cancel()
	if hp.sub != nil {
		<-hp.done
	}
	if hp.topic != nil {
		_ = hp.topic.Close()
	}
	if hp.ps != nil {
		_ = hp.ps.Close()
	}
	return hp.h.Close()
}

// meshWatch is a pubsub.RawTracer on the hostile peer that follows one
// topic's mesh link to the victim: whether the victim is in its mesh, and
// how many PRUNEs the victim sent.
type meshWatch struct {
	victim peer.ID
	topic  string
	inMesh atomic.Bool
	prunes atomic.Int64
}

var _ pubsub.RawTracer = (*meshWatch)(nil)

func (w *meshWatch) Graft(p peer.ID, topic string) {
	if p == w.victim && topic == w.topic {
		w.inMesh.Store(true)
	}
}

func (w *meshWatch) Prune(p peer.ID, topic string) {
	if p == w.victim && topic == w.topic {
		w.inMesh.Store(false)
	}
}

func (w *meshWatch) RecvRPC(rpc *pubsub.RPC) {
	if rpc.From() != w.victim {
		return
	}
	for _, pr := range rpc.GetControl().GetPrune() {
		if pr.GetTopicID() == w.topic {
			w.prunes.Add(1)
		}
	}
}

func (*meshWatch) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshWatch) OnClosedOutboundStream(peer.ID)                       {}
func (*meshWatch) Join(string)                                          {}
func (*meshWatch) Leave(string)                                         {}
func (*meshWatch) ValidateMessage(*pubsub.Message)                      {}
func (*meshWatch) DeliverMessage(*pubsub.Message)                       {}
func (*meshWatch) RejectMessage(*pubsub.Message, string)                {}
func (*meshWatch) DuplicateMessage(*pubsub.Message)                     {}
func (*meshWatch) ThrottlePeer(peer.ID)                                 {}
func (*meshWatch) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshWatch) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshWatch) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshWatch) UndeliverableMessage(*pubsub.Message)                 {}

// hostileKey is a fresh Ed25519 identity.
func hostileKey(t *testing.T) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return k, id
}

// hostileAttestation is a correctly signed attestation by issuer about a
// task worker did (the receipt ends a second before issue).
func hostileAttestation(t *testing.T, issuer, worker crypto.PrivKey, taskName string, issuedAt, expiry time.Time, seq uint64) (reputation.Attestation, []byte) {
	t.Helper()
	iid, err := peer.IDFromPrivateKey(issuer)
	require.NoError(t, err)
	wid, err := peer.IDFromPrivateKey(worker)
	require.NoError(t, err)
	r, err := reputation.SignReceipt(worker, reputation.Receipt{
		Worker: wid, Requester: iid, TaskHash: sha256.Sum256([]byte(taskName)),
		ResultHash: sha256.Sum256([]byte("result " + taskName)), Outcome: reputation.Success, Cost: 10,
		EndedAt: issuedAt.Add(-time.Second),
	})
	require.NoError(t, err)
	a, err := reputation.SignAttestation(issuer, reputation.NewAttestation(r, issuedAt, expiry, seq))
	require.NoError(t, err)
	raw, err := a.Marshal()
	require.NoError(t, err)
	return a, raw
}
