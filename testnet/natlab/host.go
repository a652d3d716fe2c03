package natlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// NATKind is the kind of NAT in front of a host.
type NATKind string

const (
	// None puts the host directly on the internet bridge with a public address.
	None NATKind = "none"
	// Cone is a port-restricted cone NAT: MASQUERADE (endpoint-independent
	// mapping, the source port kept when free) plus a drop of unsolicited
	// inbound packets on the WAN side, so an early inbound punch is dropped
	// instead of claiming the port and forcing a re-map.
	Cone NATKind = "cone"
	// Symmetric is MASQUERADE with fully random ports: every destination
	// sees another external port.
	Symmetric NATKind = "symmetric"
	// UDPBlocked is Cone that also drops every UDP packet from the LAN.
	UDPBlocked NATKind = "udp-blocked"
)

// maxHosts bounds the host index N, which appears in 10.N.0.0/24 and 11.0.N.1.
const maxHosts = 250

// Host is one machine of the lab: a namespace with its own address, behind a
// router namespace unless NAT is None.
type Host struct {
	// Name is the label given to AddHost; it is not part of any kernel name.
	Name string
	// Index is N in the host's names and addresses (1, 2, ...).
	Index int
	// Namespace is the host's network namespace, pl-<id>-hN.
	Namespace string
	// RouterNamespace is the NAT router's namespace, pl-<id>-rN ("" for None).
	RouterNamespace string
	// Addr is the host's own address: 10.N.0.2 behind a NAT, 11.0.N.1 without.
	Addr netip.Addr
	// PublicAddr is the address the internet sees: the router's WAN
	// address 11.0.N.1, or Addr for None.
	PublicAddr netip.Addr
	// NAT is the kind of NAT in front of the host.
	NAT NATKind
	// Ruleset is the router's firewall script ("" for None): an nft -f
	// ruleset, or iptables command lines.
	Ruleset string
}

// AddHost adds a host behind a NAT of the given kind. Names must be unique
// within the lab. If it fails, the host's half-built namespaces are removed
// again and the lab stays usable (Close it as usual).
func (l *Lab) AddHost(name string, nat NATKind) (*Host, error) {
	return l.AddHostContext(context.Background(), name, nat)
}

// AddHostContext is AddHost with a context for the commands it runs.
func (l *Lab) AddHostContext(ctx context.Context, name string, nat NATKind) (*Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errors.New("natlab: lab is closed")
	}
	switch nat {
	case None, Cone, Symmetric, UDPBlocked:
	default:
		return nil, fmt.Errorf("natlab: unknown NAT kind %q", nat)
	}
	for _, h := range l.hosts {
		if h.Name == name {
			return nil, fmt.Errorf("natlab: host %q already exists", name)
		}
	}
	n := len(l.hosts) + 1
	if n > maxHosts {
		return nil, fmt.Errorf("natlab: at most %d hosts per lab", maxHosts)
	}
	h := &Host{Name: name, Index: n, Namespace: l.name("h" + strconv.Itoa(n)), NAT: nat}
	before := len(l.nsList)
	var err error
	if nat == None {
		err = l.buildPublic(ctx, h)
	} else {
		err = l.buildNATed(ctx, h)
	}
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(fmt.Errorf("natlab: add host %q: %w", name, err), removeNamespaces(cctx, l.nsList[before:]))
		l.nsList = l.nsList[:before]
		return nil, err
	}
	l.hosts = append(l.hosts, h)
	return h, nil
}

// wanAddr is host N's address on the internet segment.
func wanAddr(n int) netip.Addr { return netip.AddrFrom4([4]byte{11, 0, byte(n), 1}) }

// plug connects interface dev (to be created in namespace ns) to the
// internet bridge through a veth whose bridge end is pl-<id>-iN, and gives
// it the public address of host n.
func (l *Lab) plug(ctx context.Context, ns, dev string, n int) error {
	inet, port := l.InetNamespace(), l.name("i"+strconv.Itoa(n))
	return runAll(ctx,
		[]string{"ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", port, "netns", inet},
		[]string{"ip", "-n", inet, "link", "set", port, "master", l.name("br"), "up"},
		[]string{"ip", "-n", ns, "addr", "add", wanAddr(n).String() + "/16", "dev", dev},
		[]string{"ip", "-n", ns, "link", "set", dev, "up"},
	)
}

// buildPublic builds a host directly on the internet bridge.
func (l *Lab) buildPublic(ctx context.Context, h *Host) error {
	h.Addr, h.PublicAddr = wanAddr(h.Index), wanAddr(h.Index)
	if err := l.addNamespace(ctx, h.Namespace); err != nil {
		return err
	}
	return l.plug(ctx, h.Namespace, l.name("e"+strconv.Itoa(h.Index)), h.Index)
}

// buildNATed builds router pl-<id>-rN (WAN on the bridge, LAN 10.N.0.1/24)
// and host pl-<id>-hN (10.N.0.2/24, default route via the router).
func (l *Lab) buildNATed(ctx context.Context, h *Host) error {
	n := strconv.Itoa(h.Index)
	h.RouterNamespace = l.name("r" + n)
	h.Addr = netip.AddrFrom4([4]byte{10, byte(h.Index), 0, 2})
	h.PublicAddr = wanAddr(h.Index)
	router := netip.AddrFrom4([4]byte{10, byte(h.Index), 0, 1})
	wan, lan, eth := l.name("w"+n), l.name("l"+n), l.name("e"+n)
	for _, ns := range []string{h.RouterNamespace, h.Namespace} {
		if err := l.addNamespace(ctx, ns); err != nil {
			return err
		}
	}
	if err := l.plug(ctx, h.RouterNamespace, wan, h.Index); err != nil {
		return err
	}
	r, hn := h.RouterNamespace, h.Namespace
	err := runAll(ctx,
		[]string{"ip", "link", "add", lan, "netns", r, "type", "veth", "peer", "name", eth, "netns", hn},
		[]string{"ip", "-n", r, "addr", "add", router.String() + "/24", "dev", lan},
		[]string{"ip", "-n", r, "link", "set", lan, "up"},
		[]string{"ip", "-n", hn, "addr", "add", h.Addr.String() + "/24", "dev", eth},
		[]string{"ip", "-n", hn, "link", "set", eth, "up"},
		[]string{"ip", "-n", hn, "route", "add", "default", "via", router.String()},
		[]string{"ip", "netns", "exec", r, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"},
	)
	if err != nil {
		return err
	}
	if l.Firewall == FirewallIPTables {
		cmds := iptablesRules(h.NAT, wan, lan)
		lines := make([]string, len(cmds))
		for i, c := range cmds {
			lines[i] = strings.Join(c, " ")
			if err := run(ctx, append([]string{"ip", "netns", "exec", r}, c...), ""); err != nil {
				return err
			}
		}
		h.Ruleset = strings.Join(lines, "\n") + "\n"
		return nil
	}
	h.Ruleset = nftRuleset(h.NAT, "pl_"+l.ID, wan, lan)
	return run(ctx, []string{"ip", "netns", "exec", r, "nft", "-f", "-"}, h.Ruleset)
}

// nftRuleset is the router's nftables table for a NAT kind.
func nftRuleset(nat NATKind, table, wan, lan string) string {
	masq := "masquerade"
	if nat == Symmetric {
		masq = "masquerade fully-random"
	}
	udp := ""
	if nat == UDPBlocked {
		udp = fmt.Sprintf("\t\tiifname %q meta l4proto udp drop\n", lan)
	}
	return fmt.Sprintf(`table ip %[1]s {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname %[2]q %[4]s
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
%[5]s		ct state established,related accept
		iifname %[3]q oifname %[2]q accept
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %[2]q ct state established,related accept
		iifname %[2]q drop
	}
}
`, table, wan, lan, masq, udp)
}

// iptablesRules is nftRuleset written as iptables commands.
func iptablesRules(nat NATKind, wan, lan string) [][]string {
	masq := []string{"iptables", "-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE"}
	if nat == Symmetric {
		masq = append(masq, "--random-fully")
	}
	rules := [][]string{masq, {"iptables", "-P", "FORWARD", "DROP"}}
	if nat == UDPBlocked {
		rules = append(rules, []string{"iptables", "-A", "FORWARD", "-i", lan, "-p", "udp", "-j", "DROP"})
	}
	return append(rules,
		[]string{"iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		[]string{"iptables", "-A", "FORWARD", "-i", lan, "-o", wan, "-j", "ACCEPT"},
		[]string{"iptables", "-A", "INPUT", "-i", wan, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		[]string{"iptables", "-A", "INPUT", "-i", wan, "-j", "DROP"},
	)
}

// Command returns a command that runs `ip netns exec <ns> name args...`, so
// name runs inside the host's namespace. ip execs the program in place, so
// cancelling ctx kills the program itself.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Namespace, name}, args...)...)
}

// Run runs a command inside the host's namespace and returns its combined
// output; the error includes the output.
func (h *Host) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := h.Command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("natlab: %s in %s: %w: %s", name, h.Namespace, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}
