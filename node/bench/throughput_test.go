package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeasureThroughput runs every path with a small payload on real
// nodes and checks that each was measured and the ratios follow from the
// figures. It asserts no speed.
func TestMeasureThroughput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var calls []string
	got, err := MeasureThroughput(ctx, ThroughputOptions{Bytes: 1 << 20, Rounds: 2,
		Progress: func(done, total int, path string) {
			require.Equal(t, 12, total)
			require.Equal(t, len(calls)+1, done)
			calls = append(calls, path)
		}})
	require.NoError(t, err)
	require.Len(t, calls, 12)
	for name, v := range map[string]float64{PathRawTCP: got.RawTCP, PathLibp2pTCP: got.Libp2pTCP,
		PathPilotTCP: got.PilotTCP, PathLibp2pQUIC: got.Libp2pQUIC, PathPilotQUIC: got.PilotQUIC,
		PathTunnelTCP: got.PilotTunnelTCP} {
		require.Positive(t, v, name)
		s := got.Spread[name]
		require.LessOrEqual(t, s[0], s[1], name)
		require.Contains(t, calls, name)
	}
	require.InDelta(t, got.PilotTCP/got.Libp2pTCP, got.PilotTCPRatio, 1e-9)
	require.InDelta(t, got.PilotQUIC/got.Libp2pQUIC, got.PilotQUICRatio, 1e-9)
	require.InDelta(t, got.PilotTunnelTCP/got.RawTCP, got.TunnelRatio, 1e-9)
	require.InDelta(t, got.PilotTunnelTCP/got.PilotTCP, got.TunnelOverPilotRatio, 1e-9)
	require.Equal(t, int64(1<<20), got.BytesPerStream)
}

func TestThroughputOptionsRefused(t *testing.T) {
	for _, o := range []ThroughputOptions{{Bytes: 10}, {Bytes: MaxBytes + 1}, {Rounds: -1}, {Rounds: MaxRounds + 1}} {
		_, err := MeasureThroughput(context.Background(), o)
		require.Error(t, err, "%+v", o)
	}
}

// BenchmarkThroughput reports the six paths and the ratios of one
// measurement of 32 MiB a stream per iteration.
func BenchmarkThroughput(b *testing.B) {
	var sum Throughput
	for b.Loop() {
		t, err := MeasureThroughput(context.Background(), ThroughputOptions{Bytes: 32 << 20, Rounds: 2})
		if err != nil {
			b.Fatal(err)
		}
		sum.RawTCP += t.RawTCP
		sum.Libp2pTCP += t.Libp2pTCP
		sum.PilotTCP += t.PilotTCP
		sum.Libp2pQUIC += t.Libp2pQUIC
		sum.PilotQUIC += t.PilotQUIC
		sum.PilotTunnelTCP += t.PilotTunnelTCP
	}
	n := float64(b.N)
	b.ReportMetric(sum.RawTCP/n, "raw-tcp-MB/s")
	b.ReportMetric(sum.Libp2pTCP/n, "libp2p-tcp-MB/s")
	b.ReportMetric(sum.PilotTCP/n, "pilot-tcp-MB/s")
	b.ReportMetric(sum.Libp2pQUIC/n, "libp2p-quic-MB/s")
	b.ReportMetric(sum.PilotQUIC/n, "pilot-quic-MB/s")
	b.ReportMetric(sum.PilotTCP/sum.Libp2pTCP, "pilot/libp2p-tcp")
	b.ReportMetric(sum.PilotTunnelTCP/n, "tunnel-tcp-MB/s")
	b.ReportMetric(sum.PilotQUIC/sum.Libp2pQUIC, "pilot/libp2p-quic")
	b.ReportMetric(sum.PilotTunnelTCP/sum.RawTCP, "tunnel/raw-tcp")
}
