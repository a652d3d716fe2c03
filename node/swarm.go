package node

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	ma "github.com/multiformats/go-multiaddr"
)

// Private swarms (docs/swarm.md): a node with Config.SwarmKey runs in a
// libp2p private network sealed by that pre-shared key. Every connection
// starts with the PSK handshake, so a node without the key fails before
// it sees a peer ID, a protocol or a record. On top of that seal the swarm
// has its own DHT protocol prefix, gossip topics and mDNS service name,
// all derived from the key, and a home folder belongs to one network for
// good, so two swarms - or a swarm and the public mesh - never mix.
//
// A libp2p private network runs over TCP only: QUIC has no place for the
// PSK handshake.

// PublicNetwork is Network's value for the public mesh.
const PublicNetwork = "public"

// Network is "public" or the short ID of the node's swarm (never the key).
func (c *Config) Network() string {
	if c.SwarmKey == nil {
		return PublicNetwork
	}
	return c.SwarmKey.ID()
}

// Transports are the transports the node runs: TCP and QUIC, or TCP alone
// in a private swarm.
func (c *Config) Transports() []string {
	if c.SwarmKey != nil {
		return []string{"tcp"}
	}
	return []string{"tcp", "quic"}
}

// swarmDefaults fills in what a swarm derives from its key: TCP-only
// default listen addresses, the DHT prefix and the mDNS service name.
func (c *Config) swarmDefaults() {
	k := c.SwarmKey
	if k == nil {
		return
	}
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = tcpOnly(DefaultListenAddrs)
	}
	if c.ProtocolPrefix == "" {
		c.ProtocolPrefix = k.ProtocolPrefix()
	}
	if c.MDNSService == "" {
		c.MDNSService = "pilot-" + k.Namespace()
	}
}

// checkSwarm refuses a swarm configuration that could not be sealed or
// would mix with another network.
func checkSwarm(c Config) error {
	k := c.SwarmKey
	if k == nil {
		return nil
	}
	for _, s := range c.ListenAddrs {
		if isQUIC(s) {
			return fmt.Errorf("node: listen address %s: a private swarm runs over TCP only (libp2p private networks cannot carry QUIC); listen on /tcp addresses", s)
		}
	}
	if c.ProtocolPrefix != k.ProtocolPrefix() {
		return fmt.Errorf("node: DHT prefix %q: swarm %s uses %q", c.ProtocolPrefix, k.ID(), k.ProtocolPrefix())
	}
	return nil
}

// topicPrefix is the gossip topic prefix of the node's network.
func (c *Config) topicPrefix() string {
	if c.SwarmKey == nil {
		return "" // gossip's default, the public mesh's
	}
	return "/pilot/" + c.SwarmKey.Namespace() + "/events/1.0.0/"
}

func isQUIC(s string) bool {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return strings.Contains(s, "/quic")
	}
	_, errV1 := m.ValueForProtocol(ma.P_QUIC_V1)
	_, errOld := m.ValueForProtocol(ma.P_QUIC)
	return errV1 == nil || errOld == nil
}

func tcpOnly(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if !isQUIC(a) {
			out = append(out, a)
		}
	}
	return out
}

// networkKey holds, in the store, the network the home folder belongs to.
var networkKey = []byte("meta/network")

// ErrOtherNetwork means the home folder belongs to another network (the
// public mesh or another swarm) than the one the node was started in.
var ErrOtherNetwork = errors.New("node: the home folder belongs to another network")

// bindNetwork records the node's network in a fresh store and refuses a
// store that belongs to another one: its DHT records, pins, trust list
// and remembered peers are that network's, and must not leak into this
// one.
func bindNetwork(db *badger.DB, network string) error {
	return db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(networkKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(networkKey, []byte(network))
		}
		if err != nil {
			return fmt.Errorf("node: read the store's network: %w", err)
		}
		return item.Value(func(v []byte) error {
			if string(v) != network {
				return fmt.Errorf("%w: it is %s's, this node was started in %s; use another --home", ErrOtherNetwork, describeNetwork(string(v)), describeNetwork(network))
			}
			return nil
		})
	})
}

func describeNetwork(n string) string {
	if n == PublicNetwork {
		return "the public mesh"
	}
	if len(n) > 24 {
		n = n[:24] + "…" // a corrupt value must not flood the message
	}
	return "swarm " + n
}
