package node

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/stretchr/testify/require"
)

// TestRelayReservationLimits: an abusive peer cannot exhaust an anchor's
// relay. One peer reserving again and again holds one reservation; many
// peers from one IP stop at the per-IP limit; honest peers from elsewhere
// would still find room (the global limit is far larger).
func TestRelayReservationLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	cfg := TestnetConfig()
	cfg.Anchor = true
	cfg.RelayReservationsPerIP = 3
	anchor, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, anchor.Start(ctx))
	defer anchor.Close()
	ai := peer.AddrInfo{ID: anchor.PeerID(), Addrs: anchor.Host().Addrs()}

	var clients []host.Host
	defer func() {
		for _, h := range clients {
			h.Close()
		}
	}()
	newClient := func() host.Host {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		require.NoError(t, err)
		clients = append(clients, h)
		return h
	}

	// The abuser reserves ten times: it still holds one place only.
	abuser := newClient()
	for range 10 {
		_, err := client.Reserve(ctx, abuser, ai)
		require.NoError(t, err, "renewing one's own reservation is allowed")
	}
	// So two more peers from the same IP still get one each ...
	for range 2 {
		_, err := client.Reserve(ctx, newClient(), ai)
		require.NoError(t, err)
	}
	// ... and the per-IP limit (3) stops the next one.
	_, err = client.Reserve(ctx, newClient(), ai)
	require.Error(t, err, "the fourth reservation from one IP must be refused")
	for _, h := range clients {
		require.NoError(t, h.Close())
	}
	require.NoError(t, anchor.Close())
}
