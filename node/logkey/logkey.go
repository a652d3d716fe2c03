// Package logkey is the fixed vocabulary of attribute keys in Pilot's
// structured logs (node and its sub-packages). A key means the same thing
// in every message, so `GOLOG_LOG_FMT=json pilot up 2>&1 | jq 'select(.peer
// == "12D3KooW…")'` follows one peer through every subsystem.
// docs/observability.md lists the keys for operators.
//
// Log call sites use these constants, never string literals:
//
//	log.Warnw("bootstrap peer unreachable", logkey.Peer, ai.ID, logkey.Err, err)
package logkey

// The keys. Values are what the comment says, in their usual text form.
const (
	// Peer is a libp2p peer ID: the remote party of the event.
	Peer = "peer"
	// Relay is the peer ID of a relay (an anchor or a relay found in the
	// DHT) the event is about.
	Relay = "relay"
	// Addr is a Pilot address, like 3f2a.91c0.7d14.
	Addr = "addr"
	// Maddr is a multiaddr, or a list of them.
	Maddr = "maddr"
	// Port is a Pilot port number.
	Port = "port"
	// Proto is a libp2p protocol ID.
	Proto = "proto"
	// Topic is a pubsub topic name.
	Topic = "topic"
	// Task is a task ID.
	Task = "task"
	// Kind is the kind of a message, frame or event (request, approve,
	// trusted, submit, ...).
	Kind = "kind"
	// State is the state something is in after the event (trusted,
	// succeeded, ...).
	State = "state"
	// Reason is a stable word for why something was refused or failed
	// (decode, signature, trust_required, ...).
	Reason = "reason"
	// Status is the status code of a protocol reply (a task frame's
	// answer, ...).
	Status = "status"
	// Err is the error, as text.
	Err = "err"
	// Dur is a duration: how long something took, or will wait.
	Dur = "dur"
	// Until is a point in time at which something ends (a reservation's
	// expiry).
	Until = "until"
	// Count is a number of things the event is about.
	Count = "count"
	// Total is what Count is out of.
	Total = "total"
	// Attempt is the 1-based number of a retried attempt.
	Attempt = "attempt"
	// Key is a store key.
	Key = "key"
	// Reachability is public, private or unknown (AutoNAT).
	Reachability = "reachability"
	// DHTMode is the DHT mode: server or client.
	DHTMode = "dht"
)
