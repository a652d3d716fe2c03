package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

// upOptions are the flags of `pilot up`.
type upOptions struct {
	listen    []string
	bootstrap []string
	anchor    bool
	public    bool
	noMDNS    bool
	swarmKey  string
	// taskHandler and taskMinPolo configure the task service.
	taskHandler string
	taskMinPolo int
	taskTimeout time.Duration
	// metrics is --metrics: serve Prometheus metrics on this HOST:PORT.
	metrics string
}

// upReady is the data of the ready message of `pilot up`.
type upReady struct {
	Address   string   `json:"address"`
	PeerID    string   `json:"peer_id"`
	Addrs     []string `json:"addrs"` // JoinAddrs: what others pass to --bootstrap
	Socket    string   `json:"socket"`
	FirstNode bool     `json:"first_node"`
	Network   string   `json:"network"` // "public" or the swarm's short ID
	// Metrics is the HOST:PORT serving /metrics (--metrics), else absent.
	Metrics string `json:"metrics,omitempty"`
}

func newUpCmd(a *app) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run this node as a daemon until SIGINT or SIGTERM",
		Long: `Run the node in the foreground: start the libp2p host, join the DHT through
the --bootstrap peers (none: first node of a new mesh), and serve the local
API on <home>/pilot.sock. The identity key in <home> is created on first run
and reused afterwards, so the address survives restarts.

When ready it prints one message on stdout (with --json one ok-envelope with
the address, peer ID and join addresses), then runs until SIGINT or SIGTERM,
shuts down cleanly, removes the socket and exits 0. Logs go to stderr.`,
		Example: `  pilot up
  pilot up --anchor --public --listen /ip4/0.0.0.0/tcp/4410 --listen /ip4/0.0.0.0/udp/4410/quic-v1
  pilot up --bootstrap /ip4/203.0.113.7/tcp/4410/p2p/12D3KooW... --json`,
		Annotations: map[string]string{
			annOutput:      fieldList(upReady{}),
			annLongRunning: "true",
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			// <home>/config.toml sets the flags not given (configmerge.go);
			// here, not in runUp, because runUp gets a copy of o.
			if err := applyConfigFile(cmd, a.home); err != nil {
				return err
			}
			return a.runUp(cmd, o)
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.listen, "listen", nil, "multiaddr to listen on, repeatable (default: TCP and QUIC on port "+node.DefaultPort+" of every IPv4 and IPv6 interface)")
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "multiaddr ending in /p2p/<peer-id> of a node to join through, repeatable (none: first node of a new mesh)")
	f.BoolVar(&o.anchor, "anchor", false, "run as a public bootstrap node (DHT server, anchor preset)")
	f.BoolVar(&o.public, "public", false, "announce direct addresses")
	f.BoolVar(&o.noMDNS, "no-mdns", false, "disable LAN discovery over mDNS")
	f.StringVar(&o.taskHandler, "task-handler", "", "run every admitted task with this command (split on spaces, no shell): task JSON on stdin, result JSON on stdout, exit 0 = success")
	f.DurationVar(&o.taskTimeout, "task-timeout", 0, "bound one --task-handler run (0: 60s)")
	f.IntVar(&o.taskMinPolo, "task-min-polo", node.TaskGateTrustedOnly, "admit tasks from untrusted peers whose Polo here is at least this, 0-1000 (-1: trusted peers only)")
	f.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (default off; 0.0.0.0 exposes them to the network: docs/observability.md)")
	f.StringVar(&o.swarmKey, "swarm-key", "", "run in the private swarm of this key file (default <home>/swarm.key when it exists; see `pilot swarm new`)")
	return cmd
}

// runUp starts the node, prints the ready message and blocks until a signal
// (or the cancellation of cmd's context).
func (a *app) runUp(cmd *cobra.Command, o upOptions) error {
	for _, s := range o.listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return usageError(cmd, "--listen %q is not a multiaddr: %v", s, err)
		}
	}
	for _, s := range o.bootstrap {
		if _, err := peer.AddrInfoFromString(s); err != nil {
			return usageError(cmd, "--bootstrap %q: want a multiaddr ending in /p2p/<peer-id>: %v", s, err)
		}
	}
	// Everything that can be refused is checked before anything starts:
	// a bad key or config file leaves no socket, store or half-started
	// node behind.
	key, err := loadSwarmKey(a.home, o.swarmKey)
	if err != nil {
		return err
	}
	fc, err := loadFileConfig(a.home)
	if err != nil {
		return configError(err)
	}
	cfg := node.DaemonConfig(a.home)
	if o.anchor {
		cfg = node.AnchorConfig(a.home)
	}
	cfg.SwarmKey = key
	if o.taskMinPolo < node.TaskGateTrustedOnly || o.taskMinPolo > 1000 {
		return usageError(cmd, "--task-min-polo %d: want -1 (trusted peers only) or 0 to 1000", o.taskMinPolo)
	}
	cfg.TaskMinPolo = o.taskMinPolo
	cfg.TaskHandler = strings.Fields(o.taskHandler)
	cfg.TaskHandlerTimeout = o.taskTimeout
	if len(o.listen) > 0 {
		cfg.ListenAddrs = o.listen
	}
	cfg.Bootstrap = append(slices.Clone(fc.Bootstrap), o.bootstrap...)
	if o.public {
		cfg.Public = true
	}
	if o.noMDNS {
		cfg.MDNS = false
	}
	if o.metrics != "" {
		if err := checkMetricsAddr(cmd, o.metrics); err != nil {
			return err
		}
	}
	if err := checkNotRunning(cmd.Context(), cfg.APISocket); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return localapi.Errorf(localapi.CodeInternal, "pass a writable --home", "create home %s: %v", cfg.Home, err)
	}

	if os.Getenv("GOLOG_LOG_LEVEL") == "" {
		// A daemon's operator wants Pilot's own warnings and milestones on
		// stderr; go-log's default (errors only) would hide "no bootstrap
		// peer reachable". GOLOG_LOG_LEVEL overrides this.
		_ = logging.SetLogLevelRegex("^pilot/", "info")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var metricsSrv *metricsServer
	if o.metrics != "" {
		if metricsSrv, err = listenMetrics(o.metrics); err != nil {
			return err
		}
		defer metricsSrv.close()
		cfg.Metrics = metricsSrv.reg
	}
	n, err := node.New(cfg)
	if err != nil {
		return localapi.Errorf(localapi.CodeInvalidArgument, "check --home and the --listen/--bootstrap/--swarm-key flags", "pilot up: %v", err)
	}
	if err := n.Start(ctx); err != nil {
		_ = n.Close()
		if errors.Is(err, node.ErrOtherNetwork) {
			return localapi.Errorf(localapi.CodeInvalidArgument, "a home folder serves one network: pass another --home, or the key this home was used with", "pilot up: %v", err)
		}
		return localapi.Errorf(localapi.CodeInternal, "check --listen (a port in use?) and --bootstrap; the log is on stderr", "pilot up: start: %v", err)
	}
	ready := upReady{
		Address:   n.Addr().String(),
		PeerID:    n.PeerID().String(),
		Addrs:     n.JoinAddrs(),
		Socket:    cfg.APISocket,
		FirstNode: n.FirstNode(),
		Network:   cfg.Network(),
	}
	if ready.Addrs == nil {
		ready.Addrs = []string{}
	}
	if metricsSrv != nil {
		metricsSrv.serve(func(err error) { fmt.Fprintf(a.stderr, "pilot: metrics server stopped: %v\n", err) })
		ready.Metrics = metricsSrv.Addr()
	}
	if err := a.emit(ready, func(w io.Writer) { writeReady(w, ready, len(cfg.Bootstrap)) }); err != nil {
		_ = n.Close()
		return err
	}

	<-ctx.Done()
	stop() // a second signal now kills the process the default way
	if !a.json() {
		fmt.Fprintln(a.stderr, "pilot: shutting down")
	}
	if err := n.Close(); err != nil {
		return localapi.Errorf(localapi.CodeInternal, "the daemon's log on stderr has details", "pilot up: close: %v", err)
	}
	return nil
}

// checkNotRunning fails when a daemon already answers on socket: two
// daemons must not share a home.
func checkNotRunning(ctx context.Context, socket string) error {
	if socket == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c := localapi.NewClient(socket)
	defer c.Close()
	id, err := c.Identity(ctx)
	if err != nil {
		return nil // not running, or not answering: let the node take the socket
	}
	return localapi.Errorf(localapi.CodeInvalidArgument, "stop that daemon first, or pass another --home",
		"a pilot daemon (%s) is already running on %s", id.Address, socket)
}

// writeReady prints the text form of the ready message.
func writeReady(w io.Writer, r upReady, bootstraps int) {
	fmt.Fprintln(w, "pilot is up")
	kvs := []kv{
		{"address", r.Address},
		{"peer_id", r.PeerID},
		{"socket", r.Socket},
		{"network", r.Network},
	}
	if r.Metrics != "" {
		kvs = append(kvs, kv{"metrics", "http://" + r.Metrics + "/metrics"})
	}
	writeKV(w, kvs)
	fmt.Fprintln(w)
	if r.FirstNode {
		what, key := "mesh", ""
		if r.Network != "public" {
			what, key = "swarm", "--swarm-key <this swarm's key file> "
		}
		fmt.Fprintf(w, "first node of a new %s — others join with:\n", what)
		for _, addr := range r.Addrs {
			fmt.Fprintf(w, "  pilot up %s--bootstrap %s\n", key, addr)
		}
		return
	}
	fmt.Fprintf(w, "joined via %d bootstrap %s\n", bootstraps, plural(bootstraps, "peer", "peers"))
}
