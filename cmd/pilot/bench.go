package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/bench"
	"github.com/pilot-agents/pilot/node/localapi"
)

// benchReport is the data of `pilot bench`.
type benchReport struct {
	Machine    benchMachine     `json:"machine"`
	Throughput bench.Throughput `json:"throughput"`
	Setup      bench.Setup      `json:"setup"`
	Idle       []bench.Idle     `json:"idle"`
}

// benchMachine says where the figures were measured.
type benchMachine struct {
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	Pilot     string `json:"pilot_version"`
}

func newBenchCmd(a *app) *cobra.Command {
	var o bench.ThroughputOptions
	var so bench.SetupOptions
	var mib int64
	var idleSizes []int
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Pilot's data paths against raw TCP and bare libp2p, on loopback",
		Long: `Start real Pilot nodes on loopback (two on libp2p's TCP transport, two on
QUIC) and a raw TCP sink, and carry --mib MiB a stream over six paths, taking
turns round by round: raw TCP, a bare libp2p stream and a Pilot port stream
on TCP, a bare libp2p stream and a Pilot port stream on QUIC, and a TCP
connection through a tunnel to the same sink (pilot forward on one node,
pilot expose on the other, a Pilot port stream on TCP between them). Each
figure is bytes over the time from opening the stream to the receiver's
acknowledgement that it read everything, in MB/s (10^6 bytes a second);
the ratios compare paths measured in the same run. Then it times connection
setup, the median over --setup-rounds of a byte sent and echoed back: cold
(a fresh node: Pilot resolves the address through the DHT, connects and
opens a port stream; bare libp2p is given the addresses; raw TCP connects)
and warm (the connection exists; a stream opens). Last, for each
--idle-nodes size, it starts a mesh of that many nodes, each joining through
up to three of the first ones (a tenth of them, 2 to 20, serve the DHT; the others are DHT
clients, as agents behind a NAT are) and reports the heap, goroutines and
connections per idle node. No daemon is needed and
no traffic leaves the machine. Progress goes to stderr (not with --json).
See docs/performance.md.`,
		Example: "  pilot bench\n  pilot bench --mib 256 --rounds 3 --json",
		Annotations: map[string]string{
			annOutput: fieldList(benchReport{}),
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if mib < 1 || mib > bench.MaxBytes>>20 {
				return usageError(cmd, "--mib %d: want 1 to %d", mib, bench.MaxBytes>>20)
			}
			if o.Rounds < 1 || o.Rounds > bench.MaxRounds {
				return usageError(cmd, "--rounds %d: want 1 to %d", o.Rounds, bench.MaxRounds)
			}
			if so.Rounds < 1 || so.Rounds > bench.MaxRounds {
				return usageError(cmd, "--setup-rounds %d: want 1 to %d", so.Rounds, bench.MaxRounds)
			}
			for _, n := range idleSizes {
				if n < 2 || n > bench.MaxIdleNodes {
					return usageError(cmd, "--idle-nodes %d: want 2 to %d", n, bench.MaxIdleNodes)
				}
			}
			o.Bytes = mib << 20
			bar := newProgressBar(a.stderr, "throughput")
			bar.quiet = a.json()
			o.Progress = func(done, total int, _ string) { bar.update(done, total) }
			t, err := bench.MeasureThroughput(cmd.Context(), o)
			bar.done()
			if err != nil {
				return localapi.Errorf(localapi.CodeInternal, "loopback TCP and UDP must be usable; see the error", "%v", err)
			}
			bar = newProgressBar(a.stderr, "setup")
			bar.quiet = a.json()
			so.Progress = bar.update
			st, err := bench.MeasureSetup(cmd.Context(), so)
			bar.done()
			if err != nil {
				return localapi.Errorf(localapi.CodeInternal, "loopback TCP must be usable; see the error", "%v", err)
			}
			var idle []bench.Idle
			for _, n := range idleSizes {
				if !a.json() {
					fmt.Fprintf(a.stderr, "idle: starting %d nodes\n", n)
				}
				m, err := bench.MeasureIdle(cmd.Context(), bench.IdleOptions{Nodes: n})
				if err != nil {
					return localapi.Errorf(localapi.CodeInternal, "loopback TCP must be usable, and RLIMIT_NOFILE high enough for two descriptors per connection", "%v", err)
				}
				idle = append(idle, m)
			}
			rep := benchReport{
				Machine: benchMachine{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
					CPUs: runtime.NumCPU(), Pilot: node.Version},
				Throughput: t,
				Setup:      st,
				Idle:       idle,
			}
			return a.emit(rep, func(w io.Writer) { writeBench(w, rep) })
		}),
	}
	f := cmd.Flags()
	f.Int64Var(&mib, "mib", bench.DefaultBytes>>20, "MiB carried by each stream")
	f.IntVar(&o.Rounds, "rounds", bench.DefaultRounds, "streams per path; the paths take turns")
	f.IntSliceVar(&idleSizes, "idle-nodes", []int{10, 50, 100}, "mesh sizes at which to measure an idle node's cost (comma-separated or repeated)")
	f.IntVar(&so.Rounds, "setup-rounds", bench.DefaultSetupRounds, "connections set up per path; the median is reported")
	return cmd
}

func writeBench(w io.Writer, r benchReport) {
	t := r.Throughput
	fmt.Fprintf(w, "%d streams of %d MiB per path, %s on %d CPUs (%s/%s)\n\n", t.Rounds, t.BytesPerStream>>20,
		r.Machine.GoVersion, r.Machine.CPUs, r.Machine.OS, r.Machine.Arch)
	fmt.Fprintf(w, "%-24s %10s %22s\n", "path", "MB/s", "slowest-fastest round")
	row := func(name, key string, v float64) {
		s := t.Spread[key]
		fmt.Fprintf(w, "%-24s %10.1f %10.1f-%-11.1f\n", name, v, s[0], s[1])
	}
	row("raw TCP", bench.PathRawTCP, t.RawTCP)
	row("libp2p stream, TCP", bench.PathLibp2pTCP, t.Libp2pTCP)
	row("Pilot port, TCP", bench.PathPilotTCP, t.PilotTCP)
	row("libp2p stream, QUIC", bench.PathLibp2pQUIC, t.Libp2pQUIC)
	row("Pilot port, QUIC", bench.PathPilotQUIC, t.PilotQUIC)
	row("tunnel (forward+expose)", bench.PathTunnelTCP, t.PilotTunnelTCP)
	fmt.Fprintf(w, "\nPilot / libp2p: %.2f on TCP, %.2f on QUIC; libp2p TCP / raw TCP: %.2f\n",
		t.PilotTCPRatio, t.PilotQUICRatio, t.Libp2pTCPRatio)
	fmt.Fprintf(w, "tunnel / direct TCP: %.2f; tunnel / Pilot port on TCP: %.2f\n", t.TunnelRatio, t.TunnelOverPilotRatio)
	s := r.Setup
	fmt.Fprintf(w, "\nconnection setup to the first echoed byte, median of %d (ms):\n", s.Rounds)
	fmt.Fprintf(w, "  cold: Pilot (resolve + dial + stream) %.2f, libp2p (dial + stream) %.2f, raw TCP %.2f\n",
		s.PilotColdMs, s.Libp2pColdMs, s.RawTCPMs)
	fmt.Fprintf(w, "  warm: Pilot %.2f, libp2p %.2f\n", s.PilotWarmMs, s.Libp2pWarmMs)
	if len(r.Idle) > 0 {
		fmt.Fprintf(w, "\nidle node cost:\n%8s %12s %14s %12s %12s %10s\n", "nodes", "DHT servers", "heap MiB/node", "goroutines", "conns/node", "max conns")
		for _, m := range r.Idle {
			fmt.Fprintf(w, "%8d %12d %14.2f %12.0f %12.1f %10d\n", m.Nodes, m.DHTServers, m.HeapMiBPerNode, m.GoroutinesPerNode, m.ConnsPerNode, m.MaxConns)
		}
	}
}
