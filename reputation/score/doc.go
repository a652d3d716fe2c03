// Package score computes Polo, a node's own view of every peer's reputation,
// from the attestations it holds.
//
// Each attestation becomes one [Evidence]: an issuer (the requester who
// vouches) says a subject (the worker) did, or failed, a task. The [Engine]
// turns evidence into local trust per (issuer, subject) pair — time-decayed,
// saturating per pair so that repeating tasks cannot stuff the ballot, with
// failures weighing double — normalises it per issuer as in EigenTrust
// (Kamvar et al., 2003), and runs a personalised, damped power iteration
// anchored on the node itself and the peers it explicitly trusts. The global
// trust t_i of every peer is finally shown on the Polo scale, an integer in
// [0, 1000] (see [PoloOf]).
//
// The view is personal: two nodes with the same evidence but different
// anchors see different scores, and a collective of identities that nobody
// you (transitively) trust has vouched for gets exactly zero, however much
// its members vouch for each other.
//
// [Choose] uses Polo for partner choice with a share of exploration for
// newcomers, and [GossipScore] maps it to gossipsub's application-specific
// peer score.
//
// Validation of attestations (signatures, receipts, time window, sequence
// numbers, de-duplication, rate limits) happens before evidence reaches this
// package; the Engine trusts what it is given.
package score
