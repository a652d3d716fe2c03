package tunnel

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateTarget(t *testing.T) {
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{"127.0.0.1:8080", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{"db.internal:5432", true},
		{"my_host.lan.:80", true},
		{"", false},
		{"8080", false},
		{"127.0.0.1", false},
		{"127.0.0.1:", false},
		{":8080", false},
		{"127.0.0.1:0", false},
		{"127.0.0.1:65536", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1:-1", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"224.0.0.1:8080", false},
		{"http://127.0.0.1:8080", false},
		{"bad host:80", false},
		{"-bad.example:80", false},
		{"a..b:80", false},
		{"127.0.0.1:8080/path", false},
	} {
		err := ValidateTarget(tc.target)
		if tc.ok {
			require.NoError(t, err, tc.target)
		} else {
			require.ErrorIs(t, err, ErrInvalidAddress, tc.target)
		}
	}
}

func TestExposeRejectsBadTarget(t *testing.T) {
	checkLeaks(t)
	m := NewManager()
	defer m.CloseAll()
	for _, target := range []string{"", "8080", "127.0.0.1", ":8080", "127.0.0.1:0", "127.0.0.1:http", "no such:80"} {
		pl, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		_, err = m.Expose(pl, 8080, target)
		require.ErrorIs(t, err, ErrInvalidAddress, target)
		require.Contains(t, err.Error(), "tunnel: expose port 8080: target")
		_, err = pl.Accept()
		require.Error(t, err, "the refused listener is closed")
	}
	_, err := m.Expose(nil, 1, "127.0.0.1:1")
	require.Error(t, err)
	require.Empty(t, m.List())
}

func TestForwardRefusesNonLoopback(t *testing.T) {
	checkLeaks(t)
	m := NewManager()
	defer m.CloseAll()
	dial := tcpDialer("127.0.0.1:1")
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "10.0.0.1:9000", "example.com:9000", "[fe80::1%lo]:0"} {
		_, err := m.Forward(addr, "3f2a.91c0.7d14:8080", dial)
		require.ErrorIs(t, err, ErrNonLoopback, addr)
		require.Contains(t, err.Error(), "non-loopback", addr)
		require.Contains(t, err.Error(), "AllowNonLoopback", addr)
	}
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:99999", "localhost"} {
		_, err := m.Forward(addr, "3f2a.91c0.7d14:8080", dial)
		require.ErrorIs(t, err, ErrInvalidAddress, addr)
	}
	_, err := m.Forward("127.0.0.1:0", "x:1", nil)
	require.Error(t, err)
	require.Empty(t, m.List())

	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "127.0.0.2:0"} {
		fi, err := m.Forward(addr, "3f2a.91c0.7d14:8080", dial)
		require.NoError(t, err, addr)
		host, _, err := net.SplitHostPort(fi.Local)
		require.NoError(t, err)
		require.True(t, net.ParseIP(host).IsLoopback(), fi.Local)
		require.NoError(t, m.Close(fi.ID))
	}
}

// checkListenAddr with AllowNonLoopback: checked without binding, as tests
// use loopback only.
func TestCheckListenAddrAllowed(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"0.0.0.0:9000", true},
		{":9000", true},
		{"[::]:0", true},
		{"192.168.1.10:9000", true},
		{"lan-host:9000", true},
		{"bad host:9000", false},
		{"0.0.0.0", false},
	} {
		err := checkListenAddr(tc.addr, true)
		if tc.ok {
			require.NoError(t, err, tc.addr)
		} else {
			require.ErrorIs(t, err, ErrInvalidAddress, tc.addr)
		}
	}
}

func TestRemotePort(t *testing.T) {
	for remote, want := range map[string]uint16{
		"3f2a.91c0.7d14:8080": 8080,
		"0:0000.0000.0001:1":  1,
		"[::1]:443":           443,
		"no-port":             0,
		"x:notanumber":        0,
		"x:70000":             0,
	} {
		require.Equal(t, want, remotePort(remote), remote)
	}
}
