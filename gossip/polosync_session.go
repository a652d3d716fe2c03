package gossip

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// syncConn frames messages on a stream and counts the bytes.
type syncConn struct {
	st   network.Stream
	r    *bufio.Reader
	sent int64
	recv int64
}

func newSyncConn(st network.Stream) *syncConn {
	return &syncConn{st: st, r: bufio.NewReaderSize(st, 4<<10)}
}

// send writes one message as a single frame.
func (c *syncConn) send(m *syncMsg) error {
	body := encodeSyncMsg(m)
	if len(body) > syncMaxFrame { // a bug of this side: packing keeps below
		return fmt.Errorf("polo sync: message of %d bytes exceeds the frame limit", len(body))
	}
	frame := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen32+len(body)), uint64(len(body)))
	frame = append(frame, body...)
	n, err := c.st.Write(frame)
	c.sent += int64(n)
	if err != nil {
		return fmt.Errorf("polo sync: write: %w", err)
	}
	return nil
}

// read reads one frame and decodes it. It returns io.EOF only when the
// stream ends cleanly between frames.
func (c *syncConn) read() (*syncMsg, error) {
	// A length up to syncMaxFrame (64 KiB) takes at most 3 uvarint bytes.
	var size uint64
	for i := 0; ; i++ {
		if i == 3 {
			return nil, fmt.Errorf("%w: frame length over %d bytes", ErrSyncProtocol, syncMaxFrame)
		}
		b, err := c.r.ReadByte()
		if err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("polo sync: read frame length: %w", err)
		}
		c.recv++
		size |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			break
		}
	}
	if size == 0 || size > syncMaxFrame {
		return nil, fmt.Errorf("%w: frame length %d out of range 1..%d", ErrSyncProtocol, size, syncMaxFrame)
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(c.r, buf)
	c.recv += int64(n)
	if err != nil {
		return nil, fmt.Errorf("polo sync: read frame of %d bytes: %w", size, err)
	}
	return decodeSyncMsg(buf)
}

// syncSession is one session, either side. It is used by one goroutine.
type syncSession struct {
	s        *PoloSync
	store    SyncStore
	conn     *syncConn
	res      SyncResult
	maxItems int
	calls    int // store calls so far
	lookups  int // responder: IDs looked up for GETs

	need, have [][32]byte // initiator: what to pull and to push
}

func newSyncSession(s *PoloSync, st network.Stream, p peer.ID) *syncSession {
	return &syncSession{
		s:        s,
		store:    s.store,
		conn:     newSyncConn(st),
		res:      SyncResult{Peer: p},
		maxItems: s.opts.MaxItems,
	}
}

// result returns the session's figures so far.
func (ss *syncSession) result() SyncResult {
	r := ss.res
	r.BytesSent, r.BytesReceived = ss.conn.sent, ss.conn.recv
	return r
}

// transferred counts the items that count against MaxItems.
func (ss *syncSession) transferred() int {
	return ss.res.SentItems + ss.res.ReceivedItems + ss.res.Rejected
}

// call counts n store calls against the session's budget.
func (ss *syncSession) call(n int) error {
	ss.calls += n
	if ss.calls > syncMaxStoreCalls {
		return fmt.Errorf("%w: more than %d store lookups", ErrSyncLimit, syncMaxStoreCalls)
	}
	return nil
}

// fpOf is the part of a store fingerprint that travels.
func fpOf(full [32]byte) (fp fingerprint) {
	copy(fp[:], full[:syncFPLen])
	return fp
}

func (ss *syncSession) summary(prefix []byte) (int, fingerprint, error) {
	if err := ss.call(1); err != nil {
		return 0, fingerprint{}, err
	}
	n, full, err := ss.store.Summary(prefix)
	if err != nil {
		return 0, fingerprint{}, fmt.Errorf("polo sync: store summary of %x: %w", prefix, err)
	}
	if n < 0 {
		return 0, fingerprint{}, fmt.Errorf("polo sync: store summary of %x: negative count %d", prefix, n)
	}
	return n, fpOf(full), nil
}

// listIDs returns up to limit of this side's IDs under prefix, checked:
// ascending, unique, under the prefix (a store that breaks this would make
// the protocol misbehave).
func (ss *syncSession) listIDs(prefix []byte, limit int) ([][32]byte, error) {
	if limit <= 0 {
		return nil, nil
	}
	if err := ss.call(1); err != nil {
		return nil, err
	}
	ids, err := ss.store.ListIDs(prefix, limit)
	if err != nil {
		return nil, fmt.Errorf("polo sync: store list of %x: %w", prefix, err)
	}
	if len(ids) > limit {
		ids = ids[:limit]
	}
	for i := range ids {
		if !bytes.HasPrefix(ids[i][:], prefix) || i > 0 && bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			return nil, fmt.Errorf("polo sync: store list of %x: ids not ascending under the prefix", prefix)
		}
	}
	return ids, nil
}

// syncListChildren is the count up to which children are computed from
// one ListIDs instead of 256 Summary calls.
const syncListChildren = 4096

// children returns this side's non-empty children of prefix, which holds
// count IDs by its summary.
func (ss *syncSession) children(prefix []byte, count int) ([]syncChild, error) {
	if count <= 0 || len(prefix) >= 32 {
		return nil, nil
	}
	if count <= syncListChildren {
		ids, err := ss.listIDs(prefix, count)
		if err != nil {
			return nil, err
		}
		var out []syncChild
		var xor [32]byte
		for i, id := range ids {
			b := id[len(prefix)]
			if len(out) == 0 || out[len(out)-1].Byte != b {
				if len(out) > 0 {
					out[len(out)-1].FP = fpOf(xor)
				}
				out = append(out, syncChild{Byte: b})
				xor = [32]byte{}
			}
			out[len(out)-1].Count++
			for j := range xor {
				xor[j] ^= id[j]
			}
			if i == len(ids)-1 {
				out[len(out)-1].FP = fpOf(xor)
			}
		}
		return out, nil
	}
	var out []syncChild
	child := append(bytes.Clone(prefix), 0)
	for b := range 256 {
		child[len(prefix)] = byte(b)
		n, fp, err := ss.summary(child)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, syncChild{Byte: byte(b), Count: uint64(n), FP: fp})
		}
	}
	return out, nil
}

// get returns a stored item to send, or nil if it is not held or not
// sendable.
func (ss *syncSession) get(id [32]byte) ([]byte, error) {
	if err := ss.call(1); err != nil {
		return nil, err
	}
	raw, ok, err := ss.store.Get(id)
	if err != nil {
		return nil, fmt.Errorf("polo sync: store get %x: %w", id[:8], err)
	}
	if !ok || len(raw) == 0 || len(raw) > PoloMaxItemSize {
		return nil, nil
	}
	return raw, nil
}

// receive hands an item from the peer to the store (id is its SHA-256).
// Items already held are skipped, refused ones counted and remembered.
// It reports whether the store took it.
func (ss *syncSession) receive(id [32]byte, raw []byte) (bool, error) {
	if ss.s.rejected.has(id) {
		ss.res.Rejected++
		return false, nil
	}
	if err := ss.call(2); err != nil {
		return false, err
	}
	if _, ok, err := ss.store.Get(id); err == nil && ok {
		return false, nil // arrived meanwhile, by gossip or another session
	}
	if err := ss.store.Add(raw); err != nil {
		ss.res.Rejected++
		ss.s.rejected.add(id)
		log.Debugw("polo sync: item refused", "peer", ss.res.Peer, "id", fmt.Sprintf("%x", id[:8]), "err", err)
		return false, nil
	}
	ss.res.ReceivedItems++
	return true, nil
}

// itemID is the ID of an item.
func itemID(raw []byte) [32]byte { return sha256.Sum256(raw) }
