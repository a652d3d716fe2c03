package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeasureIdle starts a small mesh and checks every figure is there. It
// asserts no size.
func TestMeasureIdle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, err := MeasureIdle(ctx, IdleOptions{Nodes: 4})
	require.NoError(t, err)
	require.Equal(t, 4, got.Nodes)
	require.Positive(t, got.HeapMiBPerNode)
	require.Positive(t, got.GoroutinesPerNode)
	require.GreaterOrEqual(t, got.ConnsPerNode, 1.0, "every node joined through the first")
	for _, n := range []int{1, MaxIdleNodes + 1, -3} {
		_, err := MeasureIdle(ctx, IdleOptions{Nodes: n})
		require.Error(t, err, "nodes %d", n)
	}
}
