package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node"
)

// pingPort and pingProtocol answer one byte with one byte: what a
// connection-setup measurement waits for.
const (
	pingPort     uint16 = 50002
	pingProtocol        = "/pilot-bench/ping/1.0.0"
)

// DefaultSetupRounds is SetupOptions.Rounds' default.
const DefaultSetupRounds = 10

// SetupOptions sets what MeasureSetup does.
type SetupOptions struct {
	// Rounds is how many connections each path sets up. Default
	// DefaultSetupRounds, at most MaxRounds.
	Rounds int
	// Progress, if set, is called after each round.
	Progress func(done, total int)
}

// Setup is the median time, in milliseconds, from nothing to the first
// byte echoed back, on loopback TCP.
type Setup struct {
	// Cold: a node that never met the target. Pilot resolves the address
	// through the DHT, connects and opens a port stream; bare libp2p is
	// given the target's addresses and connects and opens a stream; raw
	// TCP connects.
	PilotColdMs  float64 `json:"pilot_cold_ms"`
	Libp2pColdMs float64 `json:"libp2p_cold_ms"`
	RawTCPMs     float64 `json:"raw_tcp_ms"`
	// Warm: a connection exists; only a stream opens.
	PilotWarmMs  float64 `json:"pilot_warm_ms"`
	Libp2pWarmMs float64 `json:"libp2p_warm_ms"`
	Rounds       int     `json:"rounds"`
}

// MeasureSetup starts a DHT server, a target and, each round, a fresh
// dialling node that joins through the server, and times the first
// exchange over every path (the dialler's own start is not timed).
func MeasureSetup(ctx context.Context, opts SetupOptions) (Setup, error) {
	if opts.Rounds == 0 {
		opts.Rounds = DefaultSetupRounds
	}
	if opts.Rounds < 1 || opts.Rounds > MaxRounds {
		return Setup{}, fmt.Errorf("bench: setup rounds %d out of range 1..%d", opts.Rounds, MaxRounds)
	}
	const listen = "/ip4/127.0.0.1/tcp/0"
	server, err := startNode(ctx, listen, nil)
	if err != nil {
		return Setup{}, fmt.Errorf("bench: start the DHT server: %w", err)
	}
	defer server.Close()
	// The target is a DHT client, so that no dialler's DHT bootstrap
	// connects to it before the cold dial is timed.
	target, err := startNode(ctx, listen, server.JoinAddrs(), func(c *node.Config) { c.DHTMode = "client" })
	if err != nil {
		return Setup{}, fmt.Errorf("bench: start the target: %w", err)
	}
	defer target.Close()
	if err := servePing(target); err != nil {
		return Setup{}, err
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Setup{}, fmt.Errorf("bench: raw TCP listener: %w", err)
	}
	defer raw.Close()
	go serveListener(raw, pingOnce)
	// The target's record must be in the DHT before the first cold dial.
	if err := connectEventually(ctx, server, target.Addr()); err != nil {
		return Setup{}, fmt.Errorf("bench: the target's address never resolved: %w", err)
	}
	tinfo := peer.AddrInfo{ID: target.PeerID(), Addrs: target.Host().Addrs()}

	var pc, lc, rt, pw, lw []time.Duration
	for r := range opts.Rounds {
		d, err := startNode(ctx, listen, server.JoinAddrs())
		if err != nil {
			return Setup{}, fmt.Errorf("bench: round %d: start the dialler: %w", r+1, err)
		}
		err = func() error {
			defer d.Close()
			if d.Host().Network().Connectedness(target.PeerID()) == network.Connected {
				return errors.New("the dialler is already connected to the target: not a cold dial")
			}
			t, err := timePing(func() (io.ReadWriteCloser, error) { return d.DialAddr(ctx, target.Addr(), pingPort) })
			if err != nil {
				return fmt.Errorf("pilot cold: %w", err)
			}
			pc = append(pc, t)
			if t, err = timePing(func() (io.ReadWriteCloser, error) { return d.DialAddr(ctx, target.Addr(), pingPort) }); err != nil {
				return fmt.Errorf("pilot warm: %w", err)
			}
			pw = append(pw, t)
			return nil
		}()
		if err != nil {
			return Setup{}, fmt.Errorf("bench: round %d: %w", r+1, err)
		}
		// Bare libp2p: the same dialler's host would reuse the connection
		// Pilot opened, so a fresh one dials.
		b, err := startNode(ctx, listen, nil)
		if err != nil {
			return Setup{}, fmt.Errorf("bench: round %d: start the bare dialler: %w", r+1, err)
		}
		err = func() error {
			defer b.Close()
			h := b.Host()
			t, err := timePing(func() (io.ReadWriteCloser, error) {
				if err := h.Connect(ctx, tinfo); err != nil {
					return nil, err
				}
				return h.NewStream(ctx, tinfo.ID, pingProtocol)
			})
			if err != nil {
				return fmt.Errorf("libp2p cold: %w", err)
			}
			lc = append(lc, t)
			if t, err = timePing(func() (io.ReadWriteCloser, error) { return h.NewStream(ctx, tinfo.ID, pingProtocol) }); err != nil {
				return fmt.Errorf("libp2p warm: %w", err)
			}
			lw = append(lw, t)
			var dl net.Dialer
			if t, err = timePing(func() (io.ReadWriteCloser, error) { return dl.DialContext(ctx, "tcp", raw.Addr().String()) }); err != nil {
				return fmt.Errorf("raw TCP: %w", err)
			}
			rt = append(rt, t)
			return nil
		}()
		if err != nil {
			return Setup{}, fmt.Errorf("bench: round %d: %w", r+1, err)
		}
		if opts.Progress != nil {
			opts.Progress(r+1, opts.Rounds)
		}
	}
	return Setup{PilotColdMs: medianMs(pc), Libp2pColdMs: medianMs(lc), RawTCPMs: medianMs(rt),
		PilotWarmMs: medianMs(pw), Libp2pWarmMs: medianMs(lw), Rounds: opts.Rounds}, nil
}

// startNode starts a testnet-preset node listening on listen and joining
// through boot (none: the first node), with edits applied to its config.
func startNode(ctx context.Context, listen string, boot []string, edits ...func(*node.Config)) (*node.Node, error) {
	c := node.TestnetConfig()
	c.ListenAddrs = []string{listen}
	c.Bootstrap = boot
	for _, e := range edits {
		e(&c)
	}
	n, err := node.New(c)
	if err != nil {
		return nil, err
	}
	if err := n.Start(ctx); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	if len(boot) > 0 {
		if err := waitRouting(ctx, n); err != nil {
			return nil, errors.Join(err, n.Close())
		}
	}
	return n, nil
}

// waitRouting waits until n's DHT routing table holds a peer: Start
// returns once the bootstrap peers are connected, and the DHT adds them a
// moment later (after identify), before which every lookup finds nobody.
func waitRouting(ctx context.Context, n *node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for n.DHT().RoutingTableSize() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: no peer in the DHT routing table: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// servePing answers one byte on n's ping port (open to untrusted peers)
// and on the bare ping protocol.
func servePing(n *node.Node) error {
	l, err := n.Listen(pingPort)
	if err != nil {
		return err
	}
	go serveListener(l, pingOnce)
	if err := n.SetPortPublic(pingPort, true); err != nil {
		return err
	}
	n.Host().SetStreamHandler(pingProtocol, func(s network.Stream) { pingOnce(s) })
	return nil
}

// serveListener runs handle on every connection l accepts until l closes.
func serveListener(l net.Listener, handle func(io.ReadWriteCloser)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go handle(c)
	}
}

// pingOnce echoes one byte and closes.
func pingOnce(c io.ReadWriteCloser) {
	defer c.Close()
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err == nil {
		_, _ = c.Write(b[:])
	}
}

// timePing opens a stream, sends one byte and waits for it to come back.
func timePing(open func() (io.ReadWriteCloser, error)) (time.Duration, error) {
	start := time.Now()
	s, err := open()
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.Write([]byte{7}); err != nil {
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// medianMs is the median of ds in milliseconds.
func medianMs(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
}
