// Package trust implements Pilot's bilateral trust handshake.
//
// Nodes are private by default; trust between two agents is explicit and
// mutual. One side sends a signed request carrying a short justification to
// the other's trust protocol (/pilot/trust/1.0.0, Pilot's well-known port
// 444). The request waits as incoming-pending until the receiving operator
// approves or rejects it; two requests that cross (mutual requests)
// auto-approve; either side can revoke at any time.
//
// Every message is a small length-prefixed binary frame, signed with the
// sender's Ed25519 libp2p identity key over a domain-separated payload, bound
// to the sender and the receiver, stamped with an issue time and a
// per-sender strictly increasing sequence number. A receiver rejects frames
// outside the time window and frames whose sequence number is not above the
// last one it accepted from that sender (kept in Badger, so replays are also
// rejected across restarts).
//
// State lives in Badger under the "/trust/" key prefix. Messages to peers
// that cannot be reached are kept in a persistent outbox (one entry per peer,
// the newest message superseding older ones) and retried with exponential
// backoff until the peer acknowledges them, also across restarts.
//
// Trust pins the full peer ID, never the 48-bit address: Record.Addr is
// derived from the peer ID for display only. See docs/trust.md.
package trust

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/pilot-agents/pilot/addressing"
)

// ProtocolID is the libp2p protocol of the trust handshake (Pilot port 444).
var ProtocolID protocol.ID = "/pilot/trust/1.0.0"

// ServiceName is the resource-manager service set on every trust stream, so
// the node can give the handshake its own limits.
const ServiceName = "pilot.trust"

// State is the trust state of one remote peer.
type State string

// The trust states. A peer with no record is StateNone.
const (
	StateNone            State = "none"
	StateOutgoingPending State = "outgoing_pending" // we requested, waiting for them
	StateIncomingPending State = "incoming_pending" // they requested, waiting for our operator
	StateTrusted         State = "trusted"
	StateRejected        State = "rejected"
	StateRevoked         State = "revoked"
)

// Direction values of Record.Direction and Event.Direction: whose message
// produced the current state.
const (
	DirectionOutgoing = "outgoing" // our action (our request, approve, reject or revoke)
	DirectionIncoming = "incoming" // the peer's message
)

// Event kinds.
const (
	EventRequestReceived = "request_received"
	EventRequestSent     = "request_sent"
	EventTrusted         = "trusted"
	EventRejected        = "rejected"
	EventRevoked         = "revoked"
)

// MaxMessageLen is the largest justification, in bytes of UTF-8.
const MaxMessageLen = 1024

// Record is the trust record of one remote peer.
type Record struct {
	PeerID peer.ID
	// Addr is the peer's Pilot address, derived from PeerID (display only:
	// trust is pinned to the full peer ID).
	Addr  addressing.Addr
	State State
	// Message is the justification of the latest request: theirs for an
	// incoming request, ours for an outgoing one.
	Message string
	Created time.Time
	Updated time.Time
	// Direction says whose message produced State: DirectionOutgoing (ours)
	// or DirectionIncoming (the peer's). For StateRejected it tells "we
	// rejected them" from "they rejected us".
	Direction string
}

// Event reports a change of trust state.
type Event struct {
	Kind      string // one of the Event* constants
	Peer      peer.ID
	Message   string // the justification, for request events
	At        time.Time
	Direction string // DirectionOutgoing for our own actions, DirectionIncoming for the peer's
}

// OutboxEntry is a message waiting for delivery to a peer.
type OutboxEntry struct {
	Peer     peer.ID
	Kind     string // "request", "approve", "reject" or "revoke"
	Created  time.Time
	Attempts int
	NextTry  time.Time
	LastErr  string
}

// Sentinel errors; every error returned wraps one of these or a lower-level
// cause, so callers can map them to error codes with errors.Is.
var (
	ErrSelf           = errors.New("trust: cannot trust yourself")
	ErrInvalidPeer    = errors.New("trust: invalid peer ID")
	ErrMessageTooLong = errors.New("trust: justification longer than 1 KiB")
	ErrInvalidMessage = errors.New("trust: justification is not valid UTF-8")
	ErrNotFound       = errors.New("trust: no trust record for peer")
	ErrNotPending     = errors.New("trust: no incoming request pending from peer")
	ErrAlreadyTrusted = errors.New("trust: peer already trusted")
	ErrInvalidState   = errors.New("trust: operation not valid in the current state")
	ErrNotRunning     = errors.New("trust: manager not running")
)

// Config configures a Manager. Every zero field takes the documented default.
type Config struct {
	// Host is the libp2p host (required).
	Host host.Host
	// Key is the host's identity key; it must be Ed25519 and match Host.ID().
	// Default: the key of Host.ID() from the host's peerstore.
	Key crypto.PrivKey
	// DB is the node's Badger database (required). Keys under "/trust/" are
	// owned by this package. Open it with SyncWrites for durability.
	DB *badger.DB
	// OnEvent, if set, receives every state change, in order, from a single
	// internal goroutine (never concurrently with itself). It must not block
	// for long: events queue in a buffer of EventBuffer and overflow is
	// dropped (counted as "events_dropped"). It may call the Manager's
	// methods, except Close.
	OnEvent func(Event)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Dial, if set, is called before each delivery attempt to a peer the
	// host is not connected to, e.g. to find the peer's addresses in the DHT
	// and connect. Its error is only logged: the attempt still tries
	// NewStream. Default nil (the host dials addresses in its peerstore).
	Dial func(ctx context.Context, p peer.ID) error

	// AttemptTimeout bounds one delivery attempt (dial, write, ack), also the
	// synchronous one made by Request, Approve, Reject and Revoke.
	// Default 5 s.
	AttemptTimeout time.Duration
	// RetryInitial is the outbox backoff after the first failed attempt; it
	// doubles with every failure up to RetryMax, with jitter (each wait is
	// drawn from [d/2, d]). Defaults 1 s and 5 min.
	RetryInitial time.Duration
	RetryMax     time.Duration
	// MaxConcurrentSends bounds concurrent outbox deliveries. Default 16.
	MaxConcurrentSends int

	// MaxAge rejects frames issued longer ago than this. Default 10 min.
	MaxAge time.Duration
	// MaxFuture rejects frames issued further in the future. Default 2 min.
	MaxFuture time.Duration
	// StreamTimeout bounds reading and answering one inbound frame.
	// Default 10 s.
	StreamTimeout time.Duration
	// MaxInboundStreams bounds inbound frames handled at once; more are
	// reset (counted as "rejected_busy"). Default 64.
	MaxInboundStreams int

	// RequestsPerMinute is the most requests accepted from one peer per
	// minute. Default 5.
	RequestsPerMinute int
	// FramesPerMinute is the most frames of any kind handled from one peer
	// per minute. Default 30.
	FramesPerMinute int
	// MaxIncomingPending is the most incoming-pending requests stored at
	// once; further new requests are refused until the operator decides.
	// Default 1000.
	MaxIncomingPending int
	// RejectCooldown: after our operator rejects a peer, its new requests
	// are ignored for this long; afterwards a new request is pending again.
	// Default 24 h.
	RejectCooldown time.Duration
	// EventBuffer is the capacity of the OnEvent queue. Default 256.
	EventBuffer int
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AttemptTimeout, 5*time.Second)
	def(&c.RetryInitial, time.Second)
	def(&c.RetryMax, 5*time.Minute)
	if c.RetryMax < c.RetryInitial {
		c.RetryMax = c.RetryInitial
	}
	def(&c.MaxAge, 10*time.Minute)
	def(&c.MaxFuture, 2*time.Minute)
	def(&c.StreamTimeout, 10*time.Second)
	def(&c.RejectCooldown, 24*time.Hour)
	defInt(&c.MaxConcurrentSends, 16)
	defInt(&c.MaxInboundStreams, 64)
	defInt(&c.RequestsPerMinute, 5)
	defInt(&c.FramesPerMinute, 30)
	defInt(&c.MaxIncomingPending, 1000)
	defInt(&c.EventBuffer, 256)
}
