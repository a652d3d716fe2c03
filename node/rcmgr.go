package node

import (
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/trust"
)

// protocolLimit is the resource manager's explicit limit for one of
// Pilot's own protocols. total applies to all peers together and grows
// by perGiB for every GiB of Config.ResourceMemory above 128 MiB
// (rcmgr's Scale: at 128 MiB or less, the testnet preset, total applies
// as written; the daemon's 512 MiB adds half of perGiB, an anchor's
// 2 GiB twice perGiB). perPeer applies to each remote peer and does not
// scale: what one peer may hold open should not grow with our memory.
//
// Memory counts only what is reserved on a stream's own scope. yamux
// reserves its receive windows on the connection's scope, which the peer,
// transient and system limits bound, not these; the figures here are the
// budget a handler's own reservations must fit in.
type protocolLimit struct {
	proto   protocol.ID
	total   rcmgr.BaseLimit
	perGiB  rcmgr.BaseLimitIncrease
	perPeer rcmgr.BaseLimit
}

// streams returns a limit of in inbound and out outbound streams, their
// sum in all, and mem bytes of memory.
func streams(in, out int, mem int64) rcmgr.BaseLimit {
	return rcmgr.BaseLimit{StreamsInbound: in, StreamsOutbound: out, Streams: in + out, Memory: mem}
}

// more is streams as a per-GiB increase.
func more(in, out int, mem int64) rcmgr.BaseLimitIncrease {
	return rcmgr.BaseLimitIncrease{StreamsInbound: in, StreamsOutbound: out, Streams: in + out, Memory: mem}
}

// pilotProtocolLimits lists the limits of every protocol Pilot serves
// itself, with prefix the configuration's ProtocolPrefix (polo-sync and
// the doctor's clock protocol use it; the others are fixed IDs). The DHT's
// kad protocol is left to go-libp2p's per-protocol default (512 inbound
// streams, 64 per peer): kad-dht reuses one stream per peer and bounds
// its own queries. Application ports (Listen on any other number) also get
// the default.
//
// The figures, each sized from what one honest peer needs at once:
//
//   - echo (port 7): a diagnostic that answers anyone whose port policy
//     allows it, the protocol the load test drives. 1,024 inbound streams
//     (+1,024 per GiB), 256 outbound (+256); 32 per peer each way, which
//     leaves room for a peer's parallel probes (the load test opens 20 per
//     peer) while one peer cannot hold more than 32 of the victim's
//     echo goroutines. 32 MiB (+32 MiB): one 32 KiB copy buffer for each of
//     1,024 streams.
//   - data exchange (port 1001, the inbox): one stream per message or
//     file. 256 each way (+256), 16 per peer each way; 64 MiB (+64 MiB),
//     8 MiB per peer.
//   - tasks (port 1003): submissions, updates, cancels and result
//     notifications, one short stream each. 256 each way (+256), 32 per
//     peer; 16 MiB (+16 MiB), 1 MiB per peer.
//   - trust (/pilot/trust/1.0.0): one signed frame per stream, answered
//     with one byte; the outbox sends one frame at a time to a peer. 64
//     inbound (+64), trust.Config.MaxInboundStreams' default, past which
//     the handler resets anyway; 64 outbound (+64), four times
//     MaxConcurrentSends' default; 4 per peer; 1 MiB (a frame is at most
//     4 KiB).
//   - addrs (/pilot/addrs/1.0.0): one exchange when a trusted peer wants
//     a direct connection. 64 each way (+64), 4 per peer, 1 MiB.
//   - time (<prefix>/time/1.0.0): the doctor's clock check, 8 bytes out.
//     64 each way (+64), 4 per peer, 1 MiB.
//   - topic relay (/pilot/topic-relay/1.0.0): a private node asks an
//     anchor to relay a topic. 64 each way (+64), 4 per peer, 1 MiB.
//   - polo-sync (<prefix>/polo-sync/1.0.0): one anti-entropy session per
//     peer at a time; the server handles 16 at once and resets the rest.
//     32 each way (+32), 4 per peer; 16 MiB (+16 MiB), 4 MiB per peer.
func pilotProtocolLimits(prefix string) []protocolLimit {
	const mib = 1 << 20
	small := func(p protocol.ID) protocolLimit {
		return protocolLimit{proto: p, total: streams(64, 64, mib), perGiB: more(64, 64, mib), perPeer: streams(4, 4, mib)}
	}
	return []protocolLimit{
		{proto: ports.ProtocolID(ports.PortEcho), total: streams(1024, 256, 32*mib), perGiB: more(1024, 256, 32*mib), perPeer: streams(32, 32, mib)},
		{proto: ports.ProtocolID(ports.PortData), total: streams(256, 256, 64*mib), perGiB: more(256, 256, 64*mib), perPeer: streams(16, 16, 8*mib)},
		{proto: ports.ProtocolID(ports.PortTasks), total: streams(256, 256, 16*mib), perGiB: more(256, 256, 16*mib), perPeer: streams(32, 32, mib)},
		small(trust.ProtocolID),
		small(addrsProtocol),
		small(protocol.ID(prefix + "/time/1.0.0")),
		small(topicRelayProtocol),
		{proto: protocol.ID(prefix + "/polo-sync/1.0.0"), total: streams(32, 32, 16*mib), perGiB: more(32, 32, 16*mib), perPeer: streams(4, 4, 4*mib)},
	}
}

// Transient streams: an inbound stream belongs to no protocol until
// multistream negotiation ends, and until then it counts in the transient
// scope, whose default (128 inbound streams, +128 per GiB: 192 on a
// daemon) refused part of a burst of 1,000 echo streams (reset with
// "resource limit exceeded") that the echo limit allows. So the
// transient scope takes as many inbound streams as the largest Pilot
// protocol: 1,024 (+1,024 per GiB). Negotiation is bounded by go-libp2p's
// timeout, and each peer by its own stream limit (256 inbound, +128 per
// GiB), so one peer cannot hold more than that of it.
const (
	transientStreamsIn       = 1024
	transientStreamsInPerGiB = 1024
)

// addPilotLimits registers pilotProtocolLimits and the transient stream
// limit on limits, on purpose, before it is scaled to cfg.ResourceMemory
// (newHost).
func addPilotLimits(cfg *Config, limits *rcmgr.ScalingLimitConfig) {
	for _, l := range pilotProtocolLimits(cfg.ProtocolPrefix) {
		limits.AddProtocolLimit(l.proto, l.total, l.perGiB)
		limits.AddProtocolPeerLimit(l.proto, l.perPeer, rcmgr.BaseLimitIncrease{})
	}
	t, inc := &limits.TransientBaseLimit, &limits.TransientLimitIncrease
	t.StreamsInbound = max(t.StreamsInbound, transientStreamsIn)
	t.Streams = max(t.Streams, t.StreamsInbound+t.StreamsOutbound)
	inc.StreamsInbound = max(inc.StreamsInbound, transientStreamsInPerGiB)
	inc.Streams = max(inc.Streams, inc.StreamsInbound+inc.StreamsOutbound)
}
