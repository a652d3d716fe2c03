package ports

import (
	"net"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// Addr is a peer and a port, as a net.Addr. Its String is the Pilot socket
// form "3f2a.91c0.7d14:1001" when the peer's address can be derived.
type Addr struct {
	Peer peer.ID
	Port uint16
}

// Network implements net.Addr.
func (Addr) Network() string { return "pilot" }

func (a Addr) String() string {
	if pa, err := addressing.FromPeerID(a.Peer); err == nil {
		return addressing.SocketAddr{Addr: pa, Port: a.Port}.String()
	}
	return a.Peer.String() + ":" + strconv.FormatUint(uint64(a.Port), 10)
}

// Conn is a stream on a Pilot port. It implements net.Conn; CloseWrite
// half-closes it.
type Conn struct {
	s    network.Stream
	port uint16
}

var _ net.Conn = (*Conn)(nil)

func newConn(s network.Stream, port uint16) *Conn { return &Conn{s: s, port: port} }

// Read implements net.Conn.
func (c *Conn) Read(b []byte) (int, error) { return c.s.Read(b) }

// Write implements net.Conn.
func (c *Conn) Write(b []byte) (int, error) { return c.s.Write(b) }

// Close closes both directions gracefully.
func (c *Conn) Close() error { return c.s.Close() }

// CloseWrite signals end of data to the remote, which reads EOF.
func (c *Conn) CloseWrite() error { return c.s.CloseWrite() }

// CloseRead stops reading.
func (c *Conn) CloseRead() error { return c.s.CloseRead() }

// Reset aborts the stream in both directions.
func (c *Conn) Reset() error { return c.s.Reset() }

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return Addr{Peer: c.s.Conn().LocalPeer(), Port: c.port} }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return Addr{Peer: c.s.Conn().RemotePeer(), Port: c.port} }

// RemotePeer is the authenticated peer at the other end.
func (c *Conn) RemotePeer() peer.ID { return c.s.Conn().RemotePeer() }

// Port is the Pilot port of the stream.
func (c *Conn) Port() uint16 { return c.port }

// Relayed reports whether the stream runs over a relayed connection.
func (c *Conn) Relayed() bool { return c.s.Conn().Stat().Limited }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error { return c.s.SetDeadline(t) }

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.s.SetReadDeadline(t) }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.s.SetWriteDeadline(t) }
