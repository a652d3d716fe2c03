package node

import (
	"context"
	"errors"
	"time"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/trust"
)

// apiBackend serves the local API from a node; it maps errors to the
// CLI's error codes.
type apiBackend struct{ n *Node }

var _ localapi.Backend = apiBackend{}

// maxPingCount bounds one API ping request.
const maxPingCount = 1000

func (b apiBackend) Identity() localapi.Identity {
	return localapi.Identity{Address: b.n.addr.String(), PeerID: b.n.id.String()}
}

func (b apiBackend) Status(ctx context.Context) (localapi.Status, error) {
	n := b.n
	if err := n.running(); err != nil {
		return localapi.Status{}, apiError(err)
	}
	st := localapi.Status{
		Address:          n.addr.String(),
		PeerID:           n.id.String(),
		Addrs:            nonNil(n.JoinAddrs()),
		Reachability:     n.Reachability(),
		DHTMode:          string(n.dht.Mode()),
		ConnectedPeers:   len(n.host.Network().Peers()),
		RoutingTableSize: n.dht.RoutingTableSize(),
		Version:          Version,
		Home:             n.cfg.Home,
		Public:           n.cfg.Public,
		Anchor:           n.cfg.Anchor,
		Bootstrap:        nonNil(n.cfg.Bootstrap),
		UptimeSeconds:    time.Since(n.startedAt).Seconds(),
	}
	st.Network, st.Transports = n.cfg.Network(), n.cfg.Transports()
	st.NAT = n.NATGuess()
	st.PublishedAddrs = nonNil(n.PublishedAddrs())
	st.RelayReservations = []string{}
	for _, p := range n.RelayReservations() {
		st.RelayReservations = append(st.RelayReservations, p.String())
	}
	reach, unreach := n.ConfirmedAddrs()
	st.ReachableAddrs, st.UnreachableAddrs = []string{}, []string{}
	for _, a := range reach {
		st.ReachableAddrs = append(st.ReachableAddrs, a.String())
	}
	for _, a := range unreach {
		st.UnreachableAddrs = append(st.UnreachableAddrs, a.String())
	}
	return st, nil
}

func (b apiBackend) Resolve(ctx context.Context, address string) (localapi.Resolved, error) {
	a, err := b.target(ctx, address)
	if err != nil {
		return localapi.Resolved{}, err
	}
	res, err := b.n.Resolve(ctx, a)
	if err != nil {
		return localapi.Resolved{}, apiError(err)
	}
	addrs := make([]string, 0, len(res.Record.Addrs))
	for _, m := range res.Record.Addrs {
		addrs = append(addrs, m.String())
	}
	return localapi.Resolved{
		Address: a.String(),
		PeerID:  res.Record.PeerID.String(),
		Addrs:   addrs,
		Seq:     res.Record.Seq,
		Pinned:  true,
	}, nil
}

func (b apiBackend) Ping(ctx context.Context, req localapi.PingRequest) (localapi.PingResult, error) {
	a, err := b.target(ctx, req.Address)
	if err != nil {
		return localapi.PingResult{}, err
	}
	if req.Count == 0 {
		req.Count = 3
	}
	if req.Count < 1 || req.Count > maxPingCount {
		return localapi.PingResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "use --count between 1 and 1000", "ping count %d is out of range", req.Count)
	}
	st, err := b.n.Ping(ctx, a, req.Count)
	if err != nil {
		return localapi.PingResult{}, apiError(err)
	}
	res := localapi.PingResult{
		Address:  a.String(),
		PeerID:   st.PeerID.String(),
		Path:     pathName(st.Relayed),
		Sent:     st.Sent,
		Received: len(st.RTTs),
		RTTsMs:   make([]float64, 0, len(st.RTTs)),
		MinMs:    ms(st.Min),
		AvgMs:    ms(st.Avg),
		MaxMs:    ms(st.Max),
	}
	if st.Remote != nil {
		res.Remote = st.Remote.String()
	}
	for _, r := range st.RTTs {
		res.RTTsMs = append(res.RTTsMs, ms(r))
	}
	return res, nil
}

func (b apiBackend) Peers(ctx context.Context) (localapi.Peers, error) {
	if err := b.n.running(); err != nil {
		return localapi.Peers{}, apiError(err)
	}
	ps := b.n.Peers()
	out := localapi.Peers{Count: len(ps), Peers: make([]localapi.Peer, 0, len(ps))}
	for _, p := range ps {
		dir := "outbound"
		if p.Inbound {
			dir = "inbound"
		}
		out.Peers = append(out.Peers, localapi.Peer{
			Address:   p.Addr.String(),
			PeerID:    p.PeerID.String(),
			Remote:    p.Remote.String(),
			Direction: dir,
			Path:      pathName(p.Relayed),
			Transport: p.Transport,
		})
	}
	return out, nil
}

func (b apiBackend) Unpin(ctx context.Context, address string) (localapi.Unpinned, error) {
	a, err := parseAddr(address)
	if err != nil {
		return localapi.Unpinned{}, err
	}
	id, removed, err := b.n.Unpin(ctx, a)
	if err != nil {
		return localapi.Unpinned{}, apiError(err)
	}
	out := localapi.Unpinned{Address: a.String(), Removed: removed}
	if removed {
		out.PeerID = id.String()
	}
	return out, nil
}

func parseAddr(s string) (addressing.Addr, error) {
	a, err := addressing.Parse(s)
	if err != nil {
		return a, localapi.Errorf(localapi.CodeInvalidArgument, "an address looks like 3f2a.91c0.7d14 (see `pilot id`)", "%v", err)
	}
	return a, nil
}

// apiError gives err its CLI error code and a hint.
func apiError(err error) error {
	if e := inboxError(err); e != nil {
		return e
	}
	if e := tunnelError(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, dht.ErrNotFound):
		return localapi.Errorf(localapi.CodeNotFound, "the node may be offline, or not yet published; check the address and that this node has peers (`pilot status`)", "%v", err)
	case errors.Is(err, dht.ErrAmbiguous):
		return localapi.Errorf(localapi.CodeAmbiguous, "several keys claim this address; address the peer by its peer ID instead", "%v", err)
	case errors.Is(err, dht.ErrPinMismatch):
		return localapi.Errorf(localapi.CodeAmbiguous, "the address is pinned to the peer first seen behind it; if the owner really changed keys, remove the pin", "%v", err)
	case errors.Is(err, ErrSelf):
		return localapi.Errorf(localapi.CodeInvalidArgument, "give another node's address", "%v", err)
	case errors.Is(err, ErrNotStarted):
		return localapi.Errorf(localapi.CodeNotRunning, "start the daemon with `pilot up`", "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return localapi.Errorf(localapi.CodeTimeout, "the peer did not answer in time; check `pilot status` and retry", "%v", err)
	case errors.Is(err, ports.ErrTrustRequired):
		return localapi.Errorf(localapi.CodeTrustRequired, "ask for trust with `pilot trust request <addr> --message \"why\"`, or have the peer make the port public", "%v", err)
	case errors.Is(err, ports.ErrPortClosed):
		return localapi.Errorf(localapi.CodeConnectionFailed, "nothing listens on that port of the peer", "%v", err)
	case errors.Is(err, ports.ErrInUse):
		return localapi.Errorf(localapi.CodeInvalidArgument, "pick another port, or stop what uses it", "%v", err)
	case errors.Is(err, dht.ErrInvalidName), errors.Is(err, dht.ErrInvalidProfile), errors.Is(err, addressing.ErrInvalid),
		errors.Is(err, gossip.ErrInvalidTopic), errors.Is(err, gossip.ErrTooLarge), errors.Is(err, gossip.ErrEmpty),
		errors.Is(err, trust.ErrSelf), errors.Is(err, trust.ErrInvalidPeer), errors.Is(err, trust.ErrMessageTooLong),
		errors.Is(err, trust.ErrInvalidMessage), errors.Is(err, trust.ErrAlreadyTrusted), errors.Is(err, trust.ErrInvalidState):
		return localapi.Errorf(localapi.CodeInvalidArgument, "see `pilot context` for the command's arguments", "%v", err)
	case errors.Is(err, trust.ErrNotPending), errors.Is(err, trust.ErrNotFound):
		return localapi.Errorf(localapi.CodeNotFound, "`pilot trust pending` lists the requests waiting for you", "%v", err)
	case errors.Is(err, ErrUnreachable):
		return localapi.Errorf(localapi.CodeConnectionFailed, "the peer was found but could not be reached; it may be offline or behind a NAT", "%v", err)
	}
	return localapi.AsError(err)
}

func pathName(relayed bool) string {
	if relayed {
		return "relayed"
	}
	return "direct"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
