package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// kv is one "key: value" line of text output. A []string value spreads
// over several lines; a bool prints as yes/no.
type kv struct {
	k string
	v any
}

// writeKV prints rows as aligned "key: value" lines.
func writeKV(w io.Writer, rows []kv) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.k)+1)
	}
	line := func(label, value string) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-*s %s", width, label, value), " "))
	}
	for _, r := range rows {
		label := r.k + ":"
		switch v := r.v.(type) {
		case []string:
			if len(v) == 0 {
				line(label, "(none)")
			}
			for i, s := range v {
				if i > 0 {
					label = ""
				}
				line(label, s)
			}
		case bool:
			line(label, map[bool]string{true: "yes", false: "no"}[v])
		default:
			line(label, fmt.Sprint(v))
		}
	}
}

// writeTable prints a table with a header row, columns separated by at
// least two spaces. Empty cells print as "-".
func writeTable(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			if c == "" {
				c = "-"
			}
			cells[i] = c
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
}

// plural returns one or many depending on n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ms formats milliseconds for text output.
func ms(v float64) string { return fmt.Sprintf("%.3f", v) }

func writeIdentity(w io.Writer, v localapi.Identity) {
	writeKV(w, []kv{{"address", v.Address}, {"peer_id", v.PeerID}})
}

func writeStatus(w io.Writer, v localapi.Status) {
	uptime := time.Duration(v.UptimeSeconds * float64(time.Second)).Round(time.Second)
	writeKV(w, []kv{
		{"address", v.Address},
		{"peer_id", v.PeerID},
		{"version", v.Version},
		{"home", v.Home},
		{"uptime", uptime.String()},
		{"network", networkText(v.Network, v.Transports)},
		{"reachability", v.Reachability},
		{"nat", v.NAT},
		{"dht_mode", v.DHTMode},
		{"anchor", v.Anchor},
		{"public", v.Public},
		{"connected_peers", v.ConnectedPeers},
		{"routing_table_size", v.RoutingTableSize},
		{"bootstrap", v.Bootstrap},
		{"addrs", v.Addrs},
		{"published_addrs", v.PublishedAddrs},
		{"relay_reservations", v.RelayReservations},
		{"reachable_addrs", v.ReachableAddrs},
		{"unreachable_addrs", v.UnreachableAddrs},
	})
}

func writeResolved(w io.Writer, v localapi.Resolved) {
	writeKV(w, []kv{
		{"address", v.Address},
		{"peer_id", v.PeerID},
		{"pinned", v.Pinned},
		{"seq", v.Seq},
		{"addrs", v.Addrs},
	})
}

func writePing(w io.Writer, v localapi.PingResult) {
	fmt.Fprintf(w, "ping %s (%s)\n", v.Address, v.PeerID)
	for i, rtt := range v.RTTsMs {
		fmt.Fprintf(w, "seq=%d time=%s ms\n", i+1, ms(rtt))
	}
	loss := 0
	if v.Sent > 0 {
		loss = (v.Sent - v.Received) * 100 / v.Sent
	}
	fmt.Fprintf(w, "%d sent, %d received, %d%% loss", v.Sent, v.Received, loss)
	if v.Received > 0 {
		fmt.Fprintf(w, "; min/avg/max = %s/%s/%s ms", ms(v.MinMs), ms(v.AvgMs), ms(v.MaxMs))
	}
	fmt.Fprintln(w)
	if v.Remote != "" {
		fmt.Fprintf(w, "path: %s via %s\n", v.Path, v.Remote)
	} else {
		fmt.Fprintf(w, "path: %s\n", v.Path)
	}
}

func writePeers(w io.Writer, v localapi.Peers) {
	if len(v.Peers) == 0 {
		fmt.Fprintln(w, "no connected peers")
		return
	}
	rows := make([][]string, len(v.Peers))
	for i, p := range v.Peers {
		rows[i] = []string{p.Address, p.PeerID, p.Direction, p.Path, p.Transport, p.Remote}
	}
	writeTable(w, []string{"ADDRESS", "PEER_ID", "DIRECTION", "PATH", "TRANSPORT", "REMOTE_ADDR"}, rows)
}

// networkText is status's network line: the public mesh, or a swarm with
// a reminder that it runs over TCP only.
func networkText(network string, transports []string) string {
	if network == "public" || network == "" {
		return "public"
	}
	return fmt.Sprintf("swarm %s (transports: %s; private networks cannot carry QUIC)", network, strings.Join(transports, ", "))
}
