package dht

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// newMesh starts n server-mode DHTs, connects each to the first, starts
// publishing on all and waits until every routing table holds every other
// node.
func newMesh(t *testing.T, n int) []*DHT {
	t.Helper()
	ds := make([]*DHT, n)
	for i := range ds {
		ds[i], _ = newTestDHT(t)
	}
	ctx := context.Background()
	for _, d := range ds[1:] {
		require.NoError(t, d.h.Connect(ctx, peer.AddrInfo{ID: ds[0].h.ID(), Addrs: ds[0].h.Addrs()}))
	}
	for _, d := range ds {
		require.NoError(t, d.Start(ctx))
	}
	eventuallyTrue(t, func() bool {
		for _, d := range ds {
			if d.RoutingTableSize() < n-1 {
				d.kad.RefreshRoutingTable()
				return false
			}
		}
		return true
	})
	return ds
}

// waitProfilePublished waits until d has published its profile after since.
func waitProfilePublished(t *testing.T, d *DHT, since time.Time) {
	t.Helper()
	eventuallyTrue(t, func() bool {
		at, _, err := d.LastProfilePublish()
		return at.After(since) && err == nil
	})
}

func ids(cs []Claimant) []peer.ID {
	out := make([]peer.ID, len(cs))
	for i, c := range cs {
		out[i] = c.PeerID
	}
	return out
}

func TestFindNameAndTags(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the hosts' cleanups
	ds := newMesh(t, 5)
	alice1, alice2, finder, liar, mallory := ds[0], ds[1], ds[2], ds[3], ds[4]
	ctx := context.Background()

	start := time.Now()
	require.NoError(t, alice1.SetProfile(ProfileInfo{Hostname: "alice", Tags: []string{"llm", "gpu"}, Version: "pilot/test"}))
	require.NoError(t, alice2.SetProfile(ProfileInfo{Hostname: "alice", Tags: []string{"gpu"}, Ports: []uint16{1001}}))
	require.NoError(t, finder.SetProfile(ProfileInfo{Tags: []string{"llm"}}))
	require.NoError(t, mallory.SetProfile(ProfileInfo{Hostname: "mallory"}))
	for _, d := range []*DHT{alice1, alice2, finder, mallory} {
		waitProfilePublished(t, d, start)
	}
	// Two false claims: the provider record says "alice" but the signed
	// profile does not (liar has no profile at all, mallory another name).
	require.NoError(t, liar.kad.Provide(ctx, NameCID("alice"), true))
	require.NoError(t, mallory.kad.Provide(ctx, NameCID("alice"), true))
	eventuallyTrue(t, func() bool {
		provs, err := finder.kad.FindProviders(ctx, NameCID("alice"))
		return err == nil && len(provs) == 4
	})

	cs, err := finder.FindName(ctx, "alice", nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{alice1.h.ID(), alice2.h.ID()}, ids(cs), "only the signed claims count")
	for _, c := range cs {
		require.Equal(t, "alice", c.Hostname)
		require.Equal(t, c.Addr, map[peer.ID]*DHT{alice1.h.ID(): alice1, alice2.h.ID(): alice2}[c.PeerID].Self())
		require.False(t, c.Trusted)
	}
	one := cs[0]
	if one.PeerID == alice1.h.ID() {
		require.Equal(t, []string{"gpu", "llm"}, one.Tags)
		require.Equal(t, "pilot/test", one.Version)
	}

	// Nobody trusted: ambiguous, and the error names both.
	_, err = ResolveName(cs)
	require.ErrorIs(t, err, ErrAmbiguous)
	require.Contains(t, err.Error(), alice1.Self().String())
	require.Contains(t, err.Error(), alice2.Self().String())
	_, err = finder.AddrOf(ctx, "alice", nil)
	require.ErrorIs(t, err, ErrAmbiguousName)

	// Trust alice2: she ranks first and is the answer.
	trust2 := testRanker{trusted: map[peer.ID]bool{alice2.h.ID(): true}, score: map[peer.ID]float64{alice1.h.ID(): 9}}
	cs, err = finder.FindName(ctx, "alice", trust2)
	require.NoError(t, err)
	require.Equal(t, alice2.h.ID(), cs[0].PeerID)
	require.True(t, cs[0].Trusted)
	require.Equal(t, 9.0, cs[1].Score)
	got, err := ResolveName(cs)
	require.NoError(t, err)
	require.Equal(t, alice2.h.ID(), got.PeerID)
	a, err := finder.AddrOf(ctx, "alice", trust2)
	require.NoError(t, err)
	require.Equal(t, alice2.Self(), a)

	// A pin (from resolving alice1's address) ranks alice1 without trust.
	_, err = finder.Resolve(ctx, alice1.Self())
	require.NoError(t, err)
	cs, err = finder.FindName(ctx, "alice", nil)
	require.NoError(t, err)
	require.True(t, cs[0].Pinned)
	got, err = ResolveName(cs)
	require.NoError(t, err)
	require.Equal(t, alice1.h.ID(), got.PeerID)

	// An address is an address, whatever names exist.
	a, err = finder.AddrOf(ctx, alice2.Self().String(), nil)
	require.NoError(t, err)
	require.Equal(t, alice2.Self(), a)

	// Tags: every node with the tag, nobody else.
	cs, err = liar.FindTag(ctx, "gpu", nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{alice1.h.ID(), alice2.h.ID()}, ids(cs))
	cs, err = liar.FindTag(ctx, "llm", nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{alice1.h.ID(), finder.h.ID()}, ids(cs))

	// The quick form returns the announcers without checking profiles: a
	// raw provider record counts there (the liar's for "gpu").
	require.NoError(t, liar.kad.Provide(ctx, TagCID("gpu"), true))
	eventuallyTrue(t, func() bool {
		provs, err := mallory.FindTagProviders(ctx, "gpu", 0)
		return err == nil && len(provs) == 3
	})
	provs, err := mallory.FindTagProviders(ctx, "gpu", 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []peer.ID{alice1.h.ID(), alice2.h.ID(), liar.h.ID()}, provs)
	provs, err = mallory.FindTagProviders(ctx, "gpu", 1)
	require.NoError(t, err)
	require.Len(t, provs, 1, "the limit holds")
	_, err = mallory.FindTagProviders(ctx, "Not A Tag!", 0)
	require.Error(t, err)
	_, err = mallory.FindTagProviders(ctx, "nothing-here", 0)
	require.ErrorIs(t, err, ErrNotFound)

	// Renaming withdraws the claim: the old provider record lingers but
	// the signed profile no longer backs it.
	renamed := time.Now()
	require.NoError(t, alice2.SetProfile(ProfileInfo{Hostname: "alice-two", Tags: []string{"gpu"}}))
	waitProfilePublished(t, alice2, renamed)
	cs, err = finder.FindName(ctx, "alice", nil)
	require.NoError(t, err)
	require.Equal(t, []peer.ID{alice1.h.ID()}, ids(cs))
	cs, err = finder.FindName(ctx, "alice-two", nil)
	require.NoError(t, err)
	require.Equal(t, []peer.ID{alice2.h.ID()}, ids(cs))
}

func TestFindUnknownNameIsNotFound(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	ds := newMesh(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	start := time.Now()
	_, err := ds[1].FindName(ctx, "nobody", nil)
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, ctx.Err(), "the find ends by itself, not by the caller's deadline")
	require.Less(t, time.Since(start), 2*ds[1].cfg.ResolveTimeout)

	_, err = ds[1].FindTag(ctx, "nothing-here", nil)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = ds[1].AddrOf(ctx, "nobody", nil)
	require.ErrorIs(t, err, ErrNotFound)

	// A provider without a profile is no claimant: still not found.
	require.NoError(t, ds[3].kad.Provide(ctx, NameCID("ghost"), true))
	_, err = ds[1].FindName(ctx, "ghost", nil)
	require.ErrorIs(t, err, ErrNotFound)

	// Bad input is refused before any network traffic.
	for _, bad := range []string{"", "Bad", "-x", "3f2a91c07d14"} {
		_, err = ds[1].FindName(ctx, bad, nil)
		require.ErrorIs(t, err, ErrInvalidName, bad)
	}
	_, err = ds[1].AddrOf(ctx, "no.such", nil)
	require.True(t, errors.Is(err, ErrInvalidName))

	// SetProfile refuses an invalid profile and keeps the old one.
	require.Error(t, ds[0].SetProfile(ProfileInfo{Tags: []string{"UPPER"}}))
	_, ok := ds[0].Profile()
	require.False(t, ok)
	require.NoError(t, ds[0].SetProfile(ProfileInfo{Tags: []string{"b", "a", "b"}}))
	p, ok := ds[0].Profile()
	require.True(t, ok)
	require.Equal(t, []string{"a", "b"}, p.Tags)

	// An unchanged, freshly published profile is not re-provided on every
	// trigger (address changes), only on the periodic republish.
	waitProfilePublished(t, ds[0], start)
	at, seq, _ := ds[0].LastProfilePublish()
	require.NoError(t, ds[0].publishProfile(ctx))
	at2, seq2, _ := ds[0].LastProfilePublish()
	require.Equal(t, at, at2)
	require.Equal(t, seq, seq2)
}
