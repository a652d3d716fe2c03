package node

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// The load test's victim runs in its own process (this test binary, run
// again with victimEnv set), so its heap and goroutines are its own and
// not mixed with those of the 50 peers that load it.
const (
	victimEnv    = "PILOT_LOAD_VICTIM"
	victimPrefix = "LOADVICTIM "
)

// victimInfo is the victim's first line: where to reach it.
type victimInfo struct {
	Addr   string   `json:"addr"`
	PeerID string   `json:"peer_id"`
	Join   []string `json:"join"`
}

// victimPublished answers "publish": the victim's address record went out
// again, now that peers are there to hold it.
type victimPublished struct {
	Err string `json:"err"`
}

// victimSample is one measurement of the victim, taken after a GC.
type victimSample struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
	Goroutines int    `json:"goroutines"`
	// EchoIn is the resource manager's count of inbound echo streams.
	EchoIn int `json:"echo_in"`
	// StreamsIn is the system-wide count of inbound streams.
	StreamsIn int `json:"streams_in"`
	// Peers is the number of connected peers.
	Peers int `json:"peers"`
}

func (s victimSample) String() string {
	return fmt.Sprintf("heap %.1f MiB (in use %.1f MiB), %d goroutines, %d inbound echo streams, %d inbound streams, %d peers",
		mib(s.HeapAlloc), mib(s.HeapInuse), s.Goroutines, s.EchoIn, s.StreamsIn, s.Peers)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// victimConfig is the victim's configuration: a loopback testnet node
// with the daemon's default resource figures (ResourceMemory 512 MiB,
// 1,024 file descriptors, connection manager 64/160), so the load runs
// against the limits a real daemon has.
func victimConfig() Config {
	cfg := TestnetConfig()
	cfg.ResourceMemory, cfg.ResourceFDs = 512<<20, 1024
	cfg.ConnLow, cfg.ConnHigh = 64, 160
	return cfg
}

// TestLoadVictimProcess is not a test of its own: it is the victim
// process of TestLoadEcho, and returns at once unless victimEnv is set.
// It starts a node with victimConfig, opens its echo port to everyone,
// prints a victimInfo line, then answers each line of stdin, "sample"
// with a victimSample line and "publish" with a victimPublished line,
// until stdin closes.
func TestLoadVictimProcess(t *testing.T) {
	if os.Getenv(victimEnv) != "1" {
		return
	}
	n, err := New(victimConfig())
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	defer n.Close()
	require.NoError(t, n.SetPortPublic(ports.PortEcho, true))
	out := json.NewEncoder(os.Stdout)
	emit := func(v any) {
		_, _ = io.WriteString(os.Stdout, victimPrefix)
		require.NoError(t, out.Encode(v))
	}
	emit(victimInfo{Addr: n.Addr().String(), PeerID: n.PeerID().String(), Join: n.JoinAddrs()})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "sample":
			emit(sampleNode(n))
		case "publish":
			emit(republish(n))
		default:
			t.Fatalf("victim: unknown command %q", in.Text())
		}
	}
	require.NoError(t, n.Close())
}

// republish publishes n's address record now and waits (up to a minute)
// for the outcome.
func republish(n *Node) victimPublished {
	before, _, _ := n.DHT().LastPublish()
	n.DHT().Republish()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		wait := time.NewTimer(50 * time.Millisecond)
		<-wait.C
		if at, _, err := n.DHT().LastPublish(); at.After(before) {
			if err != nil {
				return victimPublished{Err: err.Error()}
			}
			return victimPublished{}
		}
	}
	return victimPublished{Err: "no publication within a minute"}
}

// sampleNode measures n's process after a GC.
func sampleNode(n *Node) victimSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := victimSample{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, Goroutines: runtime.NumGoroutine(),
		Peers: len(n.host.Network().Peers())}
	rm := n.host.Network().ResourceManager()
	_ = rm.ViewProtocol(ports.ProtocolID(ports.PortEcho), func(sc network.ProtocolScope) error {
		s.EchoIn = sc.Stat().NumStreamsInbound
		return nil
	})
	_ = rm.ViewSystem(func(sc network.ResourceScope) error {
		s.StreamsIn = sc.Stat().NumStreamsInbound
		return nil
	})
	return s
}

// victimProc is the parent's handle on a running victim process.
type victimProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	info  victimInfo
}

// startVictim runs the victim process and waits for its victimInfo.
func startVictim(t *testing.T) *victimProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadVictimProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), victimEnv+"=1")
	cmd.Stderr = io.Discard // the victim's logs; its failures show as a closed stdout
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	v := &victimProc{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		defer close(v.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), victimPrefix); ok {
				v.lines <- rest
			}
		}
	}()
	t.Cleanup(func() { v.stop(t) })
	v.read(t, &v.info)
	return v
}

// read decodes the victim's next line into dst, within a deadline.
func (v *victimProc) read(t *testing.T, dst any) {
	t.Helper()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case line, ok := <-v.lines:
		require.True(t, ok, "the victim process ended")
		require.NoError(t, json.Unmarshal([]byte(line), dst))
	case <-timer.C:
		t.Fatal("no answer from the victim process within a minute")
	}
}

// sample asks the victim for a victimSample.
func (v *victimProc) sample(t *testing.T) victimSample {
	t.Helper()
	_, err := io.WriteString(v.stdin, "sample\n")
	require.NoError(t, err)
	var s victimSample
	v.read(t, &s)
	return s
}

// publish has the victim publish its address record again.
func (v *victimProc) publish(t *testing.T) {
	t.Helper()
	_, err := io.WriteString(v.stdin, "publish\n")
	require.NoError(t, err)
	var p victimPublished
	v.read(t, &p)
	require.Empty(t, p.Err, "the victim's publication")
}

// stop closes the victim's stdin (it closes its node and exits) and waits
// for it. It is idempotent.
func (v *victimProc) stop(t *testing.T) {
	if v.cmd.ProcessState != nil {
		return
	}
	_ = v.stdin.Close()
	// A victim that does not exit within a minute is killed, and the
	// test fails on Wait's error.
	kill := time.AfterFunc(time.Minute, func() { _ = v.cmd.Process.Kill() })
	defer kill.Stop()
	for range v.lines { // drain until the victim closes stdout
	}
	require.NoError(t, v.cmd.Wait(), "the victim process failed")
}
