package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/reputation"
)

// makeAttestations signs n valid attestations among 50 identities, in
// per-pair sequence order.
func makeAttestations(t testing.TB, n int) [][]byte {
	t.Helper()
	keys := make([]crypto.PrivKey, 50)
	ids := make([]peer.ID, len(keys))
	for i := range keys {
		k, _, err := crypto.GenerateEd25519Key(nil)
		require.NoError(t, err)
		keys[i] = k
		ids[i], _ = peer.IDFromPrivateKey(k)
	}
	seq := map[[2]int]uint64{}
	now := time.Now().Add(-time.Minute)
	out := make([][]byte, 0, n)
	for i := range n {
		iss, sub := i%len(keys), (i*7+1)%len(keys)
		if iss == sub {
			sub = (sub + 1) % len(keys)
		}
		r, err := reputation.SignReceipt(keys[sub], reputation.Receipt{
			Worker: ids[sub], Requester: ids[iss], TaskHash: sha256.Sum256(fmt.Appendf(nil, "task %d", i)),
			ResultHash: sha256.Sum256([]byte("result")), Outcome: reputation.Success, Cost: 10, EndedAt: now,
		})
		require.NoError(t, err)
		seq[[2]int{iss, sub}]++
		a, err := reputation.SignAttestation(keys[iss], reputation.NewAttestation(r, now, now.Add(24*time.Hour), seq[[2]int{iss, sub}]))
		require.NoError(t, err)
		raw, err := a.Marshal()
		require.NoError(t, err)
		out = append(out, raw)
	}
	return out
}

// TestPoloCatchUp is issue 6's acceptance 2: a node that joins after 1,000
// attestations were made catches up through anti-entropy; and the bytes a
// sync session exchanges follow the difference between two stores (1 %
// vs 100 % of 1,000), not their size.
func TestPoloCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	raws := makeAttestations(t, 1000)
	start := func(boot []string) *Node {
		cfg := TestnetConfig()
		cfg.Bootstrap = boot
		n, err := New(cfg)
		require.NoError(t, err)
		require.NoError(t, n.Start(ctx))
		return n
	}
	a := start(nil)
	defer a.Close()
	for _, raw := range raws {
		require.NoError(t, a.addAttestation(raw))
	}
	require.Equal(t, 1000, a.polo.store.Count())

	// Joining through A: the start-up sync brings everything.
	late := start(a.JoinAddrs())
	defer late.Close()
	eventually(t, 30*time.Second, func() error {
		if got := late.polo.store.Count(); got != 1000 {
			return fmt.Errorf("late joiner holds %d of 1000", got)
		}
		return nil
	})

	// Bytes for a 1 % and a 100 % difference, one session each.
	bytesFor := func(have int) (int64, int) {
		n := start(nil) // not bootstrapped: no start-up sync
		defer n.Close()
		for _, raw := range raws[:have] {
			require.NoError(t, n.addAttestation(raw))
		}
		require.NoError(t, n.host.Connect(ctx, peer.AddrInfo{ID: a.PeerID(), Addrs: a.host.Addrs()}))
		res, err := n.polo.sync.SyncWith(ctx, a.PeerID())
		require.NoError(t, err)
		n.flushSynced()
		require.Equal(t, 1000, n.polo.store.Count(), "one session closes the gap")
		require.NoError(t, n.Close())
		return res.BytesSent + res.BytesReceived, res.Rounds
	}
	onePct, r1 := bytesFor(990)
	all, r100 := bytesFor(0)
	t.Logf("sync of 1,000 attestations: 1%% difference %d bytes in %d rounds; 100%% difference %d bytes in %d rounds (%.1f%%)",
		onePct, r1, all, r100, 100*float64(onePct)/float64(all))
	require.Less(t, onePct*10, all, "1% of the difference must cost far less than all of it")
}
