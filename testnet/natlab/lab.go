package natlab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotRoot is returned by New and Check when the process is not root:
// namespaces, veths and NAT rules need CAP_NET_ADMIN.
var ErrNotRoot = errors.New("natlab: must run as root (network namespaces and NAT need CAP_NET_ADMIN); run e.g. `sudo go test ./testnet/natlab`")

// ErrMissingTool is returned (wrapped, with the install hint) by New and
// Check when ip, or both nft and iptables, are not installed.
var ErrMissingTool = errors.New("natlab: missing tool")

// InternetPrefix is the lab's "internet" segment. go-libp2p's
// manet.IsPublicAddr accepts it (it is not RFC 1918, 100.64/10, a TEST-NET
// or 198.18/15), so hosts on it advertise public addresses and hole punching
// (DCUtR) is enabled. It exists only inside a lab's namespaces.
var InternetPrefix = netip.MustParsePrefix("11.0.0.0/16")

// Firewall selects the tool that writes the routers' NAT rules.
type Firewall string

const (
	// FirewallAuto uses nft when installed, iptables otherwise.
	FirewallAuto Firewall = ""
	// FirewallNFT writes one nftables table per router.
	FirewallNFT Firewall = "nft"
	// FirewallIPTables writes the same rules with iptables.
	FirewallIPTables Firewall = "iptables"
)

// Config tunes a Lab. The zero value is the default.
type Config struct {
	// Firewall picks nft or iptables for the NAT rules. Default FirewallAuto.
	Firewall Firewall
	// KeepStale skips the sweep of labs whose owner process is dead, which
	// New otherwise runs first. Default false (sweep).
	KeepStale bool
}

// Lab is one network-namespace lab. Its methods are safe for concurrent use.
type Lab struct {
	// ID is the lab's random 4-hex-digit ID, part of every namespace and
	// interface name of the lab ("pl-<ID>-...").
	ID string
	// Firewall is the tool the routers' rules are written with.
	Firewall Firewall

	mu     sync.Mutex
	hosts  []*Host
	nsList []string // every namespace created, in creation order
	closed bool
	err    error // result of the first Close
}

// Check reports whether this process can build labs: ErrNotRoot, or
// ErrMissingTool wrapped with what to install, or nil.
func Check() error {
	_, err := checkEnv(os.Geteuid(), exec.LookPath, FirewallAuto)
	return err
}

// checkEnv is Check with its inputs injected; it also resolves the firewall.
func checkEnv(euid int, look func(string) (string, error), fw Firewall) (Firewall, error) {
	if euid != 0 {
		return "", ErrNotRoot
	}
	if _, err := look("ip"); err != nil {
		return "", fmt.Errorf("%w: ip not found; install it with `apt-get install -y iproute2`", ErrMissingTool)
	}
	_, nftErr := look("nft")
	_, iptErr := look("iptables")
	switch {
	case fw == FirewallNFT && nftErr != nil, fw == FirewallAuto && nftErr != nil && iptErr != nil:
		return "", fmt.Errorf("%w: nft not found; install it with `apt-get install -y nftables` (or iptables)", ErrMissingTool)
	case fw == FirewallIPTables && iptErr != nil:
		return "", fmt.Errorf("%w: iptables not found; install it with `apt-get install -y iptables`", ErrMissingTool)
	case fw == FirewallAuto && nftErr == nil:
		return FirewallNFT, nil
	case fw == FirewallAuto:
		return FirewallIPTables, nil
	case fw == FirewallNFT || fw == FirewallIPTables:
		return fw, nil
	}
	return "", fmt.Errorf("natlab: unknown firewall %q", fw)
}

// New creates a lab with the default Config: the internet namespace and its
// bridge. It first sweeps labs whose owner process died (see Cleanup).
func New(ctx context.Context) (*Lab, error) { return NewWithConfig(ctx, Config{}) }

// NewWithConfig is New with a Config. On any error everything created so far
// is removed again.
func NewWithConfig(ctx context.Context, cfg Config) (*Lab, error) {
	fw, err := checkEnv(os.Geteuid(), exec.LookPath, cfg.Firewall)
	if err != nil {
		return nil, err
	}
	if !cfg.KeepStale {
		_, _ = Cleanup(ctx) // best effort: a stale lab must not stop a new one
	}
	id, err := claimID()
	if err != nil {
		return nil, err
	}
	l := &Lab{ID: id, Firewall: fw}
	if err := l.buildInternet(ctx); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

// claimID picks a random unused ID and records this process as its owner
// (the pid file is created with O_EXCL, so concurrent labs never share one).
func claimID() (string, error) {
	if err := os.MkdirAll(pidDir, 0o755); err != nil {
		return "", fmt.Errorf("natlab: %w", err)
	}
	existing, err := listNamespaces()
	if err != nil {
		return "", err
	}
	owner := ownerRecord(os.Getpid())
	for range 64 {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("natlab: %w", err)
		}
		id := hex.EncodeToString(b[:])
		if len(existing[id]) > 0 {
			continue
		}
		f, err := os.OpenFile(pidFile(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("natlab: %w", err)
		}
		_, werr := f.WriteString(owner)
		if err := errors.Join(werr, f.Close()); err != nil {
			_ = os.Remove(pidFile(id))
			return "", fmt.Errorf("natlab: write owner file: %w", err)
		}
		return id, nil
	}
	return "", errors.New("natlab: no free lab ID after 64 tries")
}

// InetNamespace is the name of the namespace holding the internet bridge.
func (l *Lab) InetNamespace() string { return l.name("inet") }

func (l *Lab) name(suffix string) string { return "pl-" + l.ID + "-" + suffix }

// buildInternet creates the internet namespace and its bridge.
func (l *Lab) buildInternet(ctx context.Context) error {
	inet := l.InetNamespace()
	if err := l.addNamespace(ctx, inet); err != nil {
		return err
	}
	br := l.name("br")
	return runAll(ctx,
		[]string{"ip", "-n", inet, "link", "add", br, "type", "bridge"},
		[]string{"ip", "-n", inet, "link", "set", br, "up"},
	)
}

// addNamespace creates a namespace, records it for Close, brings lo up and
// turns IPv6 off for the interfaces created in it later (lo keeps ::1).
func (l *Lab) addNamespace(ctx context.Context, ns string) error {
	l.nsList = append(l.nsList, ns) // recorded first: Close removes it even if half made
	return runAll(ctx,
		[]string{"ip", "netns", "add", ns},
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
		[]string{"ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"},
	)
}

// Hosts returns the lab's hosts in the order they were added.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Namespaces returns every namespace of the lab, in creation order.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.nsList...)
}

// Close kills every process still inside the lab's namespaces, deletes the
// namespaces (which removes their veths, the bridge and the NAT rules) and
// the owner file, and waits until they are gone. It is idempotent: later
// calls return the first call's result. It works with a fresh context, so
// it also cleans up after a cancelled one.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.err
	}
	l.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := removeNamespaces(ctx, l.nsList)
	if rerr := os.Remove(pidFile(l.ID)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	l.err = err
	return err
}

// CloseOnSignal closes the lab when the process gets SIGINT, SIGTERM or
// SIGHUP, for command-line use. After closing it stops listening and sends
// the signal to the process again, so the default action (exit) happens
// unless the program listens for it elsewhere. The returned stop ends the
// watch (it also ends when ctx is done) and waits for its goroutine.
func (l *Lab) CloseOnSignal(ctx context.Context) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer signal.Stop(ch)
		select {
		case sig := <-ch:
			_ = l.Close()
			signal.Stop(ch)
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
		case <-ctx.Done():
		case <-quit:
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// run runs one command (argv[0] looked up in PATH) and returns its error
// with the command line and its output.
func run(ctx context.Context, argv []string, stdin string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("natlab: %s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// runAll runs commands in order and stops at the first error.
func runAll(ctx context.Context, argvs ...[]string) error {
	for _, argv := range argvs {
		if err := run(ctx, argv, ""); err != nil {
			return err
		}
	}
	return nil
}
