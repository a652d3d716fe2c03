package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node"
)

// benchPort is the Pilot port the receiving node sinks data on: an
// ephemeral-range number, clear of the built-in services.
const benchPort uint16 = 50001

// bareProtocol is the libp2p protocol of the bare-stream baseline.
const bareProtocol = "/pilot-bench/sink/1.0.0"

// pair is two nodes on one transport: a sends, b sinks on a Pilot port and
// on a bare libp2p protocol.
type pair struct {
	a, b *node.Node
}

// startPair starts b (the first node of a two-node mesh) and a (joining
// through b), both listening only on listen, opens b's sink port to
// untrusted peers and connects a to b.
func startPair(ctx context.Context, listen string) (_ *pair, err error) {
	cfg := func() node.Config {
		c := node.TestnetConfig()
		c.ListenAddrs = []string{listen}
		return c
	}
	p := &pair{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.b, err = node.New(cfg()); err != nil {
		return p, err
	}
	if err = p.b.Start(ctx); err != nil {
		return p, err
	}
	ac := cfg()
	ac.Bootstrap = p.b.JoinAddrs()
	if p.a, err = node.New(ac); err != nil {
		return p, err
	}
	if err = p.a.Start(ctx); err != nil {
		return p, err
	}
	l, err := p.b.Listen(benchPort)
	if err != nil {
		return p, err
	}
	go serve(l)
	if err = p.b.SetPortPublic(benchPort, true); err != nil {
		return p, err
	}
	p.b.Host().SetStreamHandler(bareProtocol, func(s network.Stream) { drainAndAck(s) })
	if err = p.connect(ctx); err != nil {
		return p, fmt.Errorf("connect the pair on %s: %w", listen, err)
	}
	return p, nil
}

// connectTimeout bounds the wait for b's address record to be found.
const connectTimeout = 30 * time.Second

// connect connects a to b through Pilot's resolution.
func (p *pair) connect(ctx context.Context) error {
	return connectEventually(ctx, p.a, p.b.Addr())
}

// connectEventually connects from to a, retrying while a's address record
// is still on its way into the DHT.
func connectEventually(ctx context.Context, from *node.Node, a addressing.Addr) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	wait := 20 * time.Millisecond
	for {
		_, err := from.Connect(ctx, a)
		if err == nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// pilot opens a Pilot port stream from a to b's sink.
func (p *pair) pilot(ctx context.Context) func() (stream, error) {
	return func() (stream, error) { return p.a.DialAddr(ctx, p.b.Addr(), benchPort) }
}

// bare opens a bare libp2p stream from a to b's sink, on the same
// connection the Pilot stream uses.
func (p *pair) bare(ctx context.Context) func() (stream, error) {
	return func() (stream, error) { return p.a.Host().NewStream(ctx, p.b.PeerID(), bareProtocol) }
}

// tunnelPort is the Pilot port b exposes the tunnel's target on.
const tunnelPort uint16 = 50002

// tunnel exposes target (host:port) on b and forwards a loopback port on a
// to it, as pilot expose and pilot forward do; it returns the forwarded
// address. The tunnel closes with the nodes.
func (p *pair) tunnel(ctx context.Context, target string) (string, error) {
	if _, err := p.b.Expose(tunnelPort, target); err != nil {
		return "", err
	}
	if err := p.b.SetPortPublic(tunnelPort, true); err != nil {
		return "", err
	}
	fwd, err := p.a.Forward(ctx, "127.0.0.1:0", fmt.Sprintf("%s:%d", p.b.Addr(), tunnelPort))
	if err != nil {
		return "", err
	}
	return fwd.Local, nil
}

// close stops both nodes (closing b's listener with it).
func (p *pair) close() error {
	var errs []error
	for _, n := range []*node.Node{p.a, p.b} {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}
