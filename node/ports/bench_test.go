package ports

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// benchBytes is what each path carries per round.
const benchBytes = 32 << 20

// BenchmarkBulkTCP carries benchBytes per round over three paths on
// loopback, interleaved so that drift hits all three alike: raw TCP, a bare
// libp2p stream (TCP transport, Noise/TLS, yamux) and a Pilot port stream
// on the same hosts. It reports each throughput and the ratios
// pilot/bare and pilot/raw measured in the same run.
func BenchmarkBulkTCP(b *testing.B) {
	a, h := newHost(b), newHost(b)
	connect(b, a, h)
	ma, mh := New(a, nil), New(h, nil)
	defer ma.Close()
	defer mh.Close()

	// Pilot port: a sink on port 5001.
	l, err := mh.Listen(5001)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go sink(l)
	// Bare libp2p stream on a plain protocol.
	h.SetStreamHandler("/bench/sink", func(s network.Stream) { drainAndAck(s) })
	// Raw TCP.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer tl.Close()
	go sink(tl)

	buf := make([]byte, 256<<10)
	var raw, bare, pilot time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		raw += timeSend(b, buf, func() (halfCloser, error) {
			c, err := net.Dial("tcp", tl.Addr().String())
			if err != nil {
				return nil, err
			}
			return c.(*net.TCPConn), nil
		})
		bare += timeSend(b, buf, func() (halfCloser, error) { return a.NewStream(ctx, h.ID(), "/bench/sink") })
		pilot += timeSend(b, buf, func() (halfCloser, error) { return ma.Dial(ctx, h.ID(), 5001) })
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(b.N) * benchBytes / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(raw), "raw-MB/s")
	b.ReportMetric(mbps(bare), "libp2p-MB/s")
	b.ReportMetric(mbps(pilot), "pilot-MB/s")
	b.ReportMetric(mbps(pilot)/mbps(bare), "pilot/libp2p")
	b.ReportMetric(mbps(pilot)/mbps(raw), "pilot/raw")
}

// halfCloser is a stream that can signal end of data and still read.
type halfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// timeSend opens a stream, writes benchBytes, half-closes it and waits for
// the receiver's one-byte acknowledgement that it read everything: the
// time covers delivery, not just buffering.
func timeSend(b *testing.B, buf []byte, open func() (halfCloser, error)) time.Duration {
	start := time.Now()
	w, err := open()
	if err != nil {
		b.Fatal(err)
	}
	for sent := 0; sent < benchBytes; sent += len(buf) {
		if _, err := w.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.CloseWrite(); err != nil {
		b.Fatal(err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(w, ack[:]); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	w.Close()
	return d
}

func sink(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go drainAndAck(c)
	}
}

// drainAndAck reads to EOF, then acknowledges with one byte.
func drainAndAck(c io.ReadWriteCloser) {
	defer c.Close()
	if _, err := io.Copy(io.Discard, c); err == nil {
		_, _ = c.Write([]byte{1})
	}
}
