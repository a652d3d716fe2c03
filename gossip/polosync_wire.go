package gossip

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Wire format of the Polo sync protocol (/pilot/polo-sync/1.0.0, or the
// protocol ID a swarm passes to NewPoloSync).
//
// The initiator (SyncWith) sends requests; the responder answers each with
// exactly one response, in order, and never speaks first. Every message is
// one frame:
//
//	frame  = length:uvarint type:byte body      1 <= length <= 64 KiB (type + body)
//
// Requests (initiator → responder):
//
//	QUERY  0x01  n:uvarint (1..512)  n × node
//	       node = plen:byte (0..32) prefix:plen bytes count:uvarint fp:16 bytes
//	GET    0x02  n:uvarint (1..1024) n × id:32 bytes
//	PUSH   0x03  n:uvarint (1..1024) n × (len:uvarint (1..2048) item:len bytes)
//
// Responses (responder → initiator):
//
//	ANSWER 0x81  n:uvarint n × answer         answers the first n nodes of the QUERY
//	       answer = 0x00                      equal: same count and fingerprint
//	              | 0x01 k:uvarint (0..16) k × id:32 bytes
//	                                          the responder's IDs under the prefix, ascending
//	              | 0x02 k:uvarint (1..256) k × (byte count:uvarint (>=1) fp:16 bytes)
//	                                          the responder's non-empty children, ascending by byte
//	ITEMS  0x82  n:uvarint (0..1024) n × (len:uvarint (0..2048) item:len bytes)
//	                                          the items of the first n IDs of the GET; len 0: not held
//	ACK    0x83  accepted:uvarint rejected:uvarint
//
// An ID is the SHA-256 of an item's bytes. A node's count and fingerprint
// are those of the sender's IDs starting with the prefix; the fingerprint is
// the first 16 bytes of the XOR of those IDs (SyncStore.Summary). A
// responder packs as many answers or items as fit in one frame and leaves
// the rest for the initiator to ask again, so that every response fits the
// frame limit whatever is asked; it always answers at least one.
//
// A frame that is too long, truncated, of an unexpected type, with trailing
// bytes, or breaking any bound above ends the session: the receiver resets
// the stream.

// Message types.
const (
	msgQuery  byte = 0x01
	msgGet    byte = 0x02
	msgPush   byte = 0x03
	msgAnswer byte = 0x81
	msgItems  byte = 0x82
	msgAck    byte = 0x83
)

// Kinds of answer to one node of a QUERY.
const (
	answerEqual    byte = 0x00
	answerIDs      byte = 0x01
	answerChildren byte = 0x02
)

// Bounds of the wire format.
const (
	// syncMaxFrame is the largest frame (type byte and body).
	syncMaxFrame = 64 << 10
	// syncFPLen is how many bytes of a fingerprint travel.
	syncFPLen = 16
	// syncLeaf is the count at or below which a responder lists its IDs
	// instead of splitting the prefix into its 256 children.
	syncLeaf = 16
	// syncMaxQueryNodes is the most nodes in one QUERY.
	syncMaxQueryNodes = 512
	// syncMaxGetIDs is the most IDs in one GET.
	syncMaxGetIDs = 1024
	// syncMaxFrameItems is the most items in one PUSH or ITEMS.
	syncMaxFrameItems = 1024
	// syncHeader is room kept in a frame for the type byte and a count.
	syncHeader = 1 + binary.MaxVarintLen32
)

// fingerprint is the part of a store fingerprint that travels.
type fingerprint [syncFPLen]byte

// syncNode is one node of a QUERY: the sender's summary of a prefix.
type syncNode struct {
	Prefix []byte
	Count  uint64
	FP     fingerprint
}

// syncChild is one non-empty child of a prefix: the byte that extends it
// and the summary of the longer prefix.
type syncChild struct {
	Byte  byte
	Count uint64
	FP    fingerprint
}

// syncAnswer is the answer to one node of a QUERY.
type syncAnswer struct {
	Kind     byte
	IDs      [][32]byte  // answerIDs
	Children []syncChild // answerChildren
}

// syncMsg is one decoded frame; which fields are set depends on Type.
type syncMsg struct {
	Type     byte
	Nodes    []syncNode   // QUERY
	Answers  []syncAnswer // ANSWER
	IDs      [][32]byte   // GET
	Items    [][]byte     // PUSH; ITEMS (nil: not held)
	Accepted uint64       // ACK
	Rejected uint64       // ACK
}

// Encoded sizes, for packing responses into a frame.
func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

func nodeSize(n syncNode) int { return 1 + len(n.Prefix) + uvarintLen(n.Count) + syncFPLen }

func itemEntrySize(item []byte) int { return uvarintLen(uint64(len(item))) + len(item) }

func answerSize(a syncAnswer) int {
	switch a.Kind {
	case answerIDs:
		return 1 + uvarintLen(uint64(len(a.IDs))) + 32*len(a.IDs)
	case answerChildren:
		n := 1 + uvarintLen(uint64(len(a.Children)))
		for _, c := range a.Children {
			n += 1 + uvarintLen(c.Count) + syncFPLen
		}
		return n
	default:
		return 1
	}
}

// encodeSyncMsg returns the frame body of m (type byte first, no length).
func encodeSyncMsg(m *syncMsg) []byte {
	b := []byte{m.Type}
	switch m.Type {
	case msgQuery:
		b = binary.AppendUvarint(b, uint64(len(m.Nodes)))
		for _, n := range m.Nodes {
			b = append(b, byte(len(n.Prefix)))
			b = append(b, n.Prefix...)
			b = binary.AppendUvarint(b, n.Count)
			b = append(b, n.FP[:]...)
		}
	case msgAnswer:
		b = binary.AppendUvarint(b, uint64(len(m.Answers)))
		for _, a := range m.Answers {
			b = append(b, a.Kind)
			switch a.Kind {
			case answerIDs:
				b = binary.AppendUvarint(b, uint64(len(a.IDs)))
				for _, id := range a.IDs {
					b = append(b, id[:]...)
				}
			case answerChildren:
				b = binary.AppendUvarint(b, uint64(len(a.Children)))
				for _, c := range a.Children {
					b = append(b, c.Byte)
					b = binary.AppendUvarint(b, c.Count)
					b = append(b, c.FP[:]...)
				}
			}
		}
	case msgGet:
		b = binary.AppendUvarint(b, uint64(len(m.IDs)))
		for _, id := range m.IDs {
			b = append(b, id[:]...)
		}
	case msgPush, msgItems:
		b = binary.AppendUvarint(b, uint64(len(m.Items)))
		for _, it := range m.Items {
			b = binary.AppendUvarint(b, uint64(len(it)))
			b = append(b, it...)
		}
	case msgAck:
		b = binary.AppendUvarint(b, m.Accepted)
		b = binary.AppendUvarint(b, m.Rejected)
	}
	return b
}

// wireReader reads a frame body; the first error sticks.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrSyncProtocol}, args...)...)
	}
}

func (r *wireReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wireReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated: want %d bytes, have %d", n, len(r.b))
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// count reads a list length in lo..hi and checks that the rest of the
// frame can hold that many entries of at least minSize bytes, so a claimed
// length never allocates more than the frame justifies.
func (r *wireReader) count(what string, lo, hi, minSize int) int {
	v := r.uvarint()
	if r.err != nil {
		return 0
	}
	if v < uint64(lo) || v > uint64(hi) {
		r.fail("%s count %d out of range %d..%d", what, v, lo, hi)
		return 0
	}
	if minSize > 0 && v > uint64(len(r.b)/minSize) {
		r.fail("%s count %d does not fit in %d bytes", what, v, len(r.b))
		return 0
	}
	return int(v)
}

func (r *wireReader) id() (id [32]byte) {
	copy(id[:], r.bytes(32))
	return id
}

func (r *wireReader) fp() (fp fingerprint) {
	copy(fp[:], r.bytes(syncFPLen))
	return fp
}

// decodeSyncMsg decodes a frame body (type byte first). It checks every
// bound of the wire format that does not depend on the session (which
// nodes were asked, which IDs were requested); it never allocates more than
// a small multiple of len(b).
func decodeSyncMsg(b []byte) (*syncMsg, error) {
	if len(b) > syncMaxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes, at most %d", ErrSyncProtocol, len(b), syncMaxFrame)
	}
	r := &wireReader{b: b}
	m := &syncMsg{Type: r.byte()}
	switch m.Type {
	case msgQuery:
		n := r.count("node", 1, syncMaxQueryNodes, 1+1+syncFPLen)
		m.Nodes = make([]syncNode, 0, n)
		for range n {
			plen := int(r.byte())
			if plen > 32 {
				r.fail("prefix of %d bytes", plen)
			}
			m.Nodes = append(m.Nodes, syncNode{Prefix: r.bytes(plen), Count: r.uvarint(), FP: r.fp()})
			if r.err != nil {
				break
			}
		}
	case msgAnswer:
		n := r.count("answer", 0, syncMaxQueryNodes, 1)
		m.Answers = make([]syncAnswer, 0, n)
		for range n {
			m.Answers = append(m.Answers, decodeAnswer(r))
			if r.err != nil {
				break
			}
		}
	case msgGet:
		n := r.count("id", 1, syncMaxGetIDs, 32)
		m.IDs = make([][32]byte, 0, n)
		for range n {
			m.IDs = append(m.IDs, r.id())
		}
	case msgPush, msgItems:
		lo, minSize := 1, 2
		if m.Type == msgItems {
			lo, minSize = 0, 1
		}
		n := r.count("item", lo, syncMaxFrameItems, minSize)
		m.Items = make([][]byte, 0, n)
		for range n {
			size := r.uvarint()
			switch {
			case size > PoloMaxItemSize:
				r.fail("item of %d bytes, at most %d", size, PoloMaxItemSize)
			case size == 0 && m.Type == msgPush:
				r.fail("empty item")
			}
			if r.err != nil {
				break
			}
			var it []byte
			if size > 0 {
				it = r.bytes(int(size))
			}
			m.Items = append(m.Items, it)
		}
	case msgAck:
		m.Accepted, m.Rejected = r.uvarint(), r.uvarint()
	default:
		r.fail("unknown message type 0x%02x", m.Type)
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// decodeAnswer decodes one answer of an ANSWER frame.
func decodeAnswer(r *wireReader) syncAnswer {
	a := syncAnswer{Kind: r.byte()}
	switch a.Kind {
	case answerEqual:
	case answerIDs:
		k := r.count("answer id", 0, syncLeaf, 32)
		a.IDs = make([][32]byte, 0, k)
		for i := range k {
			id := r.id()
			if i > 0 && bytes.Compare(a.IDs[i-1][:], id[:]) >= 0 {
				r.fail("answer ids not strictly ascending")
				break
			}
			a.IDs = append(a.IDs, id)
		}
	case answerChildren:
		k := r.count("child", 1, 256, 1+1+syncFPLen)
		a.Children = make([]syncChild, 0, k)
		for i := range k {
			c := syncChild{Byte: r.byte(), Count: r.uvarint(), FP: r.fp()}
			switch {
			case r.err != nil:
			case c.Count == 0:
				r.fail("empty child")
			case i > 0 && c.Byte <= a.Children[i-1].Byte:
				r.fail("children not strictly ascending")
			}
			if r.err != nil {
				break
			}
			a.Children = append(a.Children, c)
		}
	default:
		r.fail("unknown answer kind 0x%02x", a.Kind)
	}
	return a
}
