package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeasureSetup sets up every path twice on real nodes and checks each
// was timed. It asserts no speed.
func TestMeasureSetup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rounds := 0
	got, err := MeasureSetup(ctx, SetupOptions{Rounds: 2, Progress: func(done, total int) {
		require.Equal(t, 2, total)
		rounds = done
	}})
	require.NoError(t, err)
	require.Equal(t, 2, rounds)
	require.Equal(t, 2, got.Rounds)
	for name, v := range map[string]float64{"pilot cold": got.PilotColdMs, "libp2p cold": got.Libp2pColdMs,
		"raw": got.RawTCPMs, "pilot warm": got.PilotWarmMs, "libp2p warm": got.Libp2pWarmMs} {
		require.Positive(t, v, name)
	}
	_, err = MeasureSetup(ctx, SetupOptions{Rounds: MaxRounds + 1})
	require.Error(t, err)
}

func TestMedianMs(t *testing.T) {
	require.Equal(t, 0.0, medianMs(nil))
	require.Equal(t, 2.0, medianMs([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}))
	require.Equal(t, 2.5, medianMs([]time.Duration{4 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}))
}
