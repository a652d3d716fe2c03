package reputation

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummaryAndListIDs(t *testing.T) {
	rules := fixedRules()
	rules.IssuerRate = -1
	s, _ := newStore(t, rules)
	q := identN(t, 1)
	var all [][32]byte
	for i := range 300 {
		a, err := s.Add(mustMarshal(t, build(t, spec{worker: identN(t, uint32(1000+i%50)), requester: q,
			task: fmt.Sprint(i), seq: uint64(1 + i/50)}, nil)))
		require.NoError(t, err)
		all = append(all, a.ID())
	}
	slices.SortFunc(all, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })

	brute := func(prefix []byte) (ids [][32]byte, fp [32]byte) {
		for _, id := range all {
			if bytes.HasPrefix(id[:], prefix) {
				ids = append(ids, id)
				for i := range fp {
					fp[i] ^= id[i]
				}
			}
		}
		return ids, fp
	}
	prefixes := [][]byte{nil, {}, {0x00}, {0xff}, {0x12, 0x34}, all[0][:32], all[7][:1], all[7][:2], all[42][:3]}
	for b := range 16 {
		prefixes = append(prefixes, []byte{byte(b << 4)}, all[b*10][:1])
	}
	for _, p := range prefixes {
		wantIDs, wantFP := brute(p)
		n, fp, err := s.Summary(p)
		require.NoError(t, err)
		require.Equal(t, len(wantIDs), n, "prefix %x", p)
		require.Equal(t, wantFP, fp, "prefix %x", p)

		got, err := s.ListIDs(p, 0)
		require.NoError(t, err)
		require.Equal(t, len(wantIDs), len(got), "prefix %x", p)
		if len(wantIDs) > 0 {
			require.Equal(t, wantIDs, got, "prefix %x", p)
		}
		for _, limit := range []int{1, 3, 1000} {
			got, err := s.ListIDs(p, limit)
			require.NoError(t, err)
			want := wantIDs[:min(limit, len(wantIDs))]
			require.Equal(t, len(want), len(got))
			if len(want) > 0 {
				require.Equal(t, want, got)
			}
		}
	}
	n, _, err := s.Summary(nil)
	require.NoError(t, err)
	require.Equal(t, 300, n)
	require.Equal(t, 300, s.Count())

	_, _, err = s.Summary(make([]byte, 33))
	require.ErrorContains(t, err, "reputation: summary")
	_, err = s.ListIDs(make([]byte, 33), 1)
	require.ErrorContains(t, err, "reputation: list IDs")
}
