package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/task"
)

// gathered is one registry's samples, by metric name and then by the
// text form of their labels ("" for none, `path="direct"` for one).
type gathered map[string]map[string]float64

// gather reads every sample of reg (counters, gauges; histograms as their
// count).
func gather(t *testing.T, reg *prometheus.Registry) gathered {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := gathered{}
	for _, mf := range mfs {
		m := map[string]float64{}
		for _, s := range mf.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue() + float64(s.GetHistogram().GetSampleCount())
			m[strings.Join(labels, ",")] = v
		}
		out[mf.GetName()] = m
	}
	return out
}

// TestMetricsCountTraffic runs real traffic between two nodes on loopback
// - a resolve, a trust handshake, an echo session, a task with its
// attestation, one malformed attestation - and checks each node's own
// registry holds Pilot's counters with the right labels, and go-libp2p's.
func TestMetricsCountTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	var regs []*prometheus.Registry
	nodes := startMeshWith(t, 2, func() Config {
		c := TestnetConfig()
		reg := prometheus.NewRegistry()
		regs = append(regs, reg)
		c.Metrics = reg
		return c
	})
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	a, w := nodes[0], nodes[1]
	ra, rw := regs[0], regs[1]

	eventually(t, 30*time.Second, func() error {
		_, err := a.Resolve(ctx, w.Addr())
		return err
	})
	_, err := a.Trust().Request(ctx, w.PeerID(), "metrics test")
	require.NoError(t, err)
	eventually(t, 20*time.Second, func() error {
		if v := gather(t, rw)["pilot_trust_events_total"][`kind="request_received"`]; v != 1 {
			return fmt.Errorf("w saw %v request_received events", v)
		}
		return nil
	})
	_, err = w.Trust().Approve(ctx, a.PeerID())
	require.NoError(t, err)
	eventually(t, 20*time.Second, func() error {
		if !a.Trusted(w.PeerID()) {
			return fmt.Errorf("a does not trust w yet")
		}
		return nil
	})
	got, _, err := a.Echo(ctx, w.Addr(), "hello") // port 7 takes trusted peers only
	require.NoError(t, err)
	require.Equal(t, "hello", got)

	sub, err := a.SubmitTask(ctx, w.Addr(), "echo", json.RawMessage(`{"x":1}`), time.Minute, false)
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() error {
		got, err := w.Tasks().Get(sub.ID)
		if err != nil {
			return err
		}
		if got.State != task.StateSubmitted {
			return fmt.Errorf("state %s", got.State)
		}
		return nil
	})
	_, err = w.Tasks().Accept(ctx, sub.ID)
	require.NoError(t, err)
	_, err = w.Tasks().Complete(ctx, sub.ID, json.RawMessage(`{"y":2}`), "")
	require.NoError(t, err)
	done, err := a.Tasks().Wait(ctx, sub.ID)
	require.NoError(t, err)
	require.Equal(t, task.StateSucceeded, done.State)
	eventually(t, 20*time.Second, func() error {
		if v := gather(t, ra)["pilot_attestations_accepted_total"][""]; v != 1 {
			return fmt.Errorf("a accepted %v attestations", v)
		}
		return nil
	})
	require.Error(t, a.addAttestation([]byte("not an attestation")))
	a.refreshPolo(true)

	ma := gather(t, ra)
	require.GreaterOrEqual(t, ma["pilot_resolves_total"][`result="found"`], 1.0, "a's resolve")
	require.Contains(t, ma["pilot_resolves_total"], `result="error"`, "label values exist before use")
	require.GreaterOrEqual(t, ma["pilot_sessions_opened_total"][`path="direct"`], 2.0, "the echo and the task submission")
	require.Equal(t, 0.0, ma["pilot_sessions_opened_total"][`path="relayed"`])
	require.Equal(t, 1.0, ma["pilot_trust_events_total"][`kind="request_sent"`])
	require.Equal(t, 1.0, ma["pilot_trust_events_total"][`kind="trusted"`])
	require.Equal(t, 1.0, ma["pilot_attestations_rejected_total"][`reason="decode"`])
	require.Equal(t, 1.0, ma["pilot_tasks_total"][`outcome="succeeded"`], "the requester's copy")
	require.Equal(t, 0.0, ma["pilot_tasks_total"][`outcome="failed"`])
	require.GreaterOrEqual(t, ma["pilot_polo_compute_seconds"][""], 1.0, "at least the forced computation")
	require.Contains(t, ma, "pilot_store_gc_last_timestamp_seconds")

	eventually(t, 20*time.Second, func() error {
		mw := gather(t, rw)
		if mw["pilot_tasks_total"][`outcome="succeeded"`] != 1 {
			return fmt.Errorf("w: tasks %v", mw["pilot_tasks_total"])
		}
		if mw["pilot_trust_events_total"][`kind="trusted"`] != 1 {
			return fmt.Errorf("w: trust events %v", mw["pilot_trust_events_total"])
		}
		if mw["pilot_attestations_accepted_total"][""] != 1 {
			return fmt.Errorf("w has not stored a's attestation (gossip or sync)")
		}
		return nil
	})

	libp2p := 0
	for name := range ma {
		if strings.HasPrefix(name, "libp2p_") {
			libp2p++
		}
	}
	require.Positive(t, libp2p, "go-libp2p's metrics are in the node's registry")
	require.Contains(t, ma, "libp2p_rcmgr_streams", "the resource manager reports to it too")
}

// TestMetricsRegistryPerNode: one registry cannot serve two nodes, and
// the second New says so; a nil registry works and counts privately.
func TestMetricsRegistryPerNode(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := TestnetConfig()
	c.Metrics = reg
	_, err := New(c)
	require.NoError(t, err)
	_, err = New(c)
	require.ErrorContains(t, err, "one Config.Metrics registry per node")

	n, err := New(TestnetConfig())
	require.NoError(t, err)
	require.NotNil(t, n.metrics)
	n.metrics.resolved(dhtErrNotFound)
	n.metrics.resolved(fmt.Errorf("wrapped: %w", context.DeadlineExceeded))
	var nilMetrics *metrics
	nilMetrics.resolved(nil) // a nil *metrics ignores calls
}
