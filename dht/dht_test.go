package dht

import (
	"context"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// newTestDHT starts a host on loopback TCP with a server-mode DHT.
func newTestDHT(t *testing.T) (*DHT, crypto.PrivKey) {
	t.Helper()
	priv, _ := newKey(t)
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	d, err := New(h, priv, Config{Mode: ModeServer, ResolveTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() {
		d.Close()
		h.Close()
	})
	return d, priv
}

func TestPutValueRejectsLowerSeq(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the hosts' cleanups
	a, aPriv := newTestDHT(t)
	b, _ := newTestDHT(t)
	ctx := context.Background()
	require.NoError(t, a.h.Connect(ctx, peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}))
	eventuallyTrue(t, func() bool { return a.RoutingTableSize() > 0 && b.RoutingTableSize() > 0 })

	key := AddrKey(a.Self())
	seq := peer.TimestampSeq()
	require.NoError(t, a.kad.PutValue(ctx, key, signed(t, aPriv, seq)))
	err := a.kad.PutValue(ctx, key, signed(t, aPriv, seq-1))
	require.Error(t, err, "a lower seq must not replace a higher one")

	res, err := b.Resolve(ctx, a.Self())
	require.NoError(t, err)
	require.Equal(t, seq, res.Record.Seq)
	require.True(t, res.PinCreated)
	require.Equal(t, a.h.ID(), res.Record.PeerID)

	res, err = b.Resolve(ctx, a.Self())
	require.NoError(t, err)
	require.False(t, res.PinCreated, "second resolution reuses the pin")
}

func TestPinMismatchIsRefused(t *testing.T) {
	ctx := context.Background()
	pins := NewPinStore(dssync.MutexWrap(ds.NewMapDatastore()))
	priv, a := newKey(t)
	id, _ := peer.IDFromPrivateKey(priv)
	created, err := pins.Check(ctx, &AddrRecord{Addr: a, PeerID: id, Seq: 5})
	require.NoError(t, err)
	require.True(t, created)

	other, _ := newKey(t)
	otherID, _ := peer.IDFromPrivateKey(other)
	_, err = pins.Check(ctx, &AddrRecord{Addr: a, PeerID: otherID, Seq: 9})
	require.ErrorIs(t, err, ErrPinMismatch)

	p, ok, err := pins.Get(ctx, a)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, id, p.PeerID, "a refused claimant changes nothing")
	require.Equal(t, uint64(5), p.Seq)

	require.NoError(t, pins.Remove(ctx, a))
	_, ok, err = pins.Get(ctx, a)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestCorruptPinIsAnError(t *testing.T) {
	ctx := context.Background()
	store := dssync.MutexWrap(ds.NewMapDatastore())
	_, a := newKey(t)
	require.NoError(t, store.Put(ctx, pinKey(a), []byte("{not json")))
	_, _, err := NewPinStore(store).Get(ctx, a)
	require.Error(t, err)
}

func eventuallyTrue(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		<-time.After(20 * time.Millisecond)
	}
}
