package gossip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// seedMessages are one valid message of each type.
func seedMessages() []*syncMsg {
	id := itemID([]byte("ok"))
	return []*syncMsg{
		{Type: msgQuery, Nodes: []syncNode{{Prefix: []byte{}, Count: 10_000, FP: fingerprint{1, 2}}, {Prefix: []byte{7, 9}, Count: 3}}},
		{Type: msgAnswer, Answers: []syncAnswer{
			{Kind: answerEqual},
			{Kind: answerIDs, IDs: [][32]byte{{1}, id}},
			{Kind: answerChildren, Children: []syncChild{{Byte: 0, Count: 40}, {Byte: 255, Count: 1, FP: fingerprint{9}}}},
		}},
		{Type: msgGet, IDs: [][32]byte{id}},
		{Type: msgPush, Items: [][]byte{[]byte("ok"), []byte("ok too")}},
		{Type: msgItems, Items: [][]byte{nil, []byte("ok")}},
		{Type: msgAck, Accepted: 3, Rejected: 1},
	}
}

// FuzzPoloSyncMessage feeds arbitrary bytes to the frame reader and the
// message decoder: no panic, errors wrap ErrSyncProtocol (or are read
// errors), what decodes re-encodes to a message that decodes the same, and
// nothing decoded is larger than its input allows.
func FuzzPoloSyncMessage(f *testing.F) {
	for _, m := range seedMessages() {
		body := encodeSyncMsg(m)
		f.Add(body)
		f.Add(append(binary.AppendUvarint(nil, uint64(len(body))), body...))
	}
	f.Add([]byte{msgQuery, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{msgPush, 0x80, 0x80, 0x04, 1, 'x'})
	f.Add([]byte{msgAnswer, 1, answerChildren, 2, 5, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeSyncMsg(b)
		if err != nil {
			require.ErrorIs(t, err, ErrSyncProtocol)
		} else {
			checkDecoded(t, m, len(b))
			again, err := decodeSyncMsg(encodeSyncMsg(m))
			require.NoError(t, err)
			require.Equal(t, m, again)
		}

		// The same bytes as a stream of frames.
		c := &syncConn{r: bufio.NewReader(bytes.NewReader(b))}
		for range len(b) + 1 { // every frame consumes at least one byte
			m, err := c.read()
			if err != nil {
				require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrSyncProtocol), "%v", err)
				break
			}
			checkDecoded(t, m, len(b))
		}
		require.LessOrEqual(t, c.recv, int64(len(b)))
	})
}

// checkDecoded checks that a decoded message holds no more than n input
// bytes justify.
func checkDecoded(t *testing.T, m *syncMsg, n int) {
	require.LessOrEqual(t, len(m.Nodes), syncMaxQueryNodes)
	require.LessOrEqual(t, len(m.Answers), syncMaxQueryNodes)
	require.LessOrEqual(t, len(m.IDs), syncMaxGetIDs)
	require.LessOrEqual(t, cap(m.Nodes)*(1+1+syncFPLen), n)
	require.LessOrEqual(t, cap(m.IDs)*32, n)
	require.LessOrEqual(t, len(m.Items), min(n, syncMaxFrameItems))
	for _, it := range m.Items {
		require.LessOrEqual(t, len(it), PoloMaxItemSize)
	}
	for _, a := range m.Answers {
		require.LessOrEqual(t, len(a.IDs), syncLeaf)
		require.LessOrEqual(t, len(a.Children), 256)
	}
}

// Frames that claim the most entries in the fewest bytes allocate a small
// multiple of their size.
func TestDecodeSyncMsgAllocation(t *testing.T) {
	body := func(typ byte, count uint64, entry []byte) []byte {
		b := binary.AppendUvarint([]byte{typ}, count)
		for len(b)+len(entry) <= syncMaxFrame {
			b = append(b, entry...)
		}
		return b
	}
	cases := map[string][]byte{
		"query, claims 512":        body(msgQuery, syncMaxQueryNodes, make([]byte, 1+1+syncFPLen)),
		"answer, 512 equal":        body(msgAnswer, syncMaxQueryNodes, []byte{answerEqual}),
		"items, 1024 empty":        body(msgItems, syncMaxFrameItems, []byte{0}),
		"push, one-byte items":     body(msgPush, syncMaxFrameItems, []byte{1, 'x'}),
		"items, 65536 claimed":     body(msgItems, syncMaxFrame, []byte{0}),
		"answer, children claimed": append([]byte{msgAnswer, 1, answerChildren, 0xff, 0x01}, make([]byte, 64)...),
		"length claims 2^60":       {msgPush, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10},
	}
	for name, b := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _ = decodeSyncMsg(b)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		require.LessOrEqual(t, alloc, uint64(32*len(b)+64<<10), "%s: %d bytes allocated for %d", name, alloc, len(b))
		t.Logf("%-26s %6d bytes in, %8d allocated", name, len(b), alloc)
	}
}
