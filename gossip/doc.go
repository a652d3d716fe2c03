// Package gossip is Pilot's gossipsub layer: fast, best-effort fan-out of
// signed messages to every node that subscribes to a topic.
//
// The package has two layers.
//
// The core (New, PubSub, Raw, Stats) owns one go-libp2p-pubsub gossipsub
// instance per host: strict message signing, peer exchange off, peers only
// from the host's existing connections (unless Config.Discovery is set),
// pubsub's logs routed into go-log. It shares joined topics between their
// users with a reference count, registers a validator per topic and counts
// every rejected or dropped message. Later topics (Polo attestations) are
// built on this core and must join their topics through it, not through
// Raw().Join, which would collide with the shared handle.
//
// The event stream (Publish, Subscribe, Relay, WaitForPeers) is Pilot's
// network-wide publish/subscribe service of well-known port 1002, as in
// `pilot publish <topic> <text>` and `pilot subscribe <topic>`. A user topic
// name (ValidTopic: 1–64 characters of [a-z0-9._-]) maps to the pubsub topic
// Config.TopicPrefix + name. Bodies are opaque bytes passed through as they
// are: no envelope of Pilot's own; author, sequence number and signature are
// pubsub's. Delivery is best-effort: no history, no catch-up for late
// subscribers, messages published before the mesh forms may be lost, and no
// ordering across publishers. docs/events.md says what that means for users
// and where Pilot keeps the truth instead.
//
// Polo (docs/polo.md) adds two things. JoinPolo joins the attestation
// topic, whose validator is the reputation store's Add: accepted messages
// are already stored, duplicates are ignored (no penalty), invalid ones
// rejected (penalised when Config.AppScore turns on gossipsub's peer
// scoring, whose application-specific part is the peer's Polo). PoloSync
// is the anti-entropy protocol /pilot/polo-sync/1.0.0: a recursive
// comparison of (count, XOR fingerprint) summaries over ID prefixes that
// costs in proportion to the difference between two stores, not their
// size, so late joiners and nodes back from a partition catch up.
//
// Every method of PubSub and Subscription is safe for concurrent use.
package gossip
