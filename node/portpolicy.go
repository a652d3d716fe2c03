package node

import (
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// portPolicy decides who may open which port: everyone on a public port,
// only trusted peers elsewhere. Public ports persist in the store under
// "/node/ports/public/<n>". Only the trust handshake (its own protocol,
// port 444) is open to all by default.
type portPolicy struct {
	db      *badger.DB
	trusted func(peer.ID) bool
	// gated are ports whose service decides admission itself (the task
	// port: its gate checks trust or Polo, and only a task's parties may
	// update it).
	gated map[uint16]bool

	mu     sync.RWMutex
	public map[uint16]bool
}

const publicPortPrefix = "/node/ports/public/"

func newPortPolicy(db *badger.DB, trusted func(peer.ID) bool) (*portPolicy, error) {
	pp := &portPolicy{db: db, trusted: trusted, public: make(map[uint16]bool)}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(publicPortPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key()[len(publicPortPrefix):])
			n, err := strconv.ParseUint(k, 10, 16)
			if err != nil {
				return fmt.Errorf("corrupt public-port key %q", it.Item().Key())
			}
			pp.public[uint16(n)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: load port policy: %w", err)
	}
	return pp, nil
}

// Allowed implements ports.Policy; called concurrently from stream
// handlers.
func (pp *portPolicy) Allowed(p peer.ID, port uint16) bool {
	pp.mu.RLock()
	public := pp.public[port]
	pp.mu.RUnlock()
	return public || pp.gated[port] || pp.trusted(p)
}

// set makes port public or private, durably.
func (pp *portPolicy) set(port uint16, public bool) error {
	key := []byte(publicPortPrefix + strconv.FormatUint(uint64(port), 10))
	err := pp.db.Update(func(txn *badger.Txn) error {
		if public {
			return txn.Set(key, nil)
		}
		return txn.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("node: set port %d policy: %w", port, err)
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if public {
		pp.public[port] = true
	} else {
		delete(pp.public, port)
	}
	return nil
}

// publicPorts lists the public ports in order.
func (pp *portPolicy) publicPorts() []uint16 {
	pp.mu.RLock()
	defer pp.mu.RUnlock()
	out := make([]uint16, 0, len(pp.public))
	for p := range pp.public {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// SetPortPublic opens port to untrusted peers (public) or closes it to them.
func (n *Node) SetPortPublic(port uint16, public bool) error {
	if err := n.running(); err != nil {
		return err
	}
	if err := n.policy.set(port, public); err != nil {
		return err
	}
	p, _ := n.dht.Profile() // the profile lists the public ports
	return n.publishProfile(p)
}

// PublicPorts lists the ports open to untrusted peers.
func (n *Node) PublicPorts() []uint16 {
	if n.policy == nil {
		return nil
	}
	return n.policy.publicPorts()
}

// trusted reports whether p is trusted; with no trust manager nobody is.
func (n *Node) trusted(p peer.ID) bool {
	return n.trust != nil && n.trust.IsTrusted(p)
}

// trustStore is what the port policy needs from trust.
type trustStore interface {
	IsTrusted(peer.ID) bool
}
