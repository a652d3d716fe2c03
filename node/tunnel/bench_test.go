package tunnel

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node/ports"
)

// benchBytes is what each path carries per round.
const benchBytes = 64 << 20

// BenchmarkForwardThroughput carries benchBytes per round to one TCP sink
// on loopback over three paths, interleaved so that drift hits them alike:
// a direct TCP connection; forward → expose with a TCP listener standing in
// for the Pilot port (the cost of the two splices); and forward → expose
// over a real Pilot port between two libp2p hosts. It reports each
// throughput and the ratios to direct TCP measured in the same run.
func BenchmarkForwardThroughput(b *testing.B) {
	sink := newServer(b, drainAndAck)

	// Splices only: the Pilot hop is plain TCP.
	m := NewManager()
	defer m.CloseAll()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Expose(pl, 9, sink.addr()); err != nil {
		b.Fatal(err)
	}
	fwd, err := m.Forward("127.0.0.1:0", "stand-in:9", tcpDialer(pl.Addr().String()))
	if err != nil {
		b.Fatal(err)
	}

	// Over Pilot: libp2p hosts on loopback, ports.Mux on each.
	ha, hb := newHost(b), newHost(b)
	if err := ha.Connect(context.Background(), peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		b.Fatal(err)
	}
	ma, mb := ports.New(ha, nil), ports.New(hb, nil)
	defer ma.Close()
	defer mb.Close()
	l, err := mb.Listen(9)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Expose(l, 9, sink.addr()); err != nil {
		b.Fatal(err)
	}
	pfwd, err := m.Forward("127.0.0.1:0", "b:9", func(ctx context.Context) (net.Conn, error) {
		c, err := ma.Dial(ctx, hb.ID(), 9)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
	if err != nil {
		b.Fatal(err)
	}

	buf := make([]byte, 256<<10)
	var direct, tunnel, pilot time.Duration
	b.ResetTimer()
	for b.Loop() {
		direct += timeSend(b, buf, sink.addr())
		tunnel += timeSend(b, buf, fwd.Local)
		pilot += timeSend(b, buf, pfwd.Local)
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(b.N) * benchBytes / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(direct), "direct-MB/s")
	b.ReportMetric(mbps(tunnel), "tunnel-MB/s")
	b.ReportMetric(mbps(pilot), "pilot-tunnel-MB/s")
	b.ReportMetric(mbps(tunnel)/mbps(direct), "tunnel/direct")
	b.ReportMetric(mbps(pilot)/mbps(direct), "pilot-tunnel/direct")
}

// timeSend connects to addr, writes benchBytes, half-closes and waits for
// the sink's one-byte acknowledgement that it read everything: the time
// covers delivery, not just buffering.
func timeSend(b *testing.B, buf []byte, addr string) time.Duration {
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for sent := 0; sent < benchBytes; sent += len(buf) {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		b.Fatal(err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// drainAndAck reads to EOF, then acknowledges with one byte.
func drainAndAck(c *net.TCPConn) {
	if _, err := io.Copy(io.Discard, c); err == nil {
		_, _ = c.Write([]byte{1})
	}
}
