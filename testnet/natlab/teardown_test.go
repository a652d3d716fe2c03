package natlab

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rootState is what the root namespace must never gain from a lab.
type rootState struct{ links, routes, tables string }

var linkIndex = regexp.MustCompile(`(?m)^\d+: (\S+?)(@\S+)?:.*$`)

// snapshot records the root namespace's interface names, IPv4/IPv6 routes
// and nftables tables.
func snapshot(t *testing.T) rootState {
	t.Helper()
	cmd := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil && argv[0] == "nft" {
			if _, lerr := exec.LookPath("nft"); lerr != nil {
				return "(no nft)"
			}
		}
		require.NoError(t, err, "%v: %s", argv, out)
		return string(out)
	}
	var names []string
	for _, m := range linkIndex.FindAllStringSubmatch(cmd("ip", "-o", "link"), -1) {
		names = append(names, m[1])
	}
	return rootState{
		links:  strings.Join(names, " "),
		routes: cmd("ip", "route", "show", "table", "all"),
		tables: cmd("nft", "list", "tables"),
	}
}

// labNamespaces returns the namespaces of lab id present now.
func labNamespaces(t *testing.T, id string) []string {
	t.Helper()
	labs, err := listNamespaces()
	require.NoError(t, err)
	return labs[id]
}

// waitGone polls until lab id has no namespace and no owner file left.
func waitGone(t *testing.T, id string, timeout time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := os.Stat(pidFile(id))
		return len(labNamespaces(t, id)) == 0 && errors.Is(err, os.ErrNotExist)
	}, timeout, 20*time.Millisecond, "lab %s left namespaces %v", id, labNamespaces(t, id))
}

func TestCheckEnv(t *testing.T) {
	have := func(tools ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, tool := range tools {
				if tool == name {
					return "/usr/sbin/" + name, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	_, err := checkEnv(1000, have("ip", "nft"), FirewallAuto)
	require.ErrorIs(t, err, ErrNotRoot)
	_, err = checkEnv(0, have("nft"), FirewallAuto)
	require.ErrorIs(t, err, ErrMissingTool)
	assert.Contains(t, err.Error(), "apt-get install -y iproute2")
	_, err = checkEnv(0, have("ip"), FirewallAuto)
	require.ErrorIs(t, err, ErrMissingTool)
	assert.Contains(t, err.Error(), "nftables")
	fw, err := checkEnv(0, have("ip", "iptables"), FirewallAuto)
	require.NoError(t, err)
	assert.Equal(t, FirewallIPTables, fw)
	fw, err = checkEnv(0, have("ip", "nft", "iptables"), FirewallAuto)
	require.NoError(t, err)
	assert.Equal(t, FirewallNFT, fw)
	_, err = checkEnv(0, have("ip", "iptables"), FirewallNFT)
	require.ErrorIs(t, err, ErrMissingTool)
}

// TestNoLeakIntoRoot: while a lab with every NAT kind runs, and after it
// closes, the root namespace has the same interfaces, routes and nft tables.
func TestNoLeakIntoRoot(t *testing.T) {
	requireLab(t)
	before := snapshot(t)
	l, err := New(t.Context())
	require.NoError(t, err)
	defer func() { require.NoError(t, l.Close()) }()
	for _, k := range []NATKind{None, Cone, Symmetric, UDPBlocked} {
		h := addHost(t, l, string(k), k)
		out, err := h.Run(t.Context(), "ip", "-o", "addr", "show")
		require.NoError(t, err)
		assert.Contains(t, string(out), h.Addr.String())
	}
	assert.Equal(t, before, snapshot(t), "root namespace changed while the lab runs")
	out, err := exec.Command("ip", "-n", l.InetNamespace(), "-o", "link", "show", "type", "bridge").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "pl-"+l.ID+"-br", "the bridge lives in the inet namespace")
	// Lab routes stay in the lab: a host's table only knows the lab.
	h := l.Hosts()[1]
	out, err = h.Run(t.Context(), "ip", "route")
	require.NoError(t, err)
	assert.Equal(t, "default via 10.2.0.1 dev pl-"+l.ID+"-e2 \n10.2.0.0/24 dev pl-"+l.ID+"-e2 proto kernel scope link src 10.2.0.2 \n", string(out))
	require.NoError(t, l.Close())
	waitGone(t, l.ID, 5*time.Second)
	assert.Equal(t, before, snapshot(t), "root namespace changed after Close")
}

// TestCloseRemovesEverything: Close removes the namespaces (even with a
// program still running inside) and the owner file, and is idempotent.
func TestCloseRemovesEverything(t *testing.T) {
	requireLab(t)
	l, err := New(t.Context())
	require.NoError(t, err)
	h := addHost(t, l, "nat", Symmetric)
	addHost(t, l, "pub", None)
	_, err = l.AddHost("nat", Cone)
	require.Error(t, err, "duplicate name")
	require.Len(t, labNamespaces(t, l.ID), 4)
	echoServer(t, h, "udp:0.0.0.0:7000") // still running at Close
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	waitGone(t, l.ID, time.Second)
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "pl-"+l.ID+"-")
	_, err = l.AddHost("late", None)
	require.Error(t, err)
}

// TestKilledOwnerIsSwept: a process that built a lab is SIGKILLed; Cleanup
// removes its leftovers, and the root namespace is as before.
func TestKilledOwnerIsSwept(t *testing.T) {
	requireLab(t)
	before := snapshot(t)
	p := start(t, helperCmd(t, nil, "lab"))
	id := strings.TrimPrefix(p.expect(t, "lab ", 30*time.Second), "lab ")
	require.Len(t, labNamespaces(t, id), 4)
	require.True(t, ownerAlive(id))

	removed, err := Cleanup(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(removed, " "), id, "a live owner's lab is kept")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()
	require.False(t, ownerAlive(id))
	require.Len(t, labNamespaces(t, id), 4, "SIGKILL leaves the namespaces behind")

	removed, err = Cleanup(t.Context())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"pl-" + id + "-inet", "pl-" + id + "-h1", "pl-" + id + "-h2", "pl-" + id + "-r2"}, removed)
	waitGone(t, id, 5*time.Second)
	assert.Equal(t, before, snapshot(t))
}

// TestCloseOnSignal: SIGTERM to a process with CloseOnSignal removes its lab
// and still terminates the process.
func TestCloseOnSignal(t *testing.T) {
	requireLab(t)
	p := start(t, helperCmd(t, nil, "lab", "NATLAB_SIGNAL=1"))
	id := strings.TrimPrefix(p.expect(t, "lab ", 30*time.Second), "lab ")
	require.Len(t, labNamespaces(t, id), 4)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	waitGone(t, id, 10*time.Second)
	err := p.cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	ws := ee.Sys().(syscall.WaitStatus)
	assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGTERM, "exited by the re-raised SIGTERM: %v", err)
}

// TestCloseOnSignalStop: stop ends the watch without closing the lab.
func TestCloseOnSignalStop(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithCancel(t.Context())
	stop := l.CloseOnSignal(ctx)
	stop()
	stop()
	cancel()
	l.CloseOnSignal(ctx)() // ctx already done: returns at once
	assert.Len(t, labNamespaces(t, l.ID), 1)
}
