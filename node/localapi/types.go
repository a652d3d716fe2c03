package localapi

import (
	"context"
	"encoding/json"
	"net"
)

// Envelope is the JSON shape of every response, and of the CLI's --json
// output.
type Envelope struct {
	Status  string          `json:"status"` // "ok" or "error"
	Data    json.RawMessage `json:"data,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Hint    string          `json:"hint,omitempty"`
}

// Identity answers `pilot id`.
type Identity struct {
	Address string `json:"address"`
	PeerID  string `json:"peer_id"`
}

// Status answers `pilot status`.
type Status struct {
	Address          string   `json:"address"`
	PeerID           string   `json:"peer_id"`
	Addrs            []string `json:"addrs"` // full multiaddrs ending in /p2p/<id>
	Reachability     string   `json:"reachability"`
	DHTMode          string   `json:"dht_mode"` // "server" or "client"
	ConnectedPeers   int      `json:"connected_peers"`
	RoutingTableSize int      `json:"routing_table_size"`
	Version          string   `json:"version"`
	Home             string   `json:"home"`
	Public           bool     `json:"public"`
	Anchor           bool     `json:"anchor"`
	Bootstrap        []string `json:"bootstrap"`
	UptimeSeconds    float64  `json:"uptime_seconds"`
	// Network is "public" (the public mesh) or the short ID of the
	// node's private swarm - never its key.
	Network string `json:"network"`
	// Transports the node runs: ["tcp","quic"], or ["tcp"] in a private
	// swarm (libp2p private networks cannot carry QUIC).
	Transports []string `json:"transports"`
	// NAT is the node's guess at the NAT in front of it, from the
	// addresses peers observe it at: "public", "behind NAT (cone-like)",
	// "behind NAT (symmetric-like)", "behind NAT (type unknown)" or
	// "unknown" (docs/nat.md).
	NAT string `json:"nat"`
	// RelayReservations are the peer IDs of the anchors on which a private
	// node holds a live relay reservation.
	RelayReservations []string `json:"relay_reservations"`
	// PublishedAddrs are the addresses the node announces to everyone
	// (identify, DHT): only relay addresses for a private node.
	PublishedAddrs []string `json:"published_addrs"`
	// ReachableAddrs and UnreachableAddrs are the direct addresses AutoNAT
	// v2 confirmed reachable from outside, or found unreachable (for the
	// operator; the node does not publish them when private).
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
}

// Resolved answers `pilot resolve`.
type Resolved struct {
	Address string   `json:"address"`
	PeerID  string   `json:"peer_id"`
	Addrs   []string `json:"addrs"`
	Seq     uint64   `json:"seq"`
	Pinned  bool     `json:"pinned"` // the peer ID matches the address's pin
}

// PingRequest asks the daemon to ping an address Count times.
type PingRequest struct {
	Address string `json:"address"`
	Count   int    `json:"count"`
}

// PingResult answers `pilot ping`.
type PingResult struct {
	Address  string    `json:"address"`
	PeerID   string    `json:"peer_id"`
	Path     string    `json:"path"` // "direct" or "relayed"
	Remote   string    `json:"remote_addr"`
	Sent     int       `json:"sent"`
	Received int       `json:"received"`
	RTTsMs   []float64 `json:"rtt_ms"`
	MinMs    float64   `json:"min_ms"`
	AvgMs    float64   `json:"avg_ms"`
	MaxMs    float64   `json:"max_ms"`
}

// Peer is one connected peer.
type Peer struct {
	Address   string `json:"address"`
	PeerID    string `json:"peer_id"`
	Remote    string `json:"remote_addr"`
	Direction string `json:"direction"` // "inbound" or "outbound"
	Path      string `json:"path"`      // "direct" or "relayed"
	Transport string `json:"transport"` // "tcp", "quic", ...
}

// Peers answers `pilot peers`.
type Peers struct {
	Count int    `json:"count"`
	Peers []Peer `json:"peers"`
}

// Unpinned answers `pilot unpin`.
type Unpinned struct {
	Address string `json:"address"`
	PeerID  string `json:"peer_id"` // the peer that was pinned; "" if none was
	Removed bool   `json:"removed"`
}

// Backend is what the server exposes; the daemon's node implements it.
// Methods are called concurrently from HTTP handler goroutines and must be
// safe for that; returned errors should be *Error where a code is known.
// Embed UnsupportedBackend to implement only part of it.
type Backend interface {
	Identity() Identity
	Status(ctx context.Context) (Status, error)
	Resolve(ctx context.Context, address string) (Resolved, error)
	Ping(ctx context.Context, req PingRequest) (PingResult, error)
	Peers(ctx context.Context) (Peers, error)
	Unpin(ctx context.Context, address string) (Unpinned, error)
	SessionBackend
	PoloBackend
	DoctorBackend
}

// SessionBackend is the session layer: services, trust, ports, tunnels,
// profile and discovery.
type SessionBackend interface {
	Echo(ctx context.Context, req EchoRequest) (EchoResult, error)
	Send(ctx context.Context, req SendRequest) (SendResult, error)
	Inbox(ctx context.Context) (InboxList, error)
	InboxGet(ctx context.Context, id string) (InboxMessage, error)
	InboxDelete(ctx context.Context, id string) (Deleted, error)
	Publish(ctx context.Context, req PublishRequest) (Published, error)
	// Subscribe calls emit for every message on topic until ctx ends or
	// emit fails; count > 0 stops after that many.
	Subscribe(ctx context.Context, topic string, count int, emit func(TopicEvent) error) error
	// Events calls emit for every local event until ctx ends or emit fails.
	Events(ctx context.Context, emit func(LocalEvent) error) error
	Trust(ctx context.Context, req TrustRequest) (TrustRecord, error)
	TrustList(ctx context.Context, pendingOnly bool) (TrustList, error)
	SetPortPolicy(ctx context.Context, req PortPolicyRequest) (PortInfo, error)
	Ports(ctx context.Context) (PortList, error)
	Expose(ctx context.Context, req ExposeRequest) (Tunnel, error)
	Forward(ctx context.Context, req ForwardRequest) (Tunnel, error)
	Tunnels(ctx context.Context) (TunnelList, error)
	CloseTunnel(ctx context.Context, id string) (Tunnel, error)
	SetProfile(ctx context.Context, req ProfileRequest) (Profile, error)
	Find(ctx context.Context, req FindRequest) (FindResult, error)
	// DialPort opens a stream to address:port for `pilot connect`.
	DialPort(ctx context.Context, address string, port uint16) (net.Conn, error)
	// AcceptPort opens port and waits for one inbound stream, for
	// `pilot listen`; the port closes again when ctx ends or a stream is
	// accepted.
	AcceptPort(ctx context.Context, port uint16) (net.Conn, error)
}
