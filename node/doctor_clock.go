package node

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// The time exchange behind the doctor's clock check: a peer that opens a
// stream on <prefix>/time/1.0.0 reads 8 bytes, the serving node's clock
// in Unix nanoseconds (big-endian), and the stream ends. The asking node
// notes its own clock before (t0) and after (t1) and estimates the offset
// NTP-style: remote - (t0+t1)/2, within ±(t1-t0)/2 when the two legs of
// the round trip take equal time. It reveals nothing a peer could not
// learn from the timestamps in the node's signed records.

const (
	// clockPeers is how many connected peers one check asks.
	clockPeers = 5
	// clockTimeout bounds one exchange.
	clockTimeout = 5 * time.Second
)

// timeProtocol is the time exchange's protocol in the node's network.
func (n *Node) timeProtocol() protocol.ID {
	return protocol.ID(n.cfg.ProtocolPrefix + "/time/1.0.0")
}

// serveTime answers one time exchange.
func (n *Node) serveTime(s network.Stream) {
	defer s.Close()
	_ = s.SetWriteDeadline(time.Now().Add(clockTimeout))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(time.Now().UnixNano()))
	if _, err := s.Write(b[:]); err != nil {
		s.Reset()
	}
}

// clockSample is one peer's clock offset from this node's: positive when
// the peer's clock is ahead.
type clockSample struct {
	peer        peer.ID
	offset      time.Duration
	uncertainty time.Duration
}

// clockSamples asks up to clockPeers connected peers, direct connections
// first, in parallel. It returns the answers and how many were asked.
func (n *Node) clockSamples(ctx context.Context) ([]clockSample, int) {
	peers := n.directPeers()
	for _, p := range n.host.Network().Peers() {
		if len(peers) >= clockPeers {
			break
		}
		if !n.hasDirectConn(p) {
			peers = append(peers, p)
		}
	}
	peers = peers[:min(len(peers), clockPeers)]
	var mu sync.Mutex
	var out []clockSample
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() {
			if s, err := n.askTime(ctx, p); err == nil {
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out, len(peers)
}

// askTime runs one time exchange with p over an existing connection.
func (n *Node) askTime(ctx context.Context, p peer.ID) (clockSample, error) {
	ctx, cancel := context.WithTimeout(ctx, clockTimeout)
	defer cancel()
	ctx = network.WithNoDial(network.WithAllowLimitedConn(ctx, "pilot-time"), "pilot-time")
	// t0 before the stream opens: the peer may read its clock as soon as
	// the protocol is agreed, which NewStream may wait for.
	t0 := time.Now()
	s, err := n.host.NewStream(ctx, p, n.timeProtocol())
	if err != nil {
		return clockSample{}, err
	}
	defer s.Close()
	_ = s.SetReadDeadline(time.Now().Add(clockTimeout))
	var b [8]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		s.Reset()
		return clockSample{}, err
	}
	t1 := time.Now()
	remote := time.Unix(0, int64(binary.BigEndian.Uint64(b[:])))
	mid := t0.Add(t1.Sub(t0) / 2)
	return clockSample{peer: p, offset: remote.Sub(mid), uncertainty: t1.Sub(t0) / 2}, nil
}
