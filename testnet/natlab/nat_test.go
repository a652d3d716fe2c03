package natlab

import (
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInternetRangeIsPublic: go-libp2p must treat lab WAN addresses as
// public (else DCUtR is never registered) and LAN addresses as private.
func TestInternetRangeIsPublic(t *testing.T) {
	for _, n := range []int{1, 2, maxHosts} {
		a := wanAddr(n)
		require.True(t, InternetPrefix.Contains(a))
		for _, s := range []string{"/ip4/" + a.String() + "/tcp/4001", "/ip4/" + a.String() + "/udp/4001/quic-v1"} {
			assert.True(t, manet.IsPublicAddr(ma.StringCast(s)), s)
		}
		assert.False(t, manet.IsPublicAddr(ma.StringCast("/ip4/10."+strconv.Itoa(n)+".0.2/tcp/4001")))
	}
}

// observed parses "ip:port" from a helper's "reply ... <ip:port>" line.
func observed(t *testing.T, line string) netip.AddrPort {
	t.Helper()
	f := strings.Fields(line)
	require.GreaterOrEqual(t, len(f), 2, line)
	ap, err := netip.ParseAddrPort(f[len(f)-1])
	require.NoError(t, err, line)
	return ap
}

func target(a netip.Addr, port uint16) string { return netip.AddrPortFrom(a, port).String() }

// TestTopology: a cone-NATed host reaches a public host and is seen from the
// router's public address; the public host can neither route to the private
// address nor open the router's WAN side on an unmapped port.
func TestTopology(t *testing.T) {
	l := newLab(t)
	pub := addHost(t, l, "pub", None)
	nat := addHost(t, l, "nat", Cone)
	require.Equal(t, pub.Addr, pub.PublicAddr)
	require.NotEqual(t, nat.Addr, nat.PublicAddr)
	require.True(t, InternetPrefix.Contains(nat.PublicAddr))

	echoServer(t, pub, "tcp:"+target(pub.Addr, 7000))
	out := runHelper(t, nat, "tcp-client", "NATLAB_TARGET="+target(pub.Addr, 7000))
	require.True(t, strings.HasPrefix(out[0], "reply "), out)
	assert.Equal(t, nat.PublicAddr, observed(t, out[0]).Addr(), "MASQUERADE: seen from the router's WAN address")

	// A listener on the NATed host and one on the router itself.
	echoServer(t, nat, "tcp:0.0.0.0:7001")
	router := &Host{Name: "router", Namespace: nat.RouterNamespace}
	echoServer(t, router, "tcp:0.0.0.0:7002")

	out = runHelper(t, pub, "tcp-client", "NATLAB_TARGET="+target(nat.Addr, 7001))
	assert.Contains(t, out[0], "network is unreachable", "no route from the internet to a LAN")
	out = runHelper(t, pub, "tcp-client", "NATLAB_TARGET="+target(nat.PublicAddr, 7001))
	assert.Contains(t, out[0], "timeout", "unmapped WAN port: dropped, not refused")
	out = runHelper(t, pub, "tcp-client", "NATLAB_TARGET="+target(nat.PublicAddr, 7002))
	assert.Contains(t, out[0], "timeout", "the router's own listener is closed to the WAN")
	out = runHelper(t, nat, "tcp-client", "NATLAB_TARGET="+target(nat.PublicAddr, 7002))
	assert.True(t, strings.HasPrefix(out[0], "reply "), "the router listener is up (LAN side): %v", out)
}

// TestMapping: from one local UDP port to three public endpoints, a cone NAT
// keeps one external port, a symmetric NAT does not.
func TestMapping(t *testing.T) {
	for _, fw := range []Firewall{FirewallNFT, FirewallIPTables} {
		t.Run(string(fw), func(t *testing.T) {
			requireLab(t)
			if _, err := checkEnv(0, exec.LookPath, fw); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("CI needs both nft and iptables: %v", err)
				}
				t.Skipf("%s not installed: %v", fw, err)
			}
			l, err := NewWithConfig(t.Context(), Config{Firewall: fw})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, l.Close()) })
			a := addHost(t, l, "a", None)
			b := addHost(t, l, "b", None)
			cone := addHost(t, l, "cone", Cone)
			sym := addHost(t, l, "sym", Symmetric)
			echoServer(t, a, "udp:"+target(a.Addr, 7000), "udp:"+target(a.Addr, 7001))
			echoServer(t, b, "udp:"+target(b.Addr, 7000))
			targets := "NATLAB_TARGETS=" + strings.Join([]string{target(a.Addr, 7000), target(b.Addr, 7000), target(a.Addr, 7001)}, ",")

			ports := func(h *Host) []uint16 {
				out := runHelper(t, h, "udp-client", "NATLAB_LOCAL=0.0.0.0:40000", targets)
				require.Len(t, out, 3, out)
				var ps []uint16
				for _, line := range out {
					require.True(t, strings.HasPrefix(line, "reply "), out)
					ap := observed(t, line)
					require.Equal(t, h.PublicAddr, ap.Addr(), line)
					ps = append(ps, ap.Port())
				}
				return ps
			}
			cp := ports(cone)
			assert.Equal(t, []uint16{cp[0], cp[0], cp[0]}, cp, "cone: one external port for every destination")
			sp := ports(sym)
			assert.False(t, sp[0] == sp[1] && sp[1] == sp[2], "symmetric: ports per destination, got %v", sp)
			t.Logf("cone ports %v, symmetric ports %v", cp, sp)
		})
	}
}

// TestUDPBlocked: behind udp-blocked, UDP never leaves the LAN; TCP does.
func TestUDPBlocked(t *testing.T) {
	l := newLab(t)
	pub := addHost(t, l, "pub", None)
	blocked := addHost(t, l, "blocked", UDPBlocked)
	srv := echoServer(t, pub, "udp:"+target(pub.Addr, 7000), "tcp:"+target(pub.Addr, 7000))

	out := runHelper(t, blocked, "udp-client", "NATLAB_LOCAL=0.0.0.0:40000", "NATLAB_TARGETS="+target(pub.Addr, 7000))
	assert.Equal(t, []string{"noreply " + target(pub.Addr, 7000)}, out)
	out = runHelper(t, blocked, "tcp-client", "NATLAB_TARGET="+target(pub.Addr, 7000))
	require.True(t, strings.HasPrefix(out[0], "reply "), out)
	assert.Equal(t, blocked.PublicAddr, observed(t, out[0]).Addr())
	// The server saw the TCP connection and no UDP packet.
	got := srv.expect(t, "tcp ", 5*time.Second)
	assert.Contains(t, got, blocked.PublicAddr.String())
	for {
		select {
		case line := <-srv.lines:
			assert.False(t, strings.HasPrefix(line, "udp "), "UDP arrived: %s", line)
		default:
			return
		}
	}
}

// TestConeEarlyPunchKeepsMapping: an inbound punch that reaches a cone
// router before the host has sent anything is dropped, so it does not claim
// the port and the host's later outbound packet keeps its mapping (see
// PITFALLS: without the WAN INPUT drop Linux re-maps and looks symmetric).
func TestConeEarlyPunchKeepsMapping(t *testing.T) {
	l := newLab(t)
	pub := addHost(t, l, "pub", None)
	cone := addHost(t, l, "cone", Cone)
	out := runHelper(t, pub, "udp-client", "NATLAB_LOCAL="+target(pub.Addr, 7000), "NATLAB_TARGETS="+target(cone.PublicAddr, 40000))
	require.Equal(t, []string{"noreply " + target(cone.PublicAddr, 40000)}, out, "early punch dropped")
	echoServer(t, pub, "udp:"+target(pub.Addr, 7000))
	out = runHelper(t, cone, "udp-client", "NATLAB_LOCAL=0.0.0.0:40000", "NATLAB_TARGETS="+target(pub.Addr, 7000))
	require.Len(t, out, 1)
	assert.Equal(t, netip.AddrPortFrom(cone.PublicAddr, 40000), observed(t, out[0]), "mapping kept after the early punch")
}
