package ports

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// TestBurstWaitsForBacklog: a stream that arrives while the backlog is
// full waits for a place rather than being refused at once, so a burst
// larger than the backlog is served as long as the listener keeps
// accepting (found by node's TestLoadEcho: 1,000 echo streams opened at
// once on 2 cores had 48 refused as overloaded).
func TestBurstWaitsForBacklog(t *testing.T) {
	checkLeaks(t)
	f := fillBacklog(t, 5001)
	a, b, ma, l := f.a, f.b, f.ma, f.l
	// One more, while the backlog is full.
	type result struct {
		c   *Conn
		err error
	}
	extra := make(chan result, 1)
	go func() {
		c, err := ma.Dial(context.Background(), b.ID(), 5001)
		extra <- result{c, err}
	}()
	// Accept only once the listener side holds that stream too (its
	// handler is then waiting for a place).
	require.Eventually(t, func() bool { return inboundStreams(b, a.ID(), 5001) == backlogSize+1 },
		10*time.Second, 10*time.Millisecond, "the extra stream reached the listener")
	select {
	case r := <-extra:
		t.Fatalf("the extra stream was answered before any place freed: %v", r.err)
	default:
	}
	c, err := l.Accept()
	require.NoError(t, err)
	c.Close()
	r := <-extra
	require.NoError(t, r.err, "the waiting stream got the freed place")
	r.c.Close()
	require.NoError(t, l.Close())
}

// inboundStreams counts h's inbound streams from p on port.
func inboundStreams(h interface {
	Network() network.Network
}, p peer.ID, port uint16) int {
	n := 0
	for _, c := range h.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Stat().Direction == network.DirInbound && s.Protocol() == ProtocolID(port) {
				n++
			}
		}
	}
	return n
}
