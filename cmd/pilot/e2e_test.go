package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

func TestThreeDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()

	a := startDaemon(t, bin, "A", homeA, "--anchor", "--json")
	readyA := a.ready(t)
	if !readyA.FirstNode || readyA.Socket != filepath.Join(homeA, socketName) {
		t.Errorf("A ready = %+v, want first node with socket in its home", readyA)
	}
	join := tcpJoin(t, readyA)

	b := startDaemon(t, bin, "B", homeB, "--public", "--bootstrap", join, "--json")
	readyB := b.ready(t)
	if readyB.FirstNode {
		t.Errorf("B says it is the first node: %+v", readyB)
	}
	c := startDaemon(t, bin, "C", homeC, "--public", "--bootstrap", join)
	text := c.waitStdout(t, "ready message", 60*time.Second, func(s string) bool { return strings.Contains(s, "joined via") })
	for _, want := range []string{"pilot is up\n", "address: ", "peer_id: ", "socket:  " + filepath.Join(homeC, socketName), "joined via 1 bootstrap peer\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("C's ready text lacks %q:\n%s", want, text)
		}
	}

	// C resolves B once B's record has reached the DHT.
	var res localapi.Resolved
	eventually(t, "C resolves B", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeC, "resolve", readyB.Address, "--json", "--timeout", "15s")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &res)
		return true, ""
	})
	if res.Address != readyB.Address || res.PeerID != readyB.PeerID || len(res.Addrs) == 0 || !res.Pinned {
		t.Errorf("resolve B = %+v, want B's peer ID %s, addresses, pinned", res, readyB.PeerID)
	}

	var ping localapi.PingResult
	r := pilotRun(t, bin, 60*time.Second, "--home", homeC, "ping", readyB.Address, "--count", "3", "--json")
	wantOK(t, r, &ping)
	if len(ping.RTTsMs) != 3 || ping.Sent != 3 || ping.Received != 3 || ping.Path != "direct" || ping.PeerID != readyB.PeerID {
		t.Errorf("ping B = %+v, want 3 RTTs over a direct path to %s", ping, readyB.PeerID)
	}

	var status map[string]any
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeC, "status", "--json"), &status)
	for _, k := range []string{"address", "peer_id", "addrs", "reachability", "dht_mode", "connected_peers", "routing_table_size", "version"} {
		if _, ok := status[k]; !ok {
			t.Errorf("status lacks %q: %v", k, status)
		}
	}
	var st localapi.Status
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeC, "status", "--json"), &st)
	if st.Version != node.Version || st.Reachability == "" || (st.DHTMode != "server" && st.DHTMode != "client") ||
		st.ConnectedPeers < 1 || len(st.Addrs) == 0 {
		t.Errorf("status C = %+v", st)
	}
	for _, addr := range st.Addrs {
		if !strings.HasSuffix(addr, "/p2p/"+st.PeerID) {
			t.Errorf("status addr %q does not end in /p2p/%s", addr, st.PeerID)
		}
	}

	var peers localapi.Peers
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeC, "peers", "--json"), &peers)
	if !slices.ContainsFunc(peers.Peers, func(p localapi.Peer) bool { return p.PeerID == readyA.PeerID && p.Address == readyA.Address }) {
		t.Errorf("C's peers do not list A (%s %s): %+v", readyA.Address, readyA.PeerID, peers)
	}

	// Nobody holds this address: not_found, in bounded time.
	r = pilotRun(t, bin, 60*time.Second, "--home", homeC, "resolve", "0000.0000.0001", "--json")
	wantError(t, r, localapi.CodeNotFound, exitFailure)

	var idB localapi.Identity
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeB, "id", "--json"), &idB)
	if idB.Address != readyB.Address || idB.PeerID != readyB.PeerID {
		t.Errorf("id B = %+v, ready said %+v", idB, readyB)
	}

	c.stop(t)
	b.stop(t)
	a.stop(t)

	// A restart keeps the key, hence the address.
	b2 := startDaemon(t, bin, "B-restarted", homeB, "--public", "--json")
	readyB2 := b2.ready(t)
	var idB2 localapi.Identity
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeB, "id", "--json"), &idB2)
	if idB2 != idB || readyB2.Address != idB.Address || readyB2.PeerID != idB.PeerID {
		t.Errorf("after restart B is %+v (ready %s %s), before %+v", idB2, readyB2.Address, readyB2.PeerID, idB)
	}
	b2.stop(t)
}
