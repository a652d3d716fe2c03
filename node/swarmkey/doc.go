// Package swarmkey is the pre-shared key (PSK) of a private Pilot swarm.
//
// Only nodes holding the same 32-byte key can talk to each other: libp2p
// encrypts every connection with it before any other handshake (pass
// Key.Bytes to libp2p.PrivateNetwork). The key file has the format of IPFS
// private networks, go-libp2p's pnet "V1 PSK", so a swarm.key made for IPFS
// works here and one written here works with IPFS:
//
//	/key/swarm/psk/1.0.0/
//	/base16/
//	<64 hex digits>
//
// Encode and Write produce that base16 form. Parse and Load also accept
// "/base64/" (standard, padded base64 of the 32 bytes) and "/bin/" (the 32
// raw bytes) as the second line. Lines end in "\n" or "\r\n"; only
// whitespace may follow the key.
//
// A Key is a secret. Its public name is ID, a short hash from which the key
// cannot be recovered; ProtocolPrefix and Namespace are derived from ID.
// fmt prints a Key, with any verb, as "swarm <ID>", so logging one is safe;
// the key material comes out only through Bytes, Encode or Write. Two
// caveats: fmt cannot call methods on unexported struct fields, so a struct
// printed with %v shows the raw bytes of a Key held in an unexported field
// (hold a *Key there, or give the struct its own String), and encoding/json
// writes the raw array (Key has no MarshalText on purpose: don't marshal it).
//
// Test vector: the key whose bytes are 0, 1, …, 31 (base16
// 000102…1e1f) has ID "667e40e545ae".
package swarmkey
