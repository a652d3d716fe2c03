package gossip

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// memStore is an in-memory SyncStore: a map and the sorted IDs. Add takes
// only items that start with "ok" (unless valid says otherwise), so tests
// can inject invalid ones with seed.
type memStore struct {
	mu    sync.Mutex
	items map[[32]byte][]byte
	ids   [][32]byte // ascending
	valid func(raw []byte) bool
}

var errInvalidItem = errors.New("invalid item")

func newMemStore() *memStore {
	return &memStore{items: make(map[[32]byte][]byte)}
}

// seed stores items without validation (a hostile peer's store, or a
// quick set-up), sorting once.
func (m *memStore) seed(items ...[]byte) *memStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, raw := range items {
		id := sha256.Sum256(raw)
		if _, ok := m.items[id]; !ok {
			m.items[id] = raw
			m.ids = append(m.ids, id)
		}
	}
	slices.SortFunc(m.ids, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return m
}

// rangeOf returns the positions [lo, hi) of the IDs starting with prefix.
func (m *memStore) rangeOf(prefix []byte) (int, int) {
	lo := sort.Search(len(m.ids), func(i int) bool { return bytes.Compare(m.ids[i][:], prefix) >= 0 })
	hi := lo + sort.Search(len(m.ids)-lo, func(i int) bool { return !bytes.HasPrefix(m.ids[lo+i][:], prefix) })
	return lo, hi
}

func (m *memStore) Summary(prefix []byte) (int, [32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo, hi := m.rangeOf(prefix)
	var fp [32]byte
	for _, id := range m.ids[lo:hi] {
		for j := range fp {
			fp[j] ^= id[j]
		}
	}
	return hi - lo, fp, nil
}

func (m *memStore) ListIDs(prefix []byte, limit int) ([][32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo, hi := m.rangeOf(prefix)
	hi = min(hi, lo+max(limit, 0))
	return slices.Clone(m.ids[lo:hi]), nil
}

func (m *memStore) Get(id [32]byte) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.items[id]
	return raw, ok, nil
}

func (m *memStore) Add(raw []byte) error {
	if m.valid != nil && !m.valid(raw) || m.valid == nil && !bytes.HasPrefix(raw, []byte("ok")) {
		return fmt.Errorf("%w: %.10q", errInvalidItem, raw)
	}
	id := sha256.Sum256(raw)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[id]; ok {
		return nil
	}
	m.items[id] = slices.Clone(raw)
	i, _ := slices.BinarySearchFunc(m.ids, id, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	m.ids = slices.Insert(m.ids, i, id)
	return nil
}

// Len returns the number of items.
func (m *memStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}

// IDs returns a copy of the sorted IDs.
func (m *memStore) IDs() [][32]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ids)
}

// makeItems returns n valid items ("ok" + tag + index).
func makeItems(tag string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "ok/%s/%d", tag, i)
	}
	return out
}

// unionIDs returns the sorted union of the IDs of the items.
func unionIDs(sets ...[][]byte) [][32]byte {
	m := newMemStore()
	for _, s := range sets {
		m.seed(s...)
	}
	return m.IDs()
}
