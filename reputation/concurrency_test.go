package reputation

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// addAll adds every raw from its own goroutine, all started together, and
// returns the errors in the order of raws.
func addAll(t *testing.T, stores []*Store, raws [][]byte) []error {
	t.Helper()
	errs := make([]error, len(raws))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, raw := range raws {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			_, errs[i] = stores[i%len(stores)].Add(raw)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func TestConcurrentAdds(t *testing.T) {
	for _, nStores := range []int{1, 2} {
		t.Run(fmt.Sprintf("stores=%d", nStores), func(t *testing.T) {
			db := openMem(t)
			rules := fixedRules()
			rules.IssuerRate = -1
			var stores []*Store
			for range nStores {
				s, err := Open(db, rules)
				require.NoError(t, err)
				stores = append(stores, s)
			}
			q := identN(t, 1)

			var raws [][]byte
			// 8 distinct attestations (distinct pairs), each sent 6 times.
			distinct := map[[32]byte]bool{}
			for i := range 8 {
				raw := mustMarshal(t, build(t, spec{worker: identN(t, uint32(100+i)), requester: q}, nil))
				distinct[IDOf(raw)] = true
				for range 6 {
					raws = append(raws, raw)
				}
			}
			// 12 attestations racing for seq 1 of one pair: one may win.
			race := identN(t, 200)
			for i := range 12 {
				raws = append(raws, mustMarshal(t, build(t, spec{worker: race, requester: q, task: fmt.Sprint("race", i)}, nil)))
			}
			// Seq 1..12 of another pair, in no particular order.
			climb := identN(t, 201)
			for i := range 12 {
				raws = append(raws, mustMarshal(t, build(t, spec{
					worker: climb, requester: q, task: fmt.Sprint("climb", i), seq: uint64(i + 1),
					issuedAt: t0.Add(-time.Duration(i+1) * time.Second),
				}, nil)))
			}

			errs := addAll(t, stores, raws)
			accepted := map[[32]byte]int{}
			for i, err := range errs {
				if err == nil {
					accepted[IDOf(raws[i])]++
					continue
				}
				reason, ok := ReasonOf(err)
				require.True(t, ok, "storage error: %v", err)
				require.Contains(t, []Reason{ReasonDuplicate, ReasonSequence}, reason, "%v", err)
			}
			for id, n := range accepted {
				require.Equal(t, 1, n, "ID %x accepted %d times", id[:4], n)
			}
			for id := range distinct {
				require.Equal(t, 1, accepted[id], "every distinct attestation stored once")
			}

			s := stores[0]
			got, err := s.BySubject(race.id)
			require.NoError(t, err)
			require.Len(t, got, 1, "exactly one attestation wins seq 1")

			got, err = s.BySubject(climb.id)
			require.NoError(t, err)
			require.NotEmpty(t, got)
			seqs := map[uint64]bool{}
			var maxSeq uint64
			for _, a := range got {
				require.False(t, seqs[a.Seq], "seq %d stored twice", a.Seq)
				seqs[a.Seq], maxSeq = true, max(maxSeq, a.Seq)
			}
			last, err := s.LastSeq(q.id, climb.id)
			require.NoError(t, err)
			require.Equal(t, maxSeq, last)

			ids, err := s.ListIDs(nil, 0)
			require.NoError(t, err)
			require.Len(t, ids, len(accepted))
			var total uint64
			for _, st := range stores {
				total += st.Stats()[Accepted]
			}
			require.Equal(t, uint64(len(accepted)), total)
		})
	}
}
