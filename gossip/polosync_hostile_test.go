package gossip

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/stretchr/testify/require"
)

// rawSyncStream opens a sync stream from a host that runs no PoloSync.
func rawSyncStream(t *testing.T, from, to host.Host) network.Stream {
	t.Helper()
	st, err := from.NewStream(waitCtx(t), to.ID(), PoloSyncProtocol)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Reset() })
	return st
}

// requireReset checks that the other side ended the stream: reads fail or
// see EOF at once instead of hanging.
func requireReset(t *testing.T, st network.Stream) {
	t.Helper()
	_ = st.SetReadDeadline(time.Now().Add(testTimeout))
	_, err := io.Copy(io.Discard, st)
	require.Error(t, err, "the stream must be reset, not closed cleanly")
}

// frame encodes a message with its length prefix.
func frame(m *syncMsg) []byte {
	body := encodeSyncMsg(m)
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// Garbage, an oversized length, an unknown type, a response sent as a
// request and a peer that stalls: each session is reset with a clear error, in
// bounded time.
func TestPoloSyncResetsBadInitiators(t *testing.T) {
	checkLeaks(t)
	ours, evil := newHost(t), newHost(t)
	connect(t, evil, ours)
	_, served := newPoloSync(t, ours, newMemStore().seed(makeItems("x", 100)...), SyncOptions{Timeout: 500 * time.Millisecond})

	junk := make([]byte, 300)
	_, _ = rand.Read(junk)
	junk[0] = 0x7f // a short frame, then whatever the random bytes say
	cases := []struct {
		name  string
		write []byte
		want  string
	}{
		{"garbage", junk, "polo sync"},
		{"oversize length", binary.AppendUvarint(nil, 1<<30), "frame length over"},
		{"length over the limit", binary.AppendUvarint(nil, syncMaxFrame+1), "out of range"},
		{"zero length", []byte{0}, "out of range"},
		{"unknown type", []byte{2, 0x7f, 0}, "unknown message type"},
		{"response as request", frame(&syncMsg{Type: msgAck}), "request of type 0x83"},
		{"truncated frame", []byte{10, msgQuery, 1}, "read frame"},
		{"stalled in a length", []byte{0x85}, "deadline"},
		{"stalled in a frame", []byte{10, msgQuery, 1}, "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := rawSyncStream(t, evil, ours)
			start := time.Now()
			_, err := st.Write(tc.write)
			require.NoError(t, err)
			if tc.name == "truncated frame" {
				require.NoError(t, st.CloseWrite())
			}
			s := nextServed(t, served)
			require.Error(t, s.err)
			require.ErrorContains(t, s.err, tc.want)
			require.Less(t, time.Since(start), 5*time.Second)
			requireReset(t, st)
		})
	}
}

// A peer asking the same question forever is cut off: after SyncMaxRounds,
// or earlier when the answers cost many store lookups (a big store answers
// the root with 256 summaries).
func TestPoloSyncResetsEndlessQueries(t *testing.T) {
	checkLeaks(t)
	ours, evil := newHost(t), newHost(t)
	connect(t, evil, ours)
	for _, tc := range []struct {
		items  int
		rounds int
		want   string
	}{
		{1000, SyncMaxRounds, "rounds"},
		{5000, syncMaxStoreCalls / 257, "store lookups"},
	} {
		s, served := newPoloSync(t, ours, newMemStore().seed(makeItems("x", tc.items)...), SyncOptions{})
		st := rawSyncStream(t, evil, ours)
		conn := newSyncConn(st)
		query := &syncMsg{Type: msgQuery, Nodes: []syncNode{{Prefix: []byte{}, Count: 1}}}
		rounds := 0
		start := time.Now()
		for ; rounds <= SyncMaxRounds+1; rounds++ {
			if err := conn.send(query); err != nil {
				break
			}
			resp, err := conn.read()
			if err != nil {
				break
			}
			require.Equal(t, msgAnswer, resp.Type)
			require.Equal(t, answerChildren, resp.Answers[0].Kind)
		}
		require.Equal(t, tc.rounds, rounds, "answered queries")
		ss := nextServed(t, served)
		require.ErrorIs(t, ss.err, ErrSyncLimit)
		require.ErrorContains(t, ss.err, tc.want)
		t.Logf("endless queries, %d items: cut off after %d rounds in %v (%v)", tc.items, rounds, time.Since(start), ss.err)
		require.NoError(t, s.Close())
	}
}

// A peer that never stops asking for items or pushing them runs into
// MaxItems.
func TestPoloSyncResetsItemFloods(t *testing.T) {
	checkLeaks(t)
	ours, evil := newHost(t), newHost(t)
	connect(t, evil, ours)
	store := newMemStore().seed(makeItems("x", 10)...)
	_, served := newPoloSync(t, ours, store, SyncOptions{MaxItems: 100})

	// The same stored item over and over.
	id := store.IDs()[0]
	get := &syncMsg{Type: msgGet}
	for range 30 {
		get.IDs = append(get.IDs, id)
	}
	conn := newSyncConn(rawSyncStream(t, evil, ours))
	for range 10 {
		if conn.send(get) != nil {
			break
		}
		if _, err := conn.read(); err != nil {
			break
		}
	}
	s := nextServed(t, served)
	require.ErrorIs(t, s.err, ErrSyncLimit)
	require.Equal(t, 100, s.res.SentItems)

	// Pushes of invalid items.
	var bad [][]byte
	for i := range 30 {
		bad = append(bad, []byte{'x', byte(i)})
	}
	conn = newSyncConn(rawSyncStream(t, evil, ours))
	for range 10 {
		if conn.send(&syncMsg{Type: msgPush, Items: bad}) != nil {
			break
		}
		if _, err := conn.read(); err != nil {
			break
		}
	}
	s = nextServed(t, served)
	require.ErrorIs(t, s.err, ErrSyncLimit)
	require.Equal(t, 100, s.res.Rejected)
	require.Equal(t, 10, store.Len(), "nothing invalid stored")
}

// evilResponder answers every request of a session with answer(req).
func evilResponder(t *testing.T, h host.Host, answer func(req *syncMsg) *syncMsg) {
	h.SetStreamHandler(PoloSyncProtocol, func(st network.Stream) {
		defer st.Reset()
		conn := newSyncConn(st)
		for {
			req, err := conn.read()
			if err != nil {
				return
			}
			if conn.send(answer(req)) != nil {
				return
			}
		}
	})
	t.Cleanup(func() { h.RemoveStreamHandler(PoloSyncProtocol) })
}

// Our SyncWith against hostile responders: endless children, wrong items,
// wrong message types. Each session ends, bounded, with an error or a
// truncated result.
func TestPoloSyncSurvivesBadResponders(t *testing.T) {
	checkLeaks(t)
	ours, evil := newHost(t), newHost(t)
	connect(t, ours, evil)
	store := newMemStore().seed(makeItems("x", 50)...)
	s, _ := newPoloSync(t, ours, store, SyncOptions{Timeout: 10 * time.Second})

	everyChild := make([]syncChild, 256)
	for i := range everyChild {
		everyChild[i] = syncChild{Byte: byte(i), Count: 1000, FP: fingerprint{1}}
	}
	t.Run("endless children", func(t *testing.T) {
		evilResponder(t, evil, func(req *syncMsg) *syncMsg {
			out := &syncMsg{Type: msgAnswer}
			out.Answers = append(out.Answers, syncAnswer{Kind: answerChildren, Children: everyChild})
			return out
		})
		start := time.Now()
		res, err := s.SyncWith(waitCtx(t), evil.ID())
		t.Logf("endless children: %d rounds, %d bytes received, truncated=%v, err=%v, in %v",
			res.Rounds, res.BytesReceived, res.Truncated, err, time.Since(start))
		require.True(t, err != nil || res.Truncated)
		require.LessOrEqual(t, res.Rounds, SyncMaxRounds)
		require.Equal(t, 50, store.Len())
	})
	t.Run("wrong item", func(t *testing.T) {
		evilResponder(t, evil, func(req *syncMsg) *syncMsg {
			switch req.Type {
			case msgQuery:
				return &syncMsg{Type: msgAnswer, Answers: []syncAnswer{{Kind: answerIDs, IDs: [][32]byte{{0xff}}}}}
			case msgGet:
				return &syncMsg{Type: msgItems, Items: [][]byte{[]byte("ok but not the one asked")}}
			default:
				return &syncMsg{Type: msgAck}
			}
		})
		_, err := s.SyncWith(waitCtx(t), evil.ID())
		require.ErrorIs(t, err, ErrSyncProtocol)
		require.ErrorContains(t, err, "does not match")
	})
	t.Run("id outside the prefix", func(t *testing.T) {
		evilResponder(t, evil, func(req *syncMsg) *syncMsg {
			if req.Type == msgQuery && len(req.Nodes[0].Prefix) == 0 {
				return &syncMsg{Type: msgAnswer, Answers: []syncAnswer{{Kind: answerChildren, Children: everyChild[:1]}}}
			}
			return &syncMsg{Type: msgAnswer, Answers: []syncAnswer{{Kind: answerIDs, IDs: [][32]byte{{0xff}}}}}
		})
		_, err := s.SyncWith(waitCtx(t), evil.ID())
		require.ErrorIs(t, err, ErrSyncProtocol)
		require.ErrorContains(t, err, "not under the prefix")
	})
	t.Run("wrong type", func(t *testing.T) {
		evilResponder(t, evil, func(*syncMsg) *syncMsg { return &syncMsg{Type: msgAck} })
		_, err := s.SyncWith(waitCtx(t), evil.ID())
		require.ErrorIs(t, err, ErrSyncProtocol)
	})
	t.Run("too many answers", func(t *testing.T) {
		evilResponder(t, evil, func(*syncMsg) *syncMsg {
			return &syncMsg{Type: msgAnswer, Answers: []syncAnswer{{Kind: answerEqual}, {Kind: answerEqual}}}
		})
		_, err := s.SyncWith(waitCtx(t), evil.ID())
		require.ErrorIs(t, err, ErrSyncProtocol)
	})
	t.Run("silent", func(t *testing.T) {
		const proto = "/pilot/polo-sync-test/1.0.0"
		evil.SetStreamHandler(proto, func(st network.Stream) {
			_, _ = io.Copy(io.Discard, st) // never answers; ends when we reset
			_ = st.Reset()
		})
		t.Cleanup(func() { evil.RemoveStreamHandler(proto) })
		short := NewPoloSync(ours, proto, store, SyncOptions{Timeout: 300 * time.Millisecond})
		defer short.Close()
		start := time.Now()
		_, err := short.SyncWith(waitCtx(t), evil.ID())
		require.Error(t, err)
		require.Less(t, time.Since(start), 5*time.Second)
	})
}
