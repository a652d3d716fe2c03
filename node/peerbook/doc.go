// Package peerbook is a node's memory of the peers it has met, kept in the
// node's Badger database.
//
// After a restart the node can re-join the mesh through the peers it
// remembers, even when every configured bootstrap node is gone. The book is
// small and bounded (Options.Max entries, Options.MaxAge old at most), keeps
// only direct addresses (no relay circuits, no /p2p suffix) and treats
// whatever it reads back from disk as untrusted: an entry that does not
// decode is skipped and deleted, never fatal.
//
// Badger layout: one key per peer, "peerbook/" followed by the raw peer ID
// bytes; the value is the versioned binary encoding of encodeEntry.
package peerbook
