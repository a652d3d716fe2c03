package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/tunnel"
)

// Expose serves the TCP service at target (host:port) on Pilot port port.
// The port follows the node's policy: only trusted peers reach it unless it
// is made public.
func (n *Node) Expose(port uint16, target string) (tunnel.Info, error) {
	if err := n.running(); err != nil {
		return tunnel.Info{}, err
	}
	if err := tunnel.ValidateTarget(target); err != nil {
		return tunnel.Info{}, err
	}
	l, err := n.Listen(port)
	if err != nil {
		return tunnel.Info{}, err
	}
	return n.tunnels.Expose(l, port, target)
}

// Forward listens on the loopback address listen and carries each TCP
// connection to remote ("addr:port" or "hostname:port"). The remote is
// resolved and connected first, so a wrong address fails here, not on
// the first connection.
func (n *Node) Forward(ctx context.Context, listen, remote string) (tunnel.Info, error) {
	if err := n.running(); err != nil {
		return tunnel.Info{}, err
	}
	i := strings.LastIndexByte(remote, ':')
	if i <= 0 {
		return tunnel.Info{}, fmt.Errorf("node: forward to %q: want <addr or hostname>:<port>: %w", remote, tunnel.ErrInvalidAddress)
	}
	port, err := strconv.ParseUint(remote[i+1:], 10, 16)
	if err != nil || port == 0 {
		return tunnel.Info{}, fmt.Errorf("node: forward to %q: port must be 1 to 65535: %w", remote, tunnel.ErrInvalidAddress)
	}
	a, err := n.AddrOf(ctx, remote[:i])
	if err != nil {
		return tunnel.Info{}, err
	}
	if _, err := n.Connect(ctx, a); err != nil {
		return tunnel.Info{}, err
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		c, err := n.DialAddr(ctx, a, uint16(port))
		if err != nil {
			return nil, err // not a typed nil inside net.Conn
		}
		return c, nil
	}
	return n.tunnels.Forward(listen, fmt.Sprintf("%s:%d", a, port), dial)
}

// Tunnels lists the open tunnels.
func (n *Node) Tunnels() []tunnel.Info { return n.tunnels.List() }

// CloseTunnel closes a tunnel and every connection it carries.
func (n *Node) CloseTunnel(id string) (tunnel.Info, error) {
	info, err := n.tunnels.Get(id)
	if err != nil {
		return info, err
	}
	return info, n.tunnels.Close(id)
}

func (b apiBackend) Expose(ctx context.Context, req localapi.ExposeRequest) (localapi.Tunnel, error) {
	if req.Port == 0 {
		return localapi.Tunnel{}, localapi.Errorf(localapi.CodeInvalidArgument, "ports are 1 to 65535", "port 0 is not a port")
	}
	info, err := b.n.Expose(req.Port, req.To)
	if err != nil {
		return localapi.Tunnel{}, apiError(err)
	}
	return tunnelInfo(info), nil
}

func (b apiBackend) Forward(ctx context.Context, req localapi.ForwardRequest) (localapi.Tunnel, error) {
	info, err := b.n.Forward(ctx, req.Listen, req.To)
	if err != nil {
		return localapi.Tunnel{}, apiError(err)
	}
	return tunnelInfo(info), nil
}

func (b apiBackend) Tunnels(ctx context.Context) (localapi.TunnelList, error) {
	if err := b.n.running(); err != nil {
		return localapi.TunnelList{}, apiError(err)
	}
	list := b.n.Tunnels()
	out := localapi.TunnelList{Tunnels: make([]localapi.Tunnel, 0, len(list))}
	for _, t := range list {
		out.Tunnels = append(out.Tunnels, tunnelInfo(t))
	}
	return out, nil
}

func (b apiBackend) CloseTunnel(ctx context.Context, id string) (localapi.Tunnel, error) {
	if err := b.n.running(); err != nil {
		return localapi.Tunnel{}, apiError(err)
	}
	info, err := b.n.CloseTunnel(id)
	if err != nil {
		return localapi.Tunnel{}, apiError(err)
	}
	return tunnelInfo(info), nil
}

func tunnelInfo(t tunnel.Info) localapi.Tunnel {
	return localapi.Tunnel{
		ID: t.ID, Kind: string(t.Kind), Port: t.Port, Local: t.Local, Remote: t.Remote,
		Active: t.Active, Total: t.Total, BytesIn: t.BytesIn, BytesOut: t.BytesOut,
		Created: t.Created.UTC().Format(time.RFC3339),
	}
}

// tunnelError maps the tunnel package's errors; apiError calls it.
func tunnelError(err error) error {
	switch {
	case errors.Is(err, tunnel.ErrInvalidAddress), errors.Is(err, tunnel.ErrNonLoopback):
		return localapi.Errorf(localapi.CodeInvalidArgument, "expose --to HOST:PORT; forward 127.0.0.1:PORT --to <addr>:<port>", "%v", err)
	case errors.Is(err, tunnel.ErrNotFound):
		return localapi.Errorf(localapi.CodeNotFound, "`pilot tunnels` lists the open tunnels", "%v", err)
	}
	return nil
}
