package node

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// checksByName indexes a report's checks.
func checksByName(t *testing.T, r DoctorReport) map[string]DoctorCheck {
	t.Helper()
	out := map[string]DoctorCheck{}
	var names []string
	for _, c := range r.Checks {
		out[c.Name] = c
		names = append(names, c.Name)
		if c.Status != DoctorOK && c.Fix == "" {
			t.Errorf("check %s is %s without a fix: %+v", c.Name, c.Status, c)
		}
	}
	require.Equal(t, []string{"reachability", "relay", "dht", "clock", "store"}, names)
	return out
}

// TestDoctorTwoNodes: on a healthy pair nothing fails; the DHT check
// finds its own record, the clock check gets an answer from the peer and
// - one clock, two nodes - an offset within its own uncertainty.
func TestDoctorTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMesh(t, 2)
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	a, b := nodes[0], nodes[1]
	eventually(t, 30*time.Second, func() error {
		_, err := a.Resolve(ctx, b.Addr())
		return err
	})
	var rep DoctorReport
	eventually(t, 30*time.Second, func() error {
		var err error
		if rep, err = a.Doctor(ctx); err != nil {
			return err
		}
		if c := checksByName(t, rep)["dht"]; c.Status != DoctorOK {
			return fmt.Errorf("dht: %+v", c)
		}
		return nil
	})
	cs := checksByName(t, rep)
	require.NotEqual(t, DoctorFail, rep.Status, "%+v", rep)
	require.Equal(t, DoctorOK, cs["relay"].Status, "a public node needs no relay")
	require.Contains(t, cs["dht"].Details["own_record"], "found")
	require.Equal(t, DoctorOK, cs["clock"].Status, "%+v", cs["clock"])
	require.Equal(t, "1", cs["clock"].Details["peers_answered"])
	require.Equal(t, DoctorOK, cs["store"].Status)
	require.NotEmpty(t, cs["reachability"].Details["listen_addrs"])

	s, err := a.askTime(ctx, b.PeerID())
	require.NoError(t, err)
	require.LessOrEqual(t, abs(s.offset), s.uncertainty, "one clock: the peer's reading lies inside the round trip")
}

// TestDoctorLoneNode: a node that joined nothing fails the DHT check and
// has no clock to compare with; the report says what to do.
func TestDoctorLoneNode(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	n, err := New(TestnetConfig())
	require.NoError(t, err)
	require.NoError(t, n.Start(ctx))
	defer n.Close()
	rep, err := n.Doctor(ctx)
	require.NoError(t, err)
	cs := checksByName(t, rep)
	require.Equal(t, DoctorFail, rep.Status)
	require.Equal(t, DoctorFail, cs["dht"].Status)
	require.Contains(t, cs["dht"].Fix, "--bootstrap")
	require.Equal(t, "0", cs["dht"].Details["routing_table_size"])
	require.Equal(t, DoctorWarn, cs["clock"].Status)
	require.Equal(t, "0", cs["clock"].Details["peers_asked"])
	require.NoError(t, n.Close())
	_, err = n.Doctor(ctx)
	require.ErrorIs(t, err, ErrNotStarted)
}

// TestDoctorStoreOnDisk: a node with a home on disk reports the store's
// size and the free space there.
func TestDoctorStoreOnDisk(t *testing.T) {
	checkLeaks(t)
	cfg := TestnetConfig()
	cfg.InMemory = false
	cfg.Home = t.TempDir()
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	defer n.Close()
	c := n.checkStore()
	require.NotEqual(t, DoctorFail, c.Status, "%+v", c)
	size, err := strconv.ParseInt(c.Details["size_bytes"], 10, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, size, int64(0))
	if _, ok := freeDisk(cfg.Home); ok {
		free, err := strconv.ParseUint(c.Details["free_bytes"], 10, 64)
		require.NoError(t, err)
		require.Positive(t, free)
	}
	require.Equal(t, "not yet (every 10 minutes)", c.Details["last_gc"])
	n.metrics.storeGC(time.Unix(1700000000, 0))
	require.Equal(t, "2023-11-14T22:13:20Z", n.checkStore().Details["last_gc"])
	require.NoError(t, n.Close())
}

// TestDoctorServerWithClientsOnly: a DHT server whose only peer is a DHT
// client has an empty routing table, yet serves that client: a warning
// (records live on this node alone), not a failure.
func TestDoctorServerWithClientsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMeshWith(t, 2, func() Config { return TestnetConfig() })
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	a := nodes[0]
	cfg := TestnetConfig()
	cfg.DHTMode = "client"
	cfg.Bootstrap = a.JoinAddrs()
	cl, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, cl.Start(ctx))
	defer cl.Close()
	require.NoError(t, nodes[1].Close()) // a's only other server goes away
	eventually(t, 30*time.Second, func() error {
		if s := a.DHT().RoutingTableSize(); s != 0 {
			return fmt.Errorf("routing table size %d", s)
		}
		return nil
	})
	rep, err := a.Doctor(ctx)
	require.NoError(t, err)
	c := checksByName(t, rep)["dht"]
	require.Equal(t, DoctorWarn, c.Status, "%+v", c)
	require.Contains(t, c.Summary, "serves the DHT alone")
	require.NoError(t, cl.Close())
}
