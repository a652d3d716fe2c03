package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/dht"
)

// TestFindSameHostname: two nodes claim "alice"; a third that trusts
// neither gets ambiguous, and picks the one it trusts once it trusts one.
func TestFindSameHostname(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	nodes := startMesh(t, 5)
	ctx := context.Background()
	a1, a2, asker := nodes[1], nodes[2], nodes[3]
	for _, n := range []*Node{a1, a2} {
		_, err := n.SetProfile(ptr("Alice"), []string{"weather", "Maps"})
		require.NoError(t, err)
	}
	var found []dht.Claimant
	eventually(t, 30*time.Second, func() error {
		var err error
		found, err = asker.Find(ctx, "alice", "")
		if err == nil && len(found) < 2 {
			return errString("not both claimants yet")
		}
		return err
	})
	require.Len(t, found, 2)
	_, err := asker.AddrOf(ctx, "alice")
	require.ErrorIs(t, err, dht.ErrAmbiguous)

	tags, err := asker.Find(ctx, "", "maps")
	require.NoError(t, err)
	require.Len(t, tags, 2, "tags are lowercased")
	quick, err := asker.FindProviders(ctx, "Maps", 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{a1.PeerID(), a2.PeerID()}, quick, "the quick form finds the same announcers")
	quick, err = a1.FindProviders(ctx, "maps", 0)
	require.NoError(t, err)
	require.Equal(t, []peer.ID{a2.PeerID()}, quick, "the finder leaves itself out")

	asker.trust = &fakeTrust{ok: map[peer.ID]bool{a2.PeerID(): true}}
	got, err := asker.AddrOf(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, a2.Addr(), got, "the trusted claimant wins")
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}
