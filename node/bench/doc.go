// Package bench measures Pilot's data paths against the baselines a user
// would otherwise pick, each measured in the same run on the same machine:
// raw TCP on loopback, a bare libp2p stream, and a Pilot port stream, over
// libp2p's TCP and QUIC transports, and a TCP connection through a Pilot
// tunnel (forward and expose) against direct TCP. Real nodes (node.New
// with the testnet preset) carry the traffic; paths are interleaved round
// by round so that drift of the machine's speed hits them alike.
//
// `pilot bench` runs it; `go test -bench` runs the same code. Results are
// figures, never thresholds: the caller decides what a ratio means.
package bench
