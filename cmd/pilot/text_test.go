package main

import (
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

func TestWriteKV(t *testing.T) {
	var b strings.Builder
	writeKV(&b, []kv{
		{"a", "x"},
		{"long_key", 42},
		{"flag", false},
		{"list", []string{"one", "two"}},
		{"empty", []string{}},
		{"blank", ""},
	})
	want := "a:        x\n" +
		"long_key: 42\n" +
		"flag:     no\n" +
		"list:     one\n" +
		"          two\n" +
		"empty:    (none)\n" +
		"blank:\n"
	if b.String() != want {
		t.Errorf("writeKV:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	writeTable(&b, []string{"A", "LONGER"}, [][]string{{"xyz", ""}, {"1", "2"}})
	want := "A    LONGER\nxyz  -\n1    2\n"
	if b.String() != want {
		t.Errorf("writeTable:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestWritePingLoss(t *testing.T) {
	var b strings.Builder
	writePing(&b, localapi.PingResult{Address: "a", PeerID: "p", Path: "relayed", Sent: 4, Received: 0})
	want := "ping a (p)\n4 sent, 0 received, 100% loss\npath: relayed\n"
	if b.String() != want {
		t.Errorf("writePing:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWritePeersEmpty(t *testing.T) {
	var b strings.Builder
	writePeers(&b, localapi.Peers{Peers: []localapi.Peer{}})
	if b.String() != "no connected peers\n" {
		t.Errorf("writePeers = %q", b.String())
	}
}

func TestWriteReady(t *testing.T) {
	r := upReady{Address: "3f2a.91c0.7d14", PeerID: "12D3KooWX", Socket: "/h/pilot.sock", FirstNode: true, Network: "public",
		Addrs: []string{"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWX", "/ip4/127.0.0.1/udp/1/quic-v1/p2p/12D3KooWX"}}
	var b strings.Builder
	writeReady(&b, r, 0)
	want := "pilot is up\naddress: 3f2a.91c0.7d14\npeer_id: 12D3KooWX\nsocket:  /h/pilot.sock\nnetwork: public\n\n" +
		"first node of a new mesh — others join with:\n" +
		"  pilot up --bootstrap /ip4/127.0.0.1/tcp/1/p2p/12D3KooWX\n" +
		"  pilot up --bootstrap /ip4/127.0.0.1/udp/1/quic-v1/p2p/12D3KooWX\n"
	if b.String() != want {
		t.Errorf("first node:\n%s\nwant:\n%s", b.String(), want)
	}
	r.FirstNode = false
	for n, line := range map[int]string{1: "joined via 1 bootstrap peer\n", 3: "joined via 3 bootstrap peers\n"} {
		b.Reset()
		writeReady(&b, r, n)
		if !strings.HasSuffix(b.String(), "\n\n"+line) {
			t.Errorf("joined via %d:\n%s", n, b.String())
		}
	}
}
