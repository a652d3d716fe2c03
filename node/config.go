package node

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pilot-agents/pilot/node/swarmkey"
	"github.com/pilot-agents/pilot/node/task"
)

// Version is the Pilot software version reported by status and identify.
const Version = "0.1.0"

// DefaultPort is the TCP and UDP (QUIC) port a daemon listens on unless
// told otherwise, so anchors have a stable, documented address.
const DefaultPort = "4410"

// DefaultListenAddrs are the daemon's listen addresses: TCP and QUIC on
// every IPv4 and IPv6 interface, port DefaultPort.
var DefaultListenAddrs = []string{
	"/ip4/0.0.0.0/tcp/" + DefaultPort,
	"/ip4/0.0.0.0/udp/" + DefaultPort + "/quic-v1",
	"/ip6/::/tcp/" + DefaultPort,
	"/ip6/::/udp/" + DefaultPort + "/quic-v1",
}

// Config configures a Node. Every field documents its default: the value a
// zero field takes. Start from a preset (DaemonConfig, AnchorConfig,
// TestnetConfig) rather than from the zero value.
type Config struct {
	// Home is the data folder: identity.key, store/ (Badger) and the
	// local API socket live there. Default DefaultHome(). Ignored for the
	// key and store when InMemory is set.
	Home string
	// ListenAddrs are multiaddrs to listen on. Default DefaultListenAddrs.
	ListenAddrs []string
	// Bootstrap lists multiaddrs ending in /p2p/<peer ID> of peers to join
	// the mesh through. Default none: the node is the first of a new mesh.
	Bootstrap []string
	// Anchor makes the node a public bootstrap node: DHT server, AutoNAT
	// service, reachability forced public. Default false.
	Anchor bool
	// Public makes the node announce its direct addresses and run the DHT
	// as a server. Default false (private; see docs/privacy.md).
	Public bool
	// MDNS finds peers on the local network by multicast DNS. Default
	// false in the zero Config; DaemonConfig turns it on.
	MDNS bool
	// AutoNATv2 runs go-libp2p's AutoNAT v2, which checks each direct
	// address on its own (status: reachable_addrs / unreachable_addrs).
	// Only anchors answer other nodes' checks (docs/nat.md). Default false
	// in the zero Config (it adds a dial-back host per node, too heavy for
	// a thousand-node testnet); DaemonConfig turns it on.
	AutoNATv2 bool
	// MDNSService is the mDNS service name. Default "pilot".
	MDNSService string
	// APISocket is the Unix socket path of the local API. Default ""
	// (no local API); DaemonConfig sets Home/pilot.sock.
	APISocket string
	// DHTMode is "server", "client" or "auto". Default "": chosen from the
	// other fields (see ChooseDHTMode and docs/dht.md).
	DHTMode string
	// ProtocolPrefix is the DHT protocol prefix. Default "/pilot".
	ProtocolPrefix string
	// InMemory keeps the identity and the store in memory only: nothing is
	// written to Home. Default false; TestnetConfig sets it.
	InMemory bool
	// ConnLow and ConnHigh are the connection manager's water marks.
	// Default 64 and 160 (192 and 320 for anchors); ConnHigh must stay
	// below the resource manager's connection limit (192 for the default
	// ResourceMemory, 384 for the anchor's).
	ConnLow, ConnHigh int
	// ResourceMemory is the memory the resource manager lets libp2p use.
	// Default 512 MiB (2 GiB for anchors).
	ResourceMemory int64
	// ResourceFDs is the file descriptors the resource manager lets
	// libp2p use. Default 1024 (4096 for anchors).
	ResourceFDs int
	// RepublishInterval between publications of the address record.
	// Default 10 minutes.
	RepublishInterval time.Duration
	// ResolveTimeout bounds one address resolution. Default 20 seconds.
	ResolveTimeout time.Duration
	// ResolveQuorum is how many DHT peers must answer before a lookup
	// returns the best record. Default 3.
	ResolveQuorum int
	// RelayMaxReservations bounds the relay reservations an anchor holds.
	// Default 1024.
	RelayMaxReservations int
	// RelayReservationsPerIP bounds an anchor's reservations from one IP
	// address, so one abusive machine cannot take them all; it stays well
	// above 1 because many honest nodes share one NAT. Default 256.
	RelayReservationsPerIP int
	// BootstrapTimeout bounds each connection to a bootstrap peer at
	// start. Default 10 seconds.
	BootstrapTimeout time.Duration
	// DirectWait is how long DialBulk waits for a direct path to a trusted
	// peer reached only through a relay before it uses the relay. Default
	// 5 seconds (DefaultDirectWait; docs/nat.md).
	DirectWait time.Duration

	// TaskHandler, if set, is a command (program and arguments, no
	// shell) that runs every admitted task: the task as JSON on stdin, the
	// result as JSON on stdout, exit code 0 for success (node/task).
	// Default none: tasks wait for `pilot task accept` by hand.
	TaskHandler []string
	// TaskHandlerTimeout bounds one run of TaskHandler. Default 60 s.
	TaskHandlerTimeout time.Duration
	// TaskFunc, if set, runs every admitted task in-process instead of a
	// TaskHandler command (set at most one of them): it returns the result
	// (JSON) or, for a failed task, the error text. It is called from the
	// task service's goroutines, at most 4 at once, concurrently for
	// different tasks; ctx ends when the task is cancelled or expires or
	// the node closes (task.Config.Func). Default nil.
	TaskFunc func(ctx context.Context, t task.Task) (json.RawMessage, string)
	// TaskMinPolo admits tasks from untrusted peers whose Polo score (in
	// this node's view) is at least this; TaskGateTrustedOnly (-1) admits
	// only trusted peers. Default: the zero Config admits anyone with Polo
	// ≥ 0, i.e. everyone; DaemonConfig sets TaskGateTrustedOnly.
	TaskMinPolo int

	// SwarmKey, when set, runs the node in that private swarm instead of
	// the public mesh: a libp2p private network (TCP only) with the
	// swarm's own DHT prefix, gossip topics and mDNS service name
	// (docs/swarm.md). Default nil: the public mesh.
	SwarmKey *swarmkey.Key

	// Metrics, if set, receives the node's Prometheus metrics: Pilot's own
	// (pilot_*) and go-libp2p's (libp2p_*, including the resource
	// manager's). Give each node its own registry; New refuses a
	// registry another node already uses. Serving it is the caller's business (`pilot up
	// --metrics`, docs/observability.md). Default nil: Pilot's metrics go
	// to a private registry nobody reads and go-libp2p's are off.
	Metrics prometheus.Registerer

	// hostOptions are extra libp2p options, appended last. Tests use them
	// to put the host on go-libp2p's simulated network (simnet_test.go).
	hostOptions []libp2p.Option
	// relayDiscoverEvery overrides relayDiscoverEvery (tests).
	relayDiscoverEvery time.Duration
}

// DefaultHome is $PILOT_HOME, else ~/.pilot (./.pilot if there is no home
// directory).
func DefaultHome() string {
	if h := os.Getenv("PILOT_HOME"); h != "" {
		return h
	}
	if u, err := os.UserHomeDir(); err == nil && u != "" {
		return filepath.Join(u, ".pilot")
	}
	return ".pilot"
}

// DaemonConfig is the preset for `pilot up`: persistent identity and store
// under home, the local API on home/pilot.sock, mDNS on.
func DaemonConfig(home string) Config {
	if home == "" {
		home = DefaultHome()
	}
	return Config{
		Home:        home,
		MDNS:        true,
		AutoNATv2:   true,
		TaskMinPolo: TaskGateTrustedOnly,
		APISocket:   filepath.Join(home, "pilot.sock"),
	}
}

// AnchorConfig is the preset for `pilot up --anchor`: a daemon that is a
// public bootstrap node with larger connection limits. mDNS stays off:
// anchors live on public networks.
func AnchorConfig(home string) Config {
	c := DaemonConfig(home)
	c.Anchor = true
	c.Public = true
	c.MDNS = false
	c.ConnLow, c.ConnHigh = 192, 320
	c.ResourceMemory = 2 << 30
	c.ResourceFDs = 4096
	return c
}

// TestnetConfig is the preset for many nodes in one process on loopback:
// in-memory identity and store, TCP on 127.0.0.1 with a kernel-chosen port,
// DHT server mode, no mDNS, small limits, quick republishing.
func TestnetConfig() Config {
	return Config{
		ListenAddrs:       []string{"/ip4/127.0.0.1/tcp/0"},
		Public:            true,
		InMemory:          true,
		DHTMode:           "server",
		ConnLow:           16,
		ConnHigh:          64,
		ResourceMemory:    128 << 20,
		ResourceFDs:       256,
		RepublishInterval: time.Minute,
		ResolveTimeout:    10 * time.Second,
		BootstrapTimeout:  5 * time.Second,
	}
}

func (c *Config) applyDefaults() {
	if c.Home == "" {
		c.Home = DefaultHome()
	}
	c.swarmDefaults()
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = DefaultListenAddrs
	}
	if c.MDNSService == "" {
		c.MDNSService = "pilot"
	}
	if c.ProtocolPrefix == "" {
		c.ProtocolPrefix = "/pilot"
	}
	if c.ConnLow <= 0 {
		c.ConnLow = 64
	}
	if c.ConnHigh <= 0 {
		c.ConnHigh = max(160, c.ConnLow+1)
	}
	if c.ResourceMemory <= 0 {
		c.ResourceMemory = 512 << 20
	}
	if c.ResourceFDs <= 0 {
		c.ResourceFDs = 1024
	}
	if c.RelayMaxReservations <= 0 {
		c.RelayMaxReservations = 1024
	}
	if c.RelayReservationsPerIP <= 0 {
		c.RelayReservationsPerIP = 256
	}
	if c.BootstrapTimeout <= 0 {
		c.BootstrapTimeout = 10 * time.Second
	}
}
