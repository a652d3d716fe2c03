package dht

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestEmptyTableRefilledFromConnectedServers: a client whose kad-dht never
// admits a peer by itself (no liveness check can run: the state a loaded
// host reaches when every check times out) still gets the DHT server it is
// connected to into its routing table, and publishes through it. A
// connected peer that does not speak the DHT is not added.
func TestEmptyTableRefilledFromConnectedServers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the hosts' cleanups
	ctx := context.Background()
	server, _ := newTestDHT(t)
	require.NoError(t, server.Start(ctx))

	priv, _ := newKey(t)
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	client, err := New(h, priv, Config{Mode: ModeClient, ResolveTimeout: 10 * time.Second,
		kadOptions: []kaddht.Option{kaddht.LookupCheckConcurrency(0)}})
	require.NoError(t, err)
	t.Cleanup(func() {
		client.Close()
		h.Close()
	})
	// A peer that is connected but runs no DHT.
	plain, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	t.Cleanup(func() { plain.Close() })

	for _, p := range []peer.AddrInfo{{ID: server.h.ID(), Addrs: server.h.Addrs()}, {ID: plain.ID(), Addrs: plain.Addrs()}} {
		require.NoError(t, h.Connect(ctx, p))
	}
	require.NoError(t, client.Start(ctx))
	eventuallyTrue(t, func() bool { return client.RoutingTableSize() > 0 })
	require.Equal(t, []peer.ID{server.h.ID()}, client.kad.RoutingTable().ListPeers(), "only the DHT server")

	eventuallyTrue(t, func() bool {
		at, _, err := client.LastPublish()
		return err == nil && !at.IsZero()
	})
	res, err := server.Resolve(ctx, client.Self())
	require.NoError(t, err)
	require.Equal(t, h.ID(), res.Record.PeerID)
}
