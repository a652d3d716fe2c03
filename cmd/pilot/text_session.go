package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Text renderings of the session commands' results.

// yesNo renders a bool in a table cell.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writeInbox(w io.Writer, v localapi.InboxList) {
	if len(v.Messages) == 0 {
		fmt.Fprintln(w, "inbox is empty")
		return
	}
	rows := make([][]string, len(v.Messages))
	for i, m := range v.Messages {
		rows[i] = []string{m.ID, m.FromAddr, m.Kind, strconv.FormatInt(m.Size, 10), m.Name, m.ReceivedAt}
	}
	writeTable(w, []string{"ID", "FROM_ADDRESS", "KIND", "SIZE", "NAME", "RECEIVED"}, rows)
}

// writeInboxHeaders prints a message's headers; empty optional fields are
// left out.
func writeInboxHeaders(w io.Writer, m localapi.InboxMessage) {
	rows := []kv{{"id", m.ID}, {"from", m.From}, {"from_address", m.FromAddr}, {"kind", m.Kind}}
	if m.Name != "" {
		rows = append(rows, kv{"name", m.Name})
	}
	rows = append(rows, kv{"size", m.Size}, kv{"received_at", m.ReceivedAt})
	if m.Path != "" {
		rows = append(rows, kv{"path", m.Path})
	}
	writeKV(w, rows)
}

// writeInboxMessage prints the headers, a blank line, then the body: text
// and JSON as they are, anything else as a note on how to get it.
func writeInboxMessage(w io.Writer, m localapi.InboxMessage) {
	writeInboxHeaders(w, m)
	fmt.Fprintln(w)
	switch {
	case m.Kind == "text" || m.Kind == "json":
		fmt.Fprint(w, m.Text)
		if !strings.HasSuffix(m.Text, "\n") {
			fmt.Fprintln(w)
		}
	case m.Path != "" && m.Body == nil:
		fmt.Fprintf(w, "(%s of %d %s saved at %s; --out PATH copies it)\n", m.Kind, m.Size, plural(int(m.Size), "byte", "bytes"), m.Path)
	default:
		fmt.Fprintf(w, "(%s body of %d %s; use --json (base64 \"body\") or --out PATH to get it)\n",
			m.Kind, m.Size, plural(int(m.Size), "byte", "bytes"))
	}
}

func writeTrustRecord(w io.Writer, v localapi.TrustRecord) {
	writeKV(w, []kv{
		{"address", v.Address},
		{"peer_id", v.PeerID},
		{"state", v.State},
		{"direction", v.Direction},
		{"message", v.Message},
		{"updated", v.Updated},
	})
}

func writeTrustList(w io.Writer, v localapi.TrustList, pendingOnly bool) {
	if len(v.Records) == 0 {
		if pendingOnly {
			fmt.Fprintln(w, "no pending trust requests")
		} else {
			fmt.Fprintln(w, "no trust records")
		}
		return
	}
	rows := make([][]string, len(v.Records))
	for i, r := range v.Records {
		rows[i] = []string{r.Address, r.PeerID, r.State, r.Direction, r.Updated, strconv.Quote(r.Message)}
		if r.Message == "" {
			rows[i][5] = ""
		}
	}
	writeTable(w, []string{"ADDRESS", "PEER_ID", "STATE", "DIRECTION", "UPDATED", "MESSAGE"}, rows)
}

func writePorts(w io.Writer, v localapi.PortList) {
	if len(v.Ports) == 0 {
		fmt.Fprintln(w, "no open or public ports")
		return
	}
	rows := make([][]string, len(v.Ports))
	for i, p := range v.Ports {
		rows[i] = []string{strconv.Itoa(int(p.Port)), yesNo(p.Public), yesNo(p.Listening), p.Service}
	}
	writeTable(w, []string{"PORT", "PUBLIC", "LISTENING", "SERVICE"}, rows)
}

func writeTunnel(w io.Writer, v localapi.Tunnel) {
	writeKV(w, []kv{
		{"id", v.ID},
		{"kind", v.Kind},
		{"port", v.Port},
		{"local", v.Local},
		{"remote", v.Remote},
		{"active", v.Active},
		{"total", v.Total},
		{"bytes_in", v.BytesIn},
		{"bytes_out", v.BytesOut},
		{"created", v.Created},
	})
}

func writeTunnels(w io.Writer, v localapi.TunnelList) {
	if len(v.Tunnels) == 0 {
		fmt.Fprintln(w, "no tunnels")
		return
	}
	rows := make([][]string, len(v.Tunnels))
	for i, t := range v.Tunnels {
		rows[i] = []string{t.ID, t.Kind, strconv.Itoa(int(t.Port)), t.Local, t.Remote,
			strconv.Itoa(t.Active), strconv.FormatUint(t.Total, 10),
			strconv.FormatUint(t.BytesIn, 10), strconv.FormatUint(t.BytesOut, 10)}
	}
	writeTable(w, []string{"ID", "KIND", "PORT", "LOCAL", "REMOTE", "ACTIVE", "TOTAL", "BYTES_IN", "BYTES_OUT"}, rows)
}

func writeProfile(w io.Writer, v localapi.Profile) {
	host := v.Hostname
	if host == "" {
		host = "(none)"
	}
	ports := make([]string, len(v.Ports))
	for i, p := range v.Ports {
		ports[i] = strconv.Itoa(int(p))
	}
	writeKV(w, []kv{
		{"address", v.Address},
		{"hostname", host},
		{"tags", v.Tags},
		{"ports", ports},
		{"version", v.Version},
	})
}

func writeFind(w io.Writer, v localapi.FindResult) {
	if len(v.Claimants) == 0 {
		fmt.Fprintf(w, "no agent found for %s\n", v.Query)
		return
	}
	rows := make([][]string, len(v.Claimants))
	for i, c := range v.Claimants {
		rows[i] = []string{c.Address, c.Hostname, c.PeerID, yesNo(c.Trusted), yesNo(c.Pinned), strconv.FormatFloat(c.Score, 'f', 3, 64)}
	}
	writeTable(w, []string{"ADDRESS", "HOSTNAME", "PEER_ID", "TRUSTED", "PINNED", "SCORE"}, rows)
}
