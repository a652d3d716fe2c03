package inbox

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// BenchmarkSendFile sends a 16 MiB file per round to an on-disk inbox
// (Badger with SyncWrites, FilesDir; the receiver fsyncs before it
// answers) and, interleaved in the same run, writes the same bytes on a
// bare ports.Mux stream to a sink that acknowledges once it has read them
// all. It reports both throughputs and their ratio.
func BenchmarkSendFile(b *testing.B) {
	const size = 16 << 20
	p := newPair(b, true, nil)
	sink, err := p.rmux.Listen(5001)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		for {
			c, err := sink.AcceptConn()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.Copy(io.Discard, c); err == nil {
					_, _ = c.Write([]byte{1})
				}
			}()
		}
	}()
	file := randBytes(b, size)
	ctx := context.Background()
	var inbox, bare time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		id, err := Send(ctx, p.smux, p.receiver.ID(), KindFile, "bench.bin", bytes.NewReader(file), size)
		if err != nil {
			b.Fatal(err)
		}
		inbox += time.Since(start)

		start = time.Now()
		c, err := p.smux.Dial(ctx, p.receiver.ID(), 5001)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(c, bytes.NewReader(file), make([]byte, 128<<10)); err != nil {
			b.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			b.Fatal(err)
		}
		var ack [1]byte
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
		c.Close()

		b.StopTimer()
		if err := p.in.Delete(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(b.N) * size / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(inbox), "inbox-MB/s")
	b.ReportMetric(mbps(bare), "ports-MB/s")
	b.ReportMetric(mbps(inbox)/mbps(bare), "inbox/ports")
}
