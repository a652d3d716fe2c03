// Package natlab builds a Linux network-namespace lab with real kernel NAT,
// so that real pilot binaries can run behind cone, symmetric and
// UDP-blocking NATs on one machine.
//
// A Lab owns one "internet" namespace (pl-<id>-inet) holding a Linux bridge
// on 11.0.0.0/16, a range go-libp2p's manet.IsPublicAddr accepts. The range
// exists only inside the lab's namespaces: the root namespace gains no
// interface, route or firewall table, and nothing is routed out of the lab.
// Each Host is a namespace pl-<id>-hN; a NATed host sits behind a router
// namespace pl-<id>-rN that masquerades with nftables (iptables when nft is
// not installed).
//
// Every lab records its owner PID in /run/pilot-natlab/<id>.pid. Close
// removes the lab; Cleanup (also run by New) removes the namespaces of labs
// whose owner died without closing them. Everything needs root and the ip
// tool; see docs/natlab.md for the topology, the rules and how to run the
// tests.
package natlab
