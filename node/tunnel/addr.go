package tunnel

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ValidateTarget checks that target is "host:port" as Expose wants it: a
// non-empty host (an IP address or a DNS name) and a numeric port in
// 1..65535. A daemon can call it before it opens the Pilot port, so that a
// typo never leaves a port open.
func ValidateTarget(target string) error {
	if err := checkTarget(target); err != nil {
		return fmt.Errorf("tunnel: %w", err)
	}
	return nil
}

func checkTarget(target string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("target %q: %w: want host:port, e.g. 127.0.0.1:8080", target, ErrInvalidAddress)
	}
	if _, err := parsePort(port, false); err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	return nil
}

// checkListenAddr checks a Forward listen address. Port 0 asks the kernel
// for a free port. Unless allowNonLoopback is set, the host must be a
// loopback IP address or "localhost": a tunnel listening on a LAN
// interface hands the remote service to everyone on that LAN.
func checkListenAddr(addr string, allowNonLoopback bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w: want host:port, e.g. 127.0.0.1:9000", addr, ErrInvalidAddress)
	}
	if _, err := parsePort(port, true); err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if allowNonLoopback {
		if host == "" {
			return nil // every interface, on purpose
		}
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			return nil // likewise
		}
		if err := checkHost(host); err != nil {
			return fmt.Errorf("listen address %q: %w", addr, err)
		}
		return nil
	}
	if isLoopbackHost(host) {
		return nil
	}
	return nonLoopback(addr)
}

func nonLoopback(addr string) error {
	return fmt.Errorf("listen address %q: %w: anyone who can reach it could use the tunnel; listen on 127.0.0.1 or [::1], or set AllowNonLoopback to open it on purpose", addr, ErrNonLoopback)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

func isLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// parsePort parses a decimal port number; service names are refused, and
// so is 0 unless zeroOK.
func parsePort(s string, zeroOK bool) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%w: port %q is not a number in 0..65535", ErrInvalidAddress, s)
	}
	if n == 0 && !zeroOK {
		return 0, fmt.Errorf("%w: port 0", ErrInvalidAddress)
	}
	return uint16(n), nil
}

// checkHost accepts an IP address (not unspecified, not multicast) or a
// syntactically valid DNS name.
func checkHost(host string) error {
	if host == "" {
		return fmt.Errorf("%w: missing host", ErrInvalidAddress)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("%w: %s is not a unicast address", ErrInvalidAddress, host)
		}
		return nil
	}
	name := strings.TrimSuffix(host, ".")
	if len(name) == 0 || len(name) > 253 {
		return fmt.Errorf("%w: bad host %q", ErrInvalidAddress, host)
	}
	for label := range strings.SplitSeq(name, ".") {
		if !validLabel(label) {
			return fmt.Errorf("%w: bad host %q", ErrInvalidAddress, host)
		}
	}
	return nil
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// remotePort is the number after the last colon of a Forward's remote
// text ("3f2a.91c0.7d14:8080"), or 0.
func remotePort(remote string) uint16 {
	i := strings.LastIndexByte(remote, ':')
	if i < 0 {
		return 0
	}
	n, err := strconv.ParseUint(remote[i+1:], 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}
