package gossip

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/stretchr/testify/require"
)

// benchWindow is how many published events may be in flight: pubsub drops
// what does not fit its queues instead of applying back-pressure, so the
// publisher waits for deliveries, well inside every queue's size.
const benchWindow = 32

const benchProto = protocol.ID("/pilot/bench/stream/1.0.0")

// BenchmarkPublishDeliver measures events per second from a publisher to a
// subscriber on a directly connected host (signing, validation, delivery
// all included), against a bare libp2p stream carrying the same payloads
// between the same hosts in the same run (metric ratio = events / stream).
func BenchmarkPublishDeliver(b *testing.B) {
	for _, size := range []int{256, 4 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) { benchPublishDeliver(b, size) })
	}
}

func benchPublishDeliver(b *testing.B, size int) {
	ha, hb := newHost(b), newHost(b)
	connect(b, ha, hb)
	psA, psB := newPubSub(b, ha, Config{}), newPubSub(b, hb, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sub, err := psB.Subscribe(ctx, "bench")
	require.NoError(b, err)
	defer sub.Close()
	require.NoError(b, psA.WaitForPeers(ctx, "bench", 1))
	payload := make([]byte, size)

	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	window := make(chan struct{}, benchWindow)
	pubErr := make(chan error, 1)
	go func() {
		for range b.N {
			window <- struct{}{}
			if err := psA.Publish(ctx, "bench", payload); err != nil {
				pubErr <- err
				return
			}
		}
		pubErr <- nil
	}()
	for i := range b.N {
		nctx, ncancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := sub.Next(nctx)
		ncancel()
		if err != nil {
			b.Fatalf("event %d of %d: %v (receiver stats %v, sender stats %v)", i, b.N, err, psB.Stats(), psA.Stats())
		}
		<-window
	}
	elapsed := time.Since(start)
	b.StopTimer()
	require.NoError(b, <-pubErr)

	streamElapsed := benchStream(b, ha, hb, payload, b.N)
	events := float64(b.N) / elapsed.Seconds()
	stream := float64(b.N) / streamElapsed.Seconds()
	b.ReportMetric(events, "msgs/s")
	b.ReportMetric(stream, "stream-msgs/s")
	b.ReportMetric(events/stream, "ratio")
}

// benchStream sends n length-prefixed payloads from a to b over one bare
// libp2p stream, one Write per payload, and returns the time until b has
// read them all.
func benchStream(b *testing.B, ha, hb interface {
	ID() peer.ID
	NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error)
	SetStreamHandler(protocol.ID, network.StreamHandler)
	RemoveStreamHandler(protocol.ID)
}, payload []byte, n int) time.Duration {
	done := make(chan error, 1)
	hb.SetStreamHandler(benchProto, func(s network.Stream) {
		defer s.Close()
		r := bufio.NewReader(s)
		buf := make([]byte, len(payload))
		for range n {
			l, err := binary.ReadUvarint(r)
			if err == nil && int(l) != len(buf) {
				err = fmt.Errorf("frame of %d bytes", l)
			}
			if err == nil {
				_, err = io.ReadFull(r, buf)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	})
	defer hb.RemoveStreamHandler(benchProto)

	frame := append(binary.AppendUvarint(nil, uint64(len(payload))), payload...)
	start := time.Now()
	s, err := ha.NewStream(context.Background(), hb.ID(), benchProto)
	require.NoError(b, err)
	defer s.Close()
	for range n {
		if _, err := s.Write(frame); err != nil {
			b.Fatalf("stream write: %v", err)
		}
	}
	require.NoError(b, <-done)
	return time.Since(start)
}
