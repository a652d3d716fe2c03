// Package pilot is a session layer for AI agents on libp2p. The module root
// holds no code; this comment is the map of the repository. Each top-level
// directory below is a package and may hold sub-packages of its own.
//
// addressing: how agents are named and found — identities, addresses and
// their encodings. It imports no other package of this module.
//
// dht: peer and record discovery over the libp2p Kademlia DHT, with storage
// back-ends in sub-packages such as dht/badgerds.
//
// reputation: scores peers from what they have been observed to do.
//
// gossip: publish/subscribe dissemination between agents. It validates
// attestations but leaves scoring to reputation.
//
// node: assembles dht, gossip, reputation and addressing into a running
// Pilot node; node/localapi exposes it to agents on the same machine.
//
// cmd: the pilot command-line tool, including "pilot testnet run".
//
// testnet: multi-node test networks and network simulation (testnet/natlab).
// Only cmd and _test.go files may import it.
//
// internal: small helpers that anyone may import; they import only the
// standard library and third-party modules.
//
// Dependencies point one way: cmd → node → {dht, gossip, reputation} →
// addressing. layout_test.go enforces this rule and requires a package doc
// comment in every package.
package pilot
