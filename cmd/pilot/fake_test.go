package main

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

// fakeBackend is a canned daemon behind a real local API server, so the
// client commands are tested without a node.
type fakeBackend struct {
	localapi.UnsupportedBackend
	mu       sync.Mutex
	resolved []string // addresses asked for
	pings    []localapi.PingRequest
	fail     error // returned by Resolve and Ping when set
	block    bool  // Resolve waits for its context

	// Session methods (fake_session_test.go).
	reqs        []any            // every session request, in order
	streamErr   error            // Subscribe and Events end with it after their 3 items
	acceptBlock bool             // AcceptPort waits for its context
	dialErr     error            // DialPort fails with it when set
	remote      func(c net.Conn) // the far end of DialPort and AcceptPort streams
	called      chan string      // if set, gets each session method's name as it is called
	filePath    string           // the path of the received file of message m3
	remotes     sync.WaitGroup   // goroutines running remote
}

var (
	fakeID     = localapi.Identity{Address: "3f2a.91c0.7d14", PeerID: "12D3KooWFake"}
	fakeStatus = localapi.Status{
		Address: fakeID.Address, PeerID: fakeID.PeerID,
		Addrs:        []string{"/ip4/127.0.0.1/tcp/4410/p2p/12D3KooWFake", "/ip4/127.0.0.1/udp/4410/quic-v1/p2p/12D3KooWFake"},
		Reachability: "public", DHTMode: "server", ConnectedPeers: 2, RoutingTableSize: 2,
		Version: "0.1.0", Home: "/tmp/h", Public: true, Bootstrap: []string{}, UptimeSeconds: 61.4,
	}
	fakeResolved = localapi.Resolved{Address: "0a0b.0c0d.0e0f", PeerID: "12D3KooWOther", Addrs: []string{"/ip4/127.0.0.1/tcp/5000"}, Seq: 7, Pinned: true}
	fakePeers    = localapi.Peers{Count: 1, Peers: []localapi.Peer{{Address: "0a0b.0c0d.0e0f", PeerID: "12D3KooWOther", Remote: "/ip4/127.0.0.1/tcp/5000", Direction: "outbound", Path: "direct", Transport: "tcp"}}}
)

func (f *fakeBackend) Identity() localapi.Identity { return fakeID }

func (f *fakeBackend) Status(context.Context) (localapi.Status, error) { return fakeStatus, nil }

func (f *fakeBackend) Resolve(ctx context.Context, address string) (localapi.Resolved, error) {
	f.mu.Lock()
	f.resolved = append(f.resolved, address)
	fail, block := f.fail, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return localapi.Resolved{}, ctx.Err()
	}
	if fail != nil {
		return localapi.Resolved{}, fail
	}
	return fakeResolved, nil
}

func (f *fakeBackend) Ping(_ context.Context, req localapi.PingRequest) (localapi.PingResult, error) {
	f.mu.Lock()
	f.pings = append(f.pings, req)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return localapi.PingResult{}, fail
	}
	res := localapi.PingResult{Address: req.Address, PeerID: "12D3KooWOther", Path: "direct", Remote: "/ip4/127.0.0.1/tcp/5000",
		Sent: req.Count, Received: req.Count, MinMs: 1, AvgMs: 1.5, MaxMs: 2}
	for i := range req.Count {
		res.RTTsMs = append(res.RTTsMs, 1+float64(i%2))
	}
	return res, nil
}

func (f *fakeBackend) Peers(context.Context) (localapi.Peers, error) { return fakePeers, nil }

func (f *fakeBackend) Unpin(_ context.Context, address string) (localapi.Unpinned, error) {
	return localapi.Unpinned{Address: address, PeerID: fakeID.PeerID, Removed: true}, nil
}

// startFake serves f on a fresh home and returns the home.
func startFake(t *testing.T, f *fakeBackend) string {
	t.Helper()
	t.Cleanup(f.remotes.Wait) // after the server closed: cleanups run last first
	return startBackend(t, f)
}

// startBackend serves b on a fresh home and returns the home.
func startBackend(t *testing.T, b localapi.Backend) string {
	t.Helper()
	home := shortHome(t)
	srv, err := localapi.Listen(filepath.Join(home, socketName), b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return home
}

func TestFakeDaemonJSON(t *testing.T) {
	f := &fakeBackend{}
	home := startFake(t, f)
	check := func(args []string, want, got any) {
		t.Helper()
		wantOK(t, cli(t, home, append(args, "--json")...), got)
		if g := reflect.ValueOf(got).Elem().Interface(); !reflect.DeepEqual(g, want) {
			t.Errorf("%v: data %+v, want %+v", args, g, want)
		}
	}
	check([]string{"id"}, fakeID, &localapi.Identity{})
	check([]string{"status"}, fakeStatus, &localapi.Status{})
	check([]string{"resolve", "0A0B0C0D0E0F"}, fakeResolved, &localapi.Resolved{})
	check([]string{"peers"}, fakePeers, &localapi.Peers{})
	check([]string{"unpin", "0A0B0C0D0E0F"}, localapi.Unpinned{Address: "0a0b.0c0d.0e0f", PeerID: fakeID.PeerID, Removed: true}, &localapi.Unpinned{})
	var ping localapi.PingResult
	wantOK(t, cli(t, home, "ping", "0a0b.0c0d.0e0f", "--count", "5", "--json"), &ping)
	if len(ping.RTTsMs) != 5 || ping.Path != "direct" {
		t.Errorf("ping = %+v", ping)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if !reflect.DeepEqual(f.resolved, []string{"0a0b.0c0d.0e0f"}) {
		t.Errorf("daemon was asked to resolve %q, want the canonical form", f.resolved)
	}
	if !reflect.DeepEqual(f.pings, []localapi.PingRequest{{Address: "0a0b.0c0d.0e0f", Count: 5}}) {
		t.Errorf("ping requests %+v", f.pings)
	}
}

func TestFakeDaemonText(t *testing.T) {
	home := startFake(t, &fakeBackend{})
	for _, tc := range []struct {
		args []string
		want []string // lines or fragments, in order
	}{
		{[]string{"id"}, []string{"address: 3f2a.91c0.7d14\npeer_id: 12D3KooWFake\n"}},
		{[]string{"status"}, []string{"address:            3f2a.91c0.7d14\n", "uptime:             1m1s\n", "anchor:             no\n", "public:             yes\n",
			"bootstrap:          (none)\n", "addrs:              /ip4/127.0.0.1/tcp/4410/p2p/12D3KooWFake\n                    /ip4/127.0.0.1/udp/4410/quic-v1/p2p/12D3KooWFake\n"}},
		{[]string{"resolve", "0a0b.0c0d.0e0f"}, []string{"pinned:  yes\nseq:     7\naddrs:   /ip4/127.0.0.1/tcp/5000\n"}},
		{[]string{"ping", "0a0b.0c0d.0e0f"}, []string{"ping 0a0b.0c0d.0e0f (12D3KooWOther)\nseq=1 time=1.000 ms\nseq=2 time=2.000 ms\nseq=3 time=1.000 ms\n3 sent, 3 received, 0% loss; min/avg/max = 1.000/1.500/2.000 ms\npath: direct via /ip4/127.0.0.1/tcp/5000\n"}},
		{[]string{"unpin", "0a0b.0c0d.0e0f"}, []string{"unpinned 0a0b.0c0d.0e0f (was 12D3KooWFake)\n"}},
		{[]string{"peers"}, []string{"ADDRESS         PEER_ID        DIRECTION  PATH    TRANSPORT  REMOTE_ADDR\n0a0b.0c0d.0e0f  12D3KooWOther  outbound   direct  tcp        /ip4/127.0.0.1/tcp/5000\n"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			r := cli(t, home, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d stderr %q", r.code, r.stderr)
			}
			rest := r.stdout
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", w, r.stdout)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestFakeDaemonErrors(t *testing.T) {
	f := &fakeBackend{fail: localapi.Errorf(localapi.CodeNotFound, "is the agent online?", "no record for 0a0b.0c0d.0e0f")}
	home := startFake(t, f)
	env := wantError(t, cli(t, home, "resolve", "0a0b.0c0d.0e0f", "--json"), localapi.CodeNotFound, exitFailure)
	if *env.Message != "no record for 0a0b.0c0d.0e0f" || *env.Hint != "is the agent online?" {
		t.Errorf("daemon error not passed through: %+v", env)
	}

	r := cli(t, home, "ping", "0a0b.0c0d.0e0f")
	if r.code != exitFailure || r.stdout != "" || r.stderr != "error: no record for 0a0b.0c0d.0e0f\nhint: is the agent online?\n" {
		t.Errorf("text error: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	f.mu.Lock()
	f.fail, f.block = nil, true
	f.mu.Unlock()
	env = wantError(t, cli(t, home, "resolve", "0a0b.0c0d.0e0f", "--timeout", "100ms", "--json"), localapi.CodeTimeout, exitFailure)
	if !strings.Contains(*env.Message, "within 100ms") || !strings.Contains(*env.Hint, "--timeout") {
		t.Errorf("timeout error = %+v", env)
	}

	// A second daemon on the same home is refused before any node starts.
	env = wantError(t, cli(t, home, "up", "--json"), localapi.CodeInvalidArgument, exitUsage)
	if !strings.Contains(*env.Message, "already running") {
		t.Errorf("up on a busy home: %q", *env.Message)
	}
}
