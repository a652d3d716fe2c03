// Package reputation holds Polo's unit of evidence and its store.
//
// A task ends with a Receipt signed by the worker; the requester then issues
// an Attestation about the worker that embeds that receipt, so no attestation
// exists without a real exchange. Both travel in a canonical, versioned
// binary encoding (see Marshal), and an attestation is named by the SHA-256
// of its encoding (Attestation.ID), which is also the anti-entropy sync key.
//
// Store validates attestations (signatures, binding to the receipt, time
// window, per-pair sequence, duplicates, task replays, per-issuer rate) and
// keeps them in a Badger database under the "/polo/" key prefix, with the
// indexes the score computation and the sync protocol read. Every rejection
// is counted per Reason; nothing read from the network or the disk is
// trusted before it is decoded and verified again.
//
// The package imports no other package of this module; scores are computed
// elsewhere from what the Store returns.
package reputation
