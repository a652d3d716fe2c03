package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/dht/badgerds"
)

var loopback = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

func TestPresetsStart(t *testing.T) {
	checkLeaks(t)
	presets := map[string]Config{
		"daemon":  DaemonConfig(t.TempDir()),
		"anchor":  AnchorConfig(t.TempDir()),
		"testnet": TestnetConfig(),
	}
	for name, cfg := range presets {
		t.Run(name, func(t *testing.T) {
			cfg.ListenAddrs = loopback
			cfg.MDNS = false
			n, err := New(cfg)
			require.NoError(t, err)
			require.NoError(t, n.Start(context.Background()))
			require.NotEmpty(t, n.JoinAddrs())
			require.True(t, n.FirstNode())
			require.Equal(t, dht.ModeServer, n.DHT().Mode())
			if cfg.APISocket != "" {
				st, err := os.Stat(cfg.APISocket)
				require.NoError(t, err)
				require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			}
			require.NoError(t, n.Close())
			require.NoError(t, n.Close(), "Close is idempotent")
			require.NoError(t, n.Wait())
			if cfg.APISocket != "" {
				_, err := os.Stat(cfg.APISocket)
				require.ErrorIs(t, err, os.ErrNotExist, "socket removed on close")
			}
		})
	}
}

func TestRestartKeepsIdentityRecordsAndPins(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	home := t.TempDir()

	other, err := New(TestnetConfig())
	require.NoError(t, err)
	require.NoError(t, other.Start(ctx))
	defer other.Close()

	cfg := DaemonConfig(home)
	cfg.ListenAddrs, cfg.MDNS, cfg.APISocket = loopback, false, ""
	cfg.Public = true // a DHT server, so it holds records for others
	cfg.Bootstrap = other.JoinAddrs()
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx))
	addr, id := n.Addr(), n.PeerID()
	eventually(t, 30*time.Second, func() error { _, err := n.Resolve(ctx, other.Addr()); return err })
	eventually(t, 30*time.Second, func() error {
		_, seq, err := n.DHT().LastPublish()
		if err == nil && seq == 0 {
			return os.ErrNotExist
		}
		return err
	})
	// other republishes once its table has a peer, so n comes to hold
	// other's record in its share of the DHT.
	eventually(t, 30*time.Second, func() error {
		if ok, err := n.DHT().HoldsRecord(ctx, dht.AddrKey(other.Addr())); err != nil || !ok {
			return fmt.Errorf("other's address record not held yet (%v)", err)
		}
		return nil
	})
	require.NoError(t, n.Close())
	require.NoError(t, other.Close())

	st, err := os.Stat(filepath.Join(home, identityFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// Restart alone, with no peers: everything must come from disk.
	cfg.Bootstrap = nil
	n2, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, addr, n2.Addr())
	require.Equal(t, id, n2.PeerID())
	require.NoError(t, n2.Start(ctx))
	defer n2.Close()

	pin, ok, err := n2.DHT().Pins().Get(ctx, other.Addr())
	require.NoError(t, err)
	require.True(t, ok, "pin survives restart")
	require.Equal(t, other.PeerID(), pin.PeerID)
	was, removed, err := n2.Unpin(ctx, other.Addr())
	require.NoError(t, err)
	require.True(t, removed)
	require.Equal(t, other.PeerID(), was)
	_, removed, err = n2.Unpin(ctx, other.Addr())
	require.NoError(t, err)
	require.False(t, removed, "nothing left to unpin")

	// The DHT record the node stored for the other node is still there.
	held, err := n2.DHT().HoldsRecord(ctx, dht.AddrKey(other.Addr()))
	require.NoError(t, err)
	require.True(t, held)
	val, err := n2.DHT().Kad().GetValue(ctx, dht.AddrKey(other.Addr()), routing.Offline)
	require.NoError(t, err)
	rec, err := dht.DecodeAddrRecord(dht.AddrKey(other.Addr()), val, time.Now())
	require.NoError(t, err)
	require.Equal(t, other.PeerID(), rec.PeerID)
	require.NoError(t, n2.Close())
}

func TestIdentityFile(t *testing.T) {
	home := t.TempDir()
	k1, err := LoadOrCreateIdentity(home)
	require.NoError(t, err)
	k2, err := LoadOrCreateIdentity(home)
	require.NoError(t, err)
	require.True(t, k1.Equals(k2))

	path := filepath.Join(home, identityFile)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = LoadOrCreateIdentity(home)
	require.ErrorContains(t, err, "chmod 600")

	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	_, err = LoadOrCreateIdentity(home)
	require.Error(t, err)
}

func TestChooseDHTMode(t *testing.T) {
	lan, err := parseBootstrap([]string{"/ip4/192.168.1.7/tcp/4410/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"})
	require.NoError(t, err)
	loop, err := parseBootstrap([]string{"/ip4/127.0.0.1/tcp/4410/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"})
	require.NoError(t, err)
	pub, err := parseBootstrap([]string{"/ip4/203.0.114.9/tcp/4410/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"})
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  Config
		boot []peer.AddrInfo
		want dht.Mode
	}{
		{"first node", Config{}, nil, dht.ModeServer},
		{"anchor", Config{Anchor: true}, pub, dht.ModeServer},
		{"public", Config{Public: true}, pub, dht.ModeServer},
		{"private node on a LAN", Config{}, lan, dht.ModeClient},
		{"private node on loopback", Config{}, loop, dht.ModeClient},
		{"private node joining public anchors", Config{}, pub, dht.ModeClient},
		{"public LAN node", Config{Public: true}, lan, dht.ModeServer},
		{"explicit auto", Config{DHTMode: "auto"}, pub, dht.ModeAuto},
		{"explicit client", Config{DHTMode: "client"}, nil, dht.ModeClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseDHTMode(tt.cfg, tt.boot)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err = ChooseDHTMode(Config{DHTMode: "bogus"}, nil)
	require.Error(t, err)
}

func TestBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"bootstrap without peer ID": {InMemory: true, Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}},
		"bootstrap not a multiaddr": {InMemory: true, Bootstrap: []string{"nope"}},
		"bad DHT mode":              {InMemory: true, DHTMode: "sometimes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			require.Error(t, err)
		})
	}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	require.NoError(t, err)
	_, err = NewWithIdentity(TestnetConfig(), secp)
	require.ErrorContains(t, err, "Ed25519")
	ed, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	withKey, err := NewWithIdentity(TestnetConfig(), ed)
	require.NoError(t, err)
	require.True(t, withKey.Addr().Matches(ed.GetPublic()))

	cfg := TestnetConfig()
	cfg.ConnHigh = 100000
	n, err := New(cfg)
	require.NoError(t, err)
	require.ErrorContains(t, n.Start(context.Background()), "ConnHigh")
	require.NoError(t, n.Close())
}

func FuzzDecodeIdentity(f *testing.F) {
	k, err := LoadOrCreateIdentity(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := marshalKey(k)
	f.Add(raw)
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		priv, err := DecodeIdentity(b)
		if err == nil && priv == nil {
			t.Fatal("nil key without error")
		}
	})
}

// TestInMemoryStoreRefusesOversizedValues guards against a Badger crash:
// an in-memory store must refuse, not crash on, a value at its limit.
func TestInMemoryStoreRefusesOversizedValues(t *testing.T) {
	db, err := openStore("", true)
	require.NoError(t, err)
	defer db.Close()
	d := badgerds.New(db, "/t")
	ctx := context.Background()
	limit := int(db.Opts().MemTableSize * 15 / 100)
	require.NoError(t, d.Put(ctx, ds.NewKey("/small"), make([]byte, limit/2)))
	for _, size := range []int{limit, limit + 1, 1 << 20} {
		require.Error(t, d.Put(ctx, ds.NewKey("/big"), make([]byte, size)), "size %d", size)
	}
}
