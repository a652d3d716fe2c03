package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/node/trust"
	"github.com/pilot-agents/pilot/reputation"
)

// TestHostilePeers: against one victim node, hostile peers send malformed
// frames on every Pilot protocol, hold streams open without reading or
// writing (slowloris), flood trust requests and replay an attestation
// through gossip and sync, while an honest peer keeps doing work (echo,
// then sends once trusted, then a task) and succeeds every time. The
// victim closes every bad stream itself, counts what it refuses, keeps
// one pending request per peer, stores the replayed attestation once, and
// its goroutines and heap stay within generous bounds of a baseline
// measured in the same run.
func TestHostilePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMesh(t, 2)
	victim, honest := nodes[0], nodes[1]
	require.NoError(t, victim.SetPortPublic(ports.PortEcho, true))
	eventually(t, 30*time.Second, func() error { _, err := honest.Resolve(ctx, victim.Addr()); return err })

	w := startHonestWorker(t, honest, victim)
	defer w.stop()
	w.waitRounds(t, 3)
	base := sampleNode(victim)
	t.Logf("baseline: %v", base)
	bounded := func(phase string) victimSample {
		t.Helper()
		s := sampleNode(victim)
		t.Logf("%s: %v", phase, s)
		require.LessOrEqual(t, s.Goroutines, 2*base.Goroutines+500, "%s: goroutines", phase)
		require.LessOrEqual(t, s.HeapAlloc, 4*base.HeapAlloc+64<<20, "%s: heap", phase)
		return s
	}

	raw := newRawPeer(t, victim)
	protos := make([]protocol.ID, 0, 8)
	perPeer := map[protocol.ID]int{}
	for _, l := range pilotProtocolLimits(victim.cfg.ProtocolPrefix) {
		protos = append(protos, l.proto)
		perPeer[l.proto] = l.perPeer.StreamsInbound
	}

	// 1. Malformed frames on every protocol: the victim ends each stream
	// (EOF or reset) by itself, counts the trust frames it refused.
	trustBefore, tasksBefore := victim.Trust().Stats(), victim.Tasks().Stats()
	closed := 0
	for _, p := range protos {
		for name, payload := range malformedPayloads() {
			require.NoError(t, sendAndWaitClose(raw, victim, p, payload), "%s, %s", p, name)
			closed++
		}
	}
	w.waitRounds(t, 1)
	trustAfter := victim.Trust().Stats()
	refused := trustAfter["rejected_malformed"] + trustAfter["rejected_oversized"] + trustAfter["rejected_version"] -
		trustBefore["rejected_malformed"] - trustBefore["rejected_oversized"] - trustBefore["rejected_version"]
	t.Logf("malformed: %d streams on %d protocols, all closed by the victim; trust refused %d frames (%v)", closed, len(protos), refused, trustAfter)
	require.Equal(t, uint64(len(malformedPayloads())), refused, "every malformed trust frame counted")
	require.Equal(t, trustBefore["frames_accepted"], trustAfter["frames_accepted"])
	tasksAfter := victim.Tasks().Stats()
	badTasks := tasksAfter[task.StatBadFrame] + tasksAfter[task.StatAborted] - tasksBefore[task.StatBadFrame] - tasksBefore[task.StatAborted]
	t.Logf("malformed: the task service refused %d frames (bad_frame %d, aborted %d)", badTasks, tasksAfter[task.StatBadFrame], tasksAfter[task.StatAborted])
	require.Equal(t, uint64(len(malformedPayloads())), badTasks, "every malformed task frame counted")
	bounded("after malformed frames")

	// 2. Slowloris: more streams than the per-peer limit on every
	// protocol, each with one byte of a request (so the protocol is
	// negotiated) and never read; on echo half write 256 KiB instead. The
	// resource manager refuses what is over the limit, the victim's
	// deadlines end the rest.
	echo := ports.ProtocolID(ports.PortEcho)
	var held []network.Stream
	over := 0
	for _, p := range protos {
		for i := range perPeer[p] + 2 {
			s, err := rawStream(raw, victim, p)
			if err != nil {
				over++
				continue
			}
			_ = s.SetWriteDeadline(time.Now().Add(time.Second))
			if p == echo && i%2 == 0 {
				_, _ = s.Write(make([]byte, 256<<10))
			} else {
				_, _ = s.Write([]byte{0})
			}
			held = append(held, s)
		}
	}
	eventually(t, 30*time.Second, func() error {
		if n := protocolStreams(victim, echo); n != perPeer[echo] {
			return fmt.Errorf("the victim holds %d of the slow peer's %d echo streams, want its limit %d", n, perPeer[echo]+2, perPeer[echo])
		}
		return nil
	})
	opened := peerStreams(victim, raw.ID())
	during := bounded(fmt.Sprintf("slowloris, %d streams opened, victim holds %d", len(held), opened))
	total := 0
	for _, p := range protos {
		total += perPeer[p]
	}
	require.LessOrEqual(t, opened, total, "the victim holds no more than the per-peer limits")
	eventually(t, 90*time.Second, func() error {
		if n := peerStreams(victim, raw.ID()); n != 0 {
			return fmt.Errorf("the victim still holds %d of the slow peer's streams", n)
		}
		return nil
	})
	for _, s := range held {
		s.Reset()
	}
	t.Logf("slowloris: %d streams opened (%d refused at open), the victim held at most %d; goroutines %d -> %d, all closed by its deadlines", len(held), over, opened, base.Goroutines, during.Goroutines)
	w.waitRounds(t, 1)

	// 3. A trust flood: a raw peer sends 200 signed requests as fast as
	// the victim answers, 10 more identities 10 each, and the honest peer
	// asks in the middle. The victim rate limits each peer (5 requests a
	// minute), keeps one pending record per peer, and the honest request
	// is pending and approved.
	tb := victim.Trust().Stats()
	floodKey := raw.Peerstore().PrivKey(raw.ID())
	acks := map[byte]int{}
	for i := range 200 {
		if i == 100 {
			_, err := honest.Trust().Request(ctx, victim.PeerID(), "honest worker")
			require.NoError(t, err)
		}
		acks[sendTrustRequest(t, raw, floodKey, victim, uint64(i+1), fmt.Sprintf("flood %d", i))]++
	}
	for range 10 {
		sybil := newRawPeer(t, victim)
		for i := range 10 {
			acks[sendTrustRequest(t, sybil, sybil.Peerstore().PrivKey(sybil.ID()), victim, uint64(i+1), fmt.Sprintf("sybil %d", i))]++
		}
		require.NoError(t, sybil.Close())
	}
	eventually(t, 30*time.Second, func() error {
		r, ok, err := victim.Trust().Get(honest.PeerID())
		if err != nil || !ok || r.State != trust.StateIncomingPending {
			return fmt.Errorf("the honest request is not pending at the victim (%v, %v)", r.State, err)
		}
		return nil
	})
	pending, err := victim.Trust().Pending()
	require.NoError(t, err)
	ta := victim.Trust().Stats()
	limited := ta["rejected_rate_limited"] - tb["rejected_rate_limited"]
	t.Logf("trust flood: 300 requests from 11 peers, acks %v (0 ok, 7 rate limited), %d rate limited, %d pending at the victim", acks, limited, len(pending))
	require.Equal(t, 1+10+1, len(pending), "one pending record per peer: the flooder, 10 sybils, the honest peer")
	require.Equal(t, uint64(200-5+10*(10-5)), limited, "each peer's requests past 5 a minute are rate limited")
	require.Equal(t, 200-5+10*(10-5), acks[7])
	_, err = victim.Trust().Approve(ctx, honest.PeerID())
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		if !honest.Trusted(victim.PeerID()) || !victim.Trusted(honest.PeerID()) {
			return errors.New("the honest peer and the victim do not trust each other yet")
		}
		return nil
	})
	w.waitSends(t, 3)
	bounded("after the trust flood")

	// 4. Replay: one valid attestation offered in 5 sync sessions, then
	// published 30 times by gossip. Stored and accepted once, every
	// gossip copy counted as a duplicate.
	topicName, syncProto := victim.poloProtocols()
	hp := startHostilePeer(t, victim, topicName)
	defer hp.close(t)
	now := time.Now().Add(-time.Minute)
	issuer, _ := hostileKey(t)
	worker, _ := hostileKey(t)
	_, att := hostileAttestation(t, issuer, worker, "replayed", now, now.Add(attestationLifetime), 1)
	stats0 := victim.polo.store.Stats()
	count := victim.polo.store.Count()
	ss := gossip.NewPoloSync(hp.h, syncProto, &memSyncStore{items: map[[32]byte][]byte{reputation.IDOf(att): att}}, gossip.SyncOptions{})
	defer ss.Close()
	sent := 0
	for range 5 {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := ss.SyncWith(sctx, victim.PeerID())
		cancel()
		require.NoError(t, err)
		sent += res.SentItems
		// The victim buffers what a session pushes and stores it when
		// the session ends (poloSyncStore): wait for that.
		eventually(t, 10*time.Second, func() error {
			if n := victim.polo.store.Count(); n != count+1 {
				return fmt.Errorf("the victim holds %d attestations, want %d", n, count+1)
			}
			return nil
		})
	}
	require.Equal(t, 1, sent, "the first session delivers it; the victim then holds it and asks for nothing")
	processed := func() uint64 {
		st := victim.polo.topic.Stats()
		return st.Accepted + st.Ignored + st.Rejected
	}
	p0 := processed()
	for range 30 {
		hp.publish(t, att)
	}
	eventually(t, 30*time.Second, func() error {
		if got := processed() - p0; got != 30 {
			return fmt.Errorf("the victim validated %d of 30 copies", got)
		}
		return nil
	})
	stats1 := victim.polo.store.Stats()
	require.Equal(t, count+1, victim.polo.store.Count(), "stored once")
	require.Equal(t, stats0[reputation.Accepted]+1, stats1[reputation.Accepted], "accepted once")
	require.Equal(t, stats0[reputation.ReasonDuplicate]+30, stats1[reputation.ReasonDuplicate], "every gossip copy is a counted duplicate")
	t.Logf("replay: 5 sync sessions (1 item sent in all) then 30 gossip copies; stored %d -> %d, accepted +%d, duplicates +%d; victim sync stats %+v",
		count, victim.polo.store.Count(), stats1[reputation.Accepted]-stats0[reputation.Accepted],
		stats1[reputation.ReasonDuplicate]-stats0[reputation.ReasonDuplicate], victim.polo.sync.Stats())
	require.NoError(t, ss.Close())
	hp.close(t)

	// The honest peer: a task round trip, then everything it did.
	sub, err := honest.SubmitTask(ctx, victim.Addr(), "echo", json.RawMessage(`{"x":1}`), time.Minute, false)
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() error { _, err := victim.Tasks().Get(sub.ID); return err })
	_, err = victim.Tasks().Accept(ctx, sub.ID)
	require.NoError(t, err)
	_, err = victim.Tasks().Complete(ctx, sub.ID, json.RawMessage(`{"y":2}`), "")
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	done, err := honest.Tasks().Wait(wctx, sub.ID)
	require.NoError(t, err)
	require.Equal(t, task.StateSucceeded, done.State)
	echoes, sends := w.stop()
	require.NoError(t, w.err(), "the honest peer failed while the victim was under attack")

	require.NoError(t, raw.Close())
	var final victimSample
	eventually(t, time.Minute, func() error {
		final = sampleNode(victim)
		if lim := base.Goroutines + base.Goroutines/4 + 20; final.Goroutines > lim {
			return fmt.Errorf("the victim runs %d goroutines, over %d (baseline %d)", final.Goroutines, lim, base.Goroutines)
		}
		if lim := 2*base.HeapAlloc + 16<<20; final.HeapAlloc > lim {
			return fmt.Errorf("the heap is %.1f MiB, over %.1f MiB (baseline %.1f)", mib(final.HeapAlloc), mib(lim), mib(base.HeapAlloc))
		}
		return nil
	})
	t.Logf("hostile: honest peer did %d echoes, %d sends and a task without an error; victim goroutines %d/%d/%d, heap %.1f/%.1f/%.1f MiB (baseline/slowloris/end)",
		echoes, sends, base.Goroutines, during.Goroutines, final.Goroutines, mib(base.HeapAlloc), mib(during.HeapAlloc), mib(final.HeapAlloc))
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}

// malformedPayloads are the bad frames sent on every protocol: random
// bytes, a truncated length prefix (big-endian and uvarint), an oversize
// length, and a plausible length followed by garbage.
func malformedPayloads() map[string][]byte {
	random := make([]byte, 4096)
	garbage := make([]byte, 32)
	_, _ = rand.Read(random)
	_, _ = rand.Read(garbage)
	return map[string][]byte{
		"random bytes":          random,
		"truncated prefix":      {0x80},
		"oversize length":       append([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, garbage...),
		"valid prefix, garbage": append([]byte{0x00, 0x20}, garbage...),
		"one byte":              {0x01},
	}
}

// sendAndWaitClose opens a stream from h to victim on p, writes payload,
// closes its side and reads until the victim ends the stream. It fails if
// the victim leaves the stream open.
func sendAndWaitClose(h interface {
	NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error)
}, victim *Node, p protocol.ID, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, victim.PeerID(), p)
	if err != nil {
		return nil // refused at negotiation: closed too
	}
	defer s.Reset()
	_ = s.SetDeadline(time.Now().Add(30 * time.Second))
	_, _ = s.Write(payload)
	_ = s.CloseWrite()
	_, err = io.Copy(io.Discard, io.LimitReader(s, 1<<20))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("the victim left the stream open: %w", err)
	}
	return nil
}

// sendTrustRequest sends a trust request frame, signed by key (h's own),
// from h to victim on the trust protocol, encoded here as an attacker
// would (node/trust/message.go's wire format, version 1), and returns the
// victim's one-byte answer.
func sendTrustRequest(t *testing.T, h interface {
	ID() peer.ID
	NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error)
}, key crypto.PrivKey, victim *Node, seq uint64, msg string) byte {
	t.Helper()
	from, to := []byte(h.ID()), []byte(victim.PeerID())
	b := []byte{1, byte(trust.KindRequest), byte(len(from))}
	b = append(b, from...)
	b = append(b, byte(len(to)))
	b = append(b, to...)
	b = binary.BigEndian.AppendUint64(b, uint64(time.Now().UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	b = append(b, msg...)
	sig, err := key.Sign(append([]byte("pilot-trust-v1\x00"), b...))
	require.NoError(t, err)
	b = append(append(b, byte(len(sig))), sig...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, victim.PeerID(), trust.ProtocolID)
	require.NoError(t, err)
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = s.Write(binary.BigEndian.AppendUint16(nil, uint16(len(b))))
	require.NoError(t, err)
	_, err = s.Write(b)
	require.NoError(t, err)
	var ack [1]byte
	_, err = io.ReadFull(s, ack[:])
	require.NoError(t, err)
	return ack[0]
}

// peerStreams is victim's resource manager count of inbound streams from p.
func peerStreams(victim *Node, p peer.ID) int {
	n := 0
	_ = victim.Host().Network().ResourceManager().ViewPeer(p, func(s network.PeerScope) error {
		n = s.Stat().NumStreamsInbound
		return nil
	})
	return n
}

// honestWorker keeps an honest peer working against the victim: an echo
// every round, and a message to its inbox once they trust each other.
// Every error is kept.
type honestWorker struct {
	cancel        context.CancelFunc
	done          chan struct{}
	echoes, sends atomic.Int64
	mu            sync.Mutex
	errs          []error
}

func startHonestWorker(t *testing.T, honest, victim *Node) *honestWorker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &honestWorker{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(50 * time.Millisecond) // pacing, not waiting for a condition
		defer tick.Stop()
		for round := 0; ; round++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ectx, ecancel := context.WithTimeout(ctx, 20*time.Second)
			text := fmt.Sprintf("round %d", round)
			got, _, err := honest.Echo(ectx, victim.Addr(), text)
			if err == nil && got != text {
				err = fmt.Errorf("echo returned %q", got)
			}
			if err == nil && honest.Trusted(victim.PeerID()) && victim.Trusted(honest.PeerID()) {
				if _, err = honest.Send(ectx, victim.Addr(), inbox.KindText, []byte(text)); err == nil {
					w.sends.Add(1)
				}
			}
			ecancel()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, fmt.Errorf("round %d: %w", round, err))
				w.mu.Unlock()
				continue
			}
			w.echoes.Add(1)
		}
	}()
	return w
}

func (w *honestWorker) waitRounds(t *testing.T, n int64) {
	t.Helper()
	want := w.echoes.Load() + n
	eventually(t, time.Minute, func() error {
		if err := w.err(); err != nil {
			return nil // reported by the caller's final check
		}
		if got := w.echoes.Load(); got < want {
			return fmt.Errorf("the honest peer made %d echoes, waiting for %d", got, want)
		}
		return nil
	})
	require.NoError(t, w.err())
}

func (w *honestWorker) waitSends(t *testing.T, n int64) {
	t.Helper()
	want := w.sends.Load() + n
	eventually(t, time.Minute, func() error {
		if got := w.sends.Load(); got < want {
			return fmt.Errorf("the honest peer sent %d messages, waiting for %d (errors %v)", got, want, w.err())
		}
		return nil
	})
}

func (w *honestWorker) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

// stop ends the worker and returns its echo and send counts. It is
// idempotent.
func (w *honestWorker) stop() (echoes, sends int64) {
	w.cancel()
	<-w.done
	return w.echoes.Load(), w.sends.Load()
}

// memSyncStore is a polo-sync store in memory that takes anything: the
// hostile side of a sync session.
type memSyncStore struct {
	mu    sync.Mutex
	items map[[32]byte][]byte
}

func (m *memSyncStore) ids(prefix []byte) [][32]byte {
	var out [][32]byte
	for id := range m.items {
		if string(id[:len(prefix)]) == string(prefix) {
			out = append(out, id)
		}
	}
	slicesSortIDs(out)
	return out
}

func (m *memSyncStore) Summary(prefix []byte) (int, [32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var fp [32]byte
	ids := m.ids(prefix)
	for _, id := range ids {
		for i := range fp {
			fp[i] ^= id[i]
		}
	}
	return len(ids), fp, nil
}

func (m *memSyncStore) ListIDs(prefix []byte, limit int) ([][32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.ids(prefix)
	return ids[:min(len(ids), limit)], nil
}

func (m *memSyncStore) Get(id [32]byte) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.items[id]
	return raw, ok, nil
}

func (m *memSyncStore) Add(raw []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[reputation.IDOf(raw)] = raw
	return nil
}

func slicesSortIDs(ids [][32]byte) {
	slices.SortFunc(ids, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
}
