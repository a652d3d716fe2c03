package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"
)

// Defaults of ThroughputOptions.
const (
	DefaultBytes  = 64 << 20
	DefaultRounds = 5
	// MaxBytes bounds one stream's payload (a typo must not fill the
	// machine's afternoon).
	MaxBytes = 4 << 30
	// MaxRounds bounds the rounds.
	MaxRounds = 100
)

// ThroughputOptions sets what Throughput carries.
type ThroughputOptions struct {
	// Bytes is each stream's payload. Default DefaultBytes.
	Bytes int64
	// Rounds is how many times each path carries Bytes; the paths take
	// turns within a round, in an order that rotates from round to round.
	// Default DefaultRounds.
	Rounds int
	// Progress, if set, is called after each measured stream with the
	// number done, the total and the path just measured.
	Progress func(done, total int, path string)
}

func (o ThroughputOptions) withDefaults() (ThroughputOptions, error) {
	if o.Bytes == 0 {
		o.Bytes = DefaultBytes
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	if o.Bytes < 1<<10 || o.Bytes > MaxBytes {
		return o, fmt.Errorf("bench: bytes per stream %d out of range 1 KiB..%d GiB", o.Bytes, MaxBytes>>30)
	}
	if o.Rounds < 1 || o.Rounds > MaxRounds {
		return o, fmt.Errorf("bench: rounds %d out of range 1..%d", o.Rounds, MaxRounds)
	}
	return o, nil
}

// Throughput is one run's bulk-transfer figures, in MB/s (10^6 bytes a
// second): each path's bytes over its total time from opening the stream
// to the receiver's acknowledgement that it read everything.
type Throughput struct {
	RawTCP     float64 `json:"raw_tcp_mbps"`
	Libp2pTCP  float64 `json:"libp2p_tcp_mbps"`
	PilotTCP   float64 `json:"pilot_tcp_mbps"`
	Libp2pQUIC float64 `json:"libp2p_quic_mbps"`
	PilotQUIC  float64 `json:"pilot_quic_mbps"`
	// PilotTunnelTCP is a TCP connection carried by a tunnel: pilot
	// forward on one node, pilot expose on the other, a Pilot port stream
	// over libp2p's TCP between them, and the raw TCP sink behind it.
	PilotTunnelTCP float64 `json:"pilot_tunnel_tcp_mbps"`

	// PilotTCPRatio and PilotQUICRatio are a Pilot port stream's
	// throughput over a bare libp2p stream's on the same transport;
	// Libp2pTCPRatio is libp2p's TCP over raw TCP.
	PilotTCPRatio  float64 `json:"pilot_over_libp2p_tcp"`
	PilotQUICRatio float64 `json:"pilot_over_libp2p_quic"`
	Libp2pTCPRatio float64 `json:"libp2p_over_raw_tcp"`
	// TunnelRatio is the tunnel's throughput over direct TCP to the same
	// sink; TunnelOverPilotRatio over a Pilot port stream on the same
	// transport (what the two splices cost).
	TunnelRatio          float64 `json:"tunnel_over_raw_tcp"`
	TunnelOverPilotRatio float64 `json:"tunnel_over_pilot_tcp"`

	// Spread is, per path, the slowest and fastest round in MB/s: how
	// much the machine drifted while measuring.
	Spread map[string][2]float64 `json:"spread_mbps"`

	BytesPerStream int64 `json:"bytes_per_stream"`
	Rounds         int   `json:"rounds"`
}

// Path names, as in Throughput's JSON fields and Spread's keys.
const (
	PathRawTCP     = "raw_tcp"
	PathLibp2pTCP  = "libp2p_tcp"
	PathPilotTCP   = "pilot_tcp"
	PathLibp2pQUIC = "libp2p_quic"
	PathPilotQUIC  = "pilot_quic"
	PathTunnelTCP  = "pilot_tunnel_tcp"
)

// MeasureThroughput starts two pairs of nodes on loopback (one on TCP, one
// on QUIC), a raw TCP sink and a tunnel to it across the TCP pair, carries
// opts.Bytes over every path opts.Rounds times, and stops everything it
// started.
func MeasureThroughput(ctx context.Context, opts ThroughputOptions) (Throughput, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Throughput{}, err
	}
	tcp, err := startPair(ctx, "/ip4/127.0.0.1/tcp/0")
	if err != nil {
		return Throughput{}, fmt.Errorf("bench: start TCP nodes: %w", err)
	}
	defer tcp.close()
	quic, err := startPair(ctx, "/ip4/127.0.0.1/udp/0/quic-v1")
	if err != nil {
		return Throughput{}, fmt.Errorf("bench: start QUIC nodes: %w", err)
	}
	defer quic.close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Throughput{}, fmt.Errorf("bench: raw TCP sink: %w", err)
	}
	defer raw.Close()
	go serve(raw)
	tunnel, err := tcp.tunnel(ctx, raw.Addr().String())
	if err != nil {
		return Throughput{}, fmt.Errorf("bench: tunnel to the raw TCP sink: %w", err)
	}

	var d net.Dialer
	tcpTo := func(addr string) func() (stream, error) {
		return func() (stream, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return c.(*net.TCPConn), nil
		}
	}
	paths := []struct {
		name string
		open func() (stream, error)
	}{
		{PathRawTCP, tcpTo(raw.Addr().String())},
		{PathLibp2pTCP, tcp.bare(ctx)},
		{PathPilotTCP, tcp.pilot(ctx)},
		{PathLibp2pQUIC, quic.bare(ctx)},
		{PathPilotQUIC, quic.pilot(ctx)},
		{PathTunnelTCP, tcpTo(tunnel)},
	}
	buf := make([]byte, 256<<10)
	total := make(map[string]time.Duration, len(paths))
	rates := make(map[string][]float64, len(paths))
	done, count := 0, opts.Rounds*len(paths)
	for r := range opts.Rounds {
		for k := range paths {
			p := paths[(k+r)%len(paths)]
			if err := ctx.Err(); err != nil {
				return Throughput{}, err
			}
			dt, err := send(p.open, buf, opts.Bytes)
			if err != nil {
				if ctx.Err() != nil {
					return Throughput{}, ctx.Err()
				}
				return Throughput{}, fmt.Errorf("bench: %s, round %d: %w", p.name, r+1, err)
			}
			total[p.name] += dt
			rates[p.name] = append(rates[p.name], mbps(opts.Bytes, dt))
			done++
			if opts.Progress != nil {
				opts.Progress(done, count, p.name)
			}
		}
	}
	all := int64(opts.Rounds) * opts.Bytes
	t := Throughput{
		RawTCP:         mbps(all, total[PathRawTCP]),
		Libp2pTCP:      mbps(all, total[PathLibp2pTCP]),
		PilotTCP:       mbps(all, total[PathPilotTCP]),
		Libp2pQUIC:     mbps(all, total[PathLibp2pQUIC]),
		PilotQUIC:      mbps(all, total[PathPilotQUIC]),
		PilotTunnelTCP: mbps(all, total[PathTunnelTCP]),
		Spread:         map[string][2]float64{},
		BytesPerStream: opts.Bytes,
		Rounds:         opts.Rounds,
	}
	t.PilotTCPRatio = ratio(t.PilotTCP, t.Libp2pTCP)
	t.PilotQUICRatio = ratio(t.PilotQUIC, t.Libp2pQUIC)
	t.Libp2pTCPRatio = ratio(t.Libp2pTCP, t.RawTCP)
	t.TunnelRatio = ratio(t.PilotTunnelTCP, t.RawTCP)
	t.TunnelOverPilotRatio = ratio(t.PilotTunnelTCP, t.PilotTCP)
	for name, rs := range rates {
		t.Spread[name] = [2]float64{slices.Min(rs), slices.Max(rs)}
	}
	return t, errors.Join(tcp.close(), quic.close())
}

// mbps is n bytes over d in MB/s.
func mbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds() / 1e6
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
