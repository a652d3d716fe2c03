package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/autonatv2"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// newHost builds the libp2p host: QUIC and TCP (TCP with SO_REUSEPORT,
// go-libp2p's default, which hole punching needs), Noise and TLS on TCP,
// yamux, and resource and connection managers sized from cfg. Passing any
// transport drops go-libp2p's defaults, so every transport is listed here
// on purpose (no websocket, WebTransport or WebRTC).
func newHost(cfg *Config, priv crypto.PrivKey, keeper *relayKeeper) (host.Host, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	addPilotLimits(cfg, &limits) // Pilot's own protocols (rcmgr.go)
	concrete := limits.Scale(cfg.ResourceMemory, cfg.ResourceFDs)
	sysConns := int(concrete.ToPartialLimitConfig().System.Conns)
	if cfg.ConnHigh >= sysConns {
		return nil, fmt.Errorf("node: ConnHigh %d must stay below the resource manager's %d connections (raise ResourceMemory or lower ConnHigh)", cfg.ConnHigh, sysConns)
	}
	if cfg.ConnLow >= cfg.ConnHigh {
		return nil, fmt.Errorf("node: ConnLow %d must be below ConnHigh %d", cfg.ConnLow, cfg.ConnHigh)
	}
	var rmOpts []rcmgr.Option
	if cfg.Metrics != nil {
		// The resource manager is ours, so go-libp2p does not attach its
		// metrics reporter: do it here (libp2p_rcmgr_*).
		str, err := rcmgr.NewStatsTraceReporter()
		if err != nil {
			return nil, fmt.Errorf("node: resource manager metrics: %w", err)
		}
		rmOpts = append(rmOpts, rcmgr.WithTraceReporter(str))
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(concrete), rmOpts...)
	if err != nil {
		return nil, fmt.Errorf("node: resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("node: connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.DefaultMuxers,
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent("pilot/" + Version),
		libp2p.Ping(true),
	}
	if cfg.Metrics != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Metrics))
	} else {
		// Without it go-libp2p would register with Prometheus' global
		// registry, shared by every node of the process.
		opts = append(opts, libp2p.DisableMetrics())
	}
	if cfg.SwarmKey != nil {
		// A private network: the PSK handshake seals every connection,
		// and it runs over TCP only (swarm.go).
		opts = append(opts, libp2p.PrivateNetwork(cfg.SwarmKey.Bytes()))
	} else {
		opts = append(opts, libp2p.Transport(quic.NewTransport))
	}
	if cfg.Anchor {
		// An anchor is public by definition: its reachability is not left
		// to AutoNAT (the relay service only starts once it is public), it
		// answers other nodes' AutoNAT dial-back requests, and it runs the
		// relay service (privacyOptions).
		opts = append(opts, libp2p.ForceReachabilityPublic(), libp2p.EnableNATService())
	}
	if cfg.AutoNATv2 {
		opts = append(opts, libp2p.EnableAutoNATv2())
	}
	// Every node keeps go-libp2p's AutoNAT v1 client (on by default): it
	// drives EvtLocalReachabilityChanged. Hole punching (DCUtR) on QUIC and
	// TCP runs only between trusted peers: the filter gives untrusted peers
	// no address and ignores theirs (nat.go, docs/nat.md).
	st := keeper.nat
	opts = append(opts, libp2p.EnableHolePunching(holepunch.WithAddrFilter(holePunchFilter{st})))
	if cfg.private() {
		opts = append(opts, libp2p.ConnectionGater(privateDialGater{st}))
	}
	var relayOpts []relayv2.Option
	if cfg.Anchor {
		res := relayResources(cfg)
		st.guard = newReservationGuard(cm, res.ReservationTTL)
		relayOpts = append(relayOpts, relayv2.WithResources(res), relayv2.WithACL(st.guard))
	}
	opts = append(opts, privacyOptions(cfg, keeper, relayOpts...)...)
	opts = append(opts, cfg.hostOptions...)
	h, err := libp2p.New(opts...)
	if err != nil {
		cm.Close()
		rm.Close()
		return nil, fmt.Errorf("node: start libp2p host on %v: %w", cfg.ListenAddrs, err)
	}
	if cfg.AutoNATv2 && !cfg.Anchor {
		// AutoNAT v2 serves every node by default. Only anchors answer
		// here: a node that does not offer the service is never sent
		// another node's direct addresses to check, and never dials
		// addresses a stranger chose.
		h.RemoveStreamHandler(autonatv2.DialProtocol)
	}
	return h, nil
}
