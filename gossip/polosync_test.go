package gossip

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// newPoloSync starts the sync protocol on h over store; it is closed (before
// h) when the test ends, and its inbound sessions' results go to served.
func newPoloSync(t testing.TB, h host.Host, store SyncStore, opts SyncOptions) (*PoloSync, chan servedSession) {
	t.Helper()
	served := make(chan servedSession, 64)
	if opts.OnServed == nil {
		opts.OnServed = func(res SyncResult, err error) {
			select {
			case served <- servedSession{res, err}:
			default:
			}
		}
	}
	s := NewPoloSync(h, PoloSyncProtocol, store, opts)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, served
}

// servedSession is what OnServed reported about one inbound session.
type servedSession struct {
	res SyncResult
	err error
}

// nextServed waits for the next inbound session's end.
func nextServed(t testing.TB, ch chan servedSession) servedSession {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for the inbound session to end")
		return servedSession{}
	}
}

// Two stores share n items and each holds d of its own. After one session
// both hold the union, and the protocol's bytes grow with d, not with n.
func TestPoloSyncCostFollowsDifference(t *testing.T) {
	checkLeaks(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, ha, hb)

	type row struct {
		n, d int
		res  SyncResult
	}
	run := func(n, d int) row {
		shared := makeItems(fmt.Sprintf("shared%d", n), n)
		onlyA, onlyB := makeItems(fmt.Sprintf("a%d/%d", n, d), d), makeItems(fmt.Sprintf("b%d/%d", n, d), d)
		a, b := newMemStore().seed(shared...).seed(onlyA...), newMemStore().seed(shared...).seed(onlyB...)
		sa := NewPoloSync(ha, PoloSyncProtocol, a, SyncOptions{})
		sb := NewPoloSync(hb, PoloSyncProtocol, b, SyncOptions{})
		defer sa.Close()
		defer sb.Close()

		res, err := sa.SyncWith(waitCtx(t), hb.ID())
		require.NoError(t, err, "n=%d d=%d", n, d)
		want := unionIDs(shared, onlyA, onlyB)
		require.Equal(t, want, a.IDs(), "n=%d d=%d: A holds the union", n, d)
		require.Equal(t, want, b.IDs(), "n=%d d=%d: B holds the union", n, d)
		require.Equal(t, d, res.ReceivedItems)
		require.Equal(t, d, res.SentItems)
		require.Zero(t, res.Rejected)
		require.False(t, res.Truncated)
		require.Equal(t, hb.ID(), res.Peer)
		return row{n, d, res}
	}

	var rows []row
	for _, d := range []int{0, 1, 10, 100} {
		rows = append(rows, run(10_000, d))
	}
	rows = append(rows, run(1_000, 1), run(100_000, 1))

	allIDs := int64(10_000 * 32) // sending every ID once, without framing
	t.Logf("%8s %5s %7s %10s %10s %10s %8s", "shared", "d", "rounds", "sent B", "recv B", "total B", "% of IDs")
	for _, r := range rows {
		total := r.res.BytesSent + r.res.BytesReceived
		t.Logf("%8d %5d %7d %10d %10d %10d %7.2f%%", r.n, r.d, r.res.Rounds, r.res.BytesSent, r.res.BytesReceived,
			total, 100*float64(total)/float64(r.n*32))
	}
	bytesOf := func(i int) int64 { return rows[i].res.BytesSent + rows[i].res.BytesReceived }
	require.Equal(t, 1, rows[0].res.Rounds, "d=0: one summary exchange")
	require.Less(t, bytesOf(0), int64(64), "d=0: one summary exchange")
	require.Less(t, bytesOf(1), allIDs/20, "d=1 costs under 5%% of sending all IDs")
	require.Less(t, bytesOf(2), 20*bytesOf(1), "d=10 costs less than 20 × d=1")
	require.Less(t, bytesOf(3), allIDs, "d=100 costs less than sending all IDs")
	for i := 1; i < 4; i++ {
		require.Less(t, bytesOf(i-1), bytesOf(i), "cost grows with d")
	}
	require.Less(t, bytesOf(4), allIDs/20, "d=1 among 1,000")
	require.Less(t, bytesOf(5), int64(100_000*32)/100, "d=1 among 100,000: under 1%% of its IDs")
}

// A node with an empty store catches up with a peer in one session, and
// the peer's invalid items are refused, counted and remembered; a peer
// pushing invalid items to an honest node gets them refused too.
func TestPoloSyncLateJoinerAndInvalidItems(t *testing.T) {
	checkLeaks(t)
	hj, hh := newHost(t), newHost(t)
	connect(t, hj, hh)

	valid := makeItems("valid", 2000)
	var invalid [][]byte
	for i := range 50 {
		invalid = append(invalid, fmt.Appendf(nil, "bad/%d", i))
	}
	hostile := newMemStore().seed(valid...).seed(invalid...)
	hostile.valid = func([]byte) bool { return true }
	joiner := newMemStore()
	sj, servedJ := newPoloSync(t, hj, joiner, SyncOptions{})
	sh, _ := newPoloSync(t, hh, hostile, SyncOptions{})

	res, err := sj.SyncWith(waitCtx(t), hh.ID())
	require.NoError(t, err)
	require.Equal(t, unionIDs(valid), joiner.IDs(), "every valid item, nothing else")
	require.Equal(t, 2000, res.ReceivedItems)
	require.Equal(t, 50, res.Rejected)
	require.Zero(t, res.SentItems)
	require.False(t, res.Truncated)
	t.Logf("late joiner: %d items in %d rounds, %d bytes sent, %d received", res.ReceivedItems, res.Rounds, res.BytesSent, res.BytesReceived)
	st := sj.Stats()
	require.Equal(t, SyncStats{Initiated: 1, ItemsReceived: 2000, Rejected: 50}, st)

	// Again: the invalid items are known; nothing is downloaded.
	res, err = sj.SyncWith(waitCtx(t), hh.ID())
	require.NoError(t, err)
	require.Zero(t, res.ReceivedItems+res.Rejected+res.SentItems)

	// The hostile side pushes them: the honest responder refuses them all.
	res, err = sh.SyncWith(waitCtx(t), hj.ID())
	require.NoError(t, err)
	require.Equal(t, 50, res.SentItems)
	served := nextServed(t, servedJ)
	require.NoError(t, served.err)
	require.Equal(t, 50, served.res.Rejected)
	require.Zero(t, served.res.ReceivedItems)
	require.Equal(t, 2000, joiner.Len())
}

// Accept decides who may sync: a refused peer's session fails at once.
func TestPoloSyncAccept(t *testing.T) {
	checkLeaks(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, ha, hb)
	sa, _ := newPoloSync(t, ha, newMemStore().seed(makeItems("a", 5)...), SyncOptions{})
	sb, _ := newPoloSync(t, hb, newMemStore(), SyncOptions{Accept: func(p peer.ID) bool { return p != ha.ID() }})

	_, err := sa.SyncWith(waitCtx(t), hb.ID())
	require.Error(t, err)
	eventually(t, "the refusal to be counted", func() bool { return sb.Stats().Refused == 1 })
	require.Equal(t, uint64(1), sa.Stats().Failed)

	// B may sync with A, and then holds A's items.
	res, err := sb.SyncWith(waitCtx(t), ha.ID())
	require.NoError(t, err)
	require.Equal(t, 5, res.ReceivedItems)

	_, err = sa.SyncWith(waitCtx(t), ha.ID())
	require.ErrorContains(t, err, "self")
	require.NoError(t, sa.Close())
	_, err = sa.SyncWith(waitCtx(t), hb.ID())
	require.ErrorIs(t, err, ErrClosed)
}

// Run syncs with a connected peer each interval and reports the results;
// it stops with its context and with Close.
func TestPoloSyncRun(t *testing.T) {
	checkLeaks(t)
	ha, hb, hc := newHost(t), newHost(t), newHost(t)
	connect(t, ha, hb)
	a, b := newMemStore(), newMemStore().seed(makeItems("b", 30)...)
	results := make(chan SyncResult, 16)
	sa, _ := newPoloSync(t, ha, a, SyncOptions{OnSynced: func(r SyncResult) {
		select {
		case results <- r:
		default:
		}
	}})
	newPoloSync(t, hb, b, SyncOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// hc is not connected and ha is this node: only hb qualifies.
		sa.Run(ctx, 50*time.Millisecond, func() []peer.ID { return []peer.ID{hc.ID(), ha.ID(), hb.ID()} })
	}()
	select {
	case r := <-results:
		require.Equal(t, hb.ID(), r.Peer)
	case <-time.After(testTimeout):
		t.Fatal("Run did not sync")
	}
	eventually(t, "A to catch up", func() bool { return a.Len() == 30 })
	cancel()
	<-done

	// A second Run ends with Close.
	done = make(chan struct{})
	inLoop := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(done)
		sa.Run(context.Background(), time.Millisecond, func() []peer.ID {
			once.Do(func() { close(inLoop) })
			return nil
		})
	}()
	// Close meets a running Run: it asked for peers, so it is in its loop.
	select {
	case <-inLoop:
	case <-time.After(testTimeout):
		t.Fatal("Run never asked for peers")
	}
	require.NoError(t, sa.Close())
	<-done
}
