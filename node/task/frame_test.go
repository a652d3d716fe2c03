package task

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func testPeer(t testing.TB) peer.ID {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(sk)
	require.NoError(t, err)
	return id
}

// fixedPeers are two valid peer IDs for seeds (no randomness in fuzzing).
var fixedPeers = [2]peer.ID{
	peer.ID(append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, bytes.Repeat([]byte{1}, 32)...)),
	peer.ID(append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, bytes.Repeat([]byte{2}, 32)...)),
}

func sampleFrames() []Frame {
	sub := time.UnixMilli(1_760_000_000_000).UTC()
	return []Frame{
		{Type: FrameSubmit, Task: Task{ID: "0123456789abcdef0123456789abcdef", Requester: fixedPeers[0], Worker: fixedPeers[1],
			Type: "summarise.v2", Input: json.RawMessage(`{"text":"hi"}`), SubmittedAt: sub, Deadline: sub.Add(time.Minute)}},
		{Type: FrameUpdate, Task: Task{ID: "0123456789abcdef0123456789abcdef", State: StateExecuting}},
		{Type: FrameUpdate, Task: Task{ID: "0123456789abcdef0123456789abcdef", State: StateSucceeded,
			Result: json.RawMessage(`[1,2]`), Receipt: []byte{1, 2, 3}}},
		{Type: FrameUpdate, Task: Task{ID: "0123456789abcdef0123456789abcdef", State: StateFailed, Error: "exit 3"}},
		{Type: FrameUpdate, Task: Task{ID: "0123456789abcdef0123456789abcdef", State: StateDeclined, Error: "busy"}},
		{Type: FrameCancel, Task: Task{ID: "0123456789abcdef0123456789abcdef"}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, f := range sampleFrames() {
		b, err := EncodeFrame(f)
		require.NoError(t, err, f.Type)
		got, err := DecodeFrame(bytes.NewReader(b))
		require.NoError(t, err, f.Type)
		require.Equal(t, f, got)
	}
	// Real peers and limits.
	a, b := testPeer(t), testPeer(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	big := Frame{Type: FrameSubmit, Task: Task{ID: newTaskID(), Requester: a, Worker: b, Type: strings.Repeat("a", MaxTypeLen),
		Input: json.RawMessage(`"` + strings.Repeat("x", MaxInput-2) + `"`), SubmittedAt: now, Deadline: now.Add(MaxTimeout)}}
	enc, err := EncodeFrame(big)
	require.NoError(t, err)
	got, err := DecodeFrame(bytes.NewReader(enc))
	require.NoError(t, err)
	require.Equal(t, big, got)
	upd := Frame{Type: FrameUpdate, Task: Task{ID: newTaskID(), State: StateSucceeded, Error: "",
		Result: json.RawMessage(`"` + strings.Repeat("x", MaxResult-2) + `"`), Receipt: bytes.Repeat([]byte{7}, MaxReceipt)}}
	enc, err = EncodeFrame(upd)
	require.NoError(t, err)
	got, err = DecodeFrame(bytes.NewReader(enc))
	require.NoError(t, err)
	require.Equal(t, upd, got)
}

func TestFrameRefusals(t *testing.T) {
	a, b := testPeer(t), testPeer(t)
	now := time.Now().UTC()
	good := Task{ID: newTaskID(), Requester: a, Worker: b, Type: "t", Input: json.RawMessage(`1`), SubmittedAt: now, Deadline: now.Add(time.Minute)}
	for name, edit := range map[string]func(*Frame){
		"bad id":        func(f *Frame) { f.Task.ID = "XYZ" },
		"upper-case id": func(f *Frame) { f.Task.ID = strings.ToUpper(newTaskID()) },
		"same peers":    func(f *Frame) { f.Task.Worker = a },
		"no worker":     func(f *Frame) { f.Task.Worker = "" },
		"bad type":      func(f *Frame) { f.Task.Type = "A" },
		"bad input":     func(f *Frame) { f.Task.Input = json.RawMessage(`{`) },
		"big input":     func(f *Frame) { f.Task.Input = json.RawMessage(`"` + strings.Repeat("x", MaxInput) + `"`) },
		"deadline":      func(f *Frame) { f.Task.Deadline = f.Task.SubmittedAt },
		"long timeout":  func(f *Frame) { f.Task.Deadline = f.Task.SubmittedAt.Add(MaxTimeout + time.Millisecond) },
		"zero time":     func(f *Frame) { f.Task.SubmittedAt = time.Time{} },
		"update submitted": func(f *Frame) {
			*f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: StateSubmitted}}
		},
		"result while executing": func(f *Frame) {
			*f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: StateExecuting, Result: json.RawMessage(`1`)}}
		},
		"error while accepted": func(f *Frame) {
			*f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: StateAccepted, Error: "x"}}
		},
		"receipt on cancel": func(f *Frame) {
			*f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: StateCancelled, Receipt: []byte{1}}}
		},
		"control char": func(f *Frame) {
			*f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: StateFailed, Error: "a\nb"}}
		},
		"unknown state": func(f *Frame) { *f = Frame{Type: FrameUpdate, Task: Task{ID: f.Task.ID, State: "done"}} },
		"unknown type":  func(f *Frame) { f.Type = 7 },
	} {
		f := Frame{Type: FrameSubmit, Task: good}
		edit(&f)
		_, err := EncodeFrame(f)
		require.ErrorIs(t, err, ErrInvalid, name)
	}
}

// TestDecodeLimitsBeforeAllocation: a declared length over the bound is
// refused from the header alone.
func TestDecodeLimitsBeforeAllocation(t *testing.T) {
	for _, c := range []struct {
		typ FrameType
		n   uint32
	}{{FrameSubmit, maxSubmitBody + 1}, {FrameUpdate, maxUpdateBody + 1}, {FrameCancel, maxCancelBody + 1}, {FrameUpdate, ^uint32(0)}} {
		h := []byte{Version, byte(c.typ), 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[2:], c.n)
		_, err := DecodeFrame(&onlyReader{data: h})
		var fe *frameError
		require.ErrorAs(t, err, &fe)
		require.Contains(t, fe.msg, "exceeds the limit")
	}
}

// onlyReader fails the test's purpose loudly if more than data is read.
type onlyReader struct{ data []byte }

func (r *onlyReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("read past the header")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// FuzzDecodeFrame: the decoder never panics, never accepts a frame out of
// bounds, and what it accepts encodes back to the bytes it read.
func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, err := EncodeFrame(fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{Version, byte(FrameUpdate), 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		fr, err := DecodeFrame(r)
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) {
				t.Fatalf("a bytes.Reader can only end: %v", err)
			}
			return
		}
		if err := checkFrame(fr); err != nil {
			t.Fatalf("accepted an invalid frame: %v", err)
		}
		tk := fr.Task
		if len(tk.Input) > MaxInput || len(tk.Result) > MaxResult || len(tk.Receipt) > MaxReceipt || len(tk.Error) > MaxErrorLen {
			t.Fatalf("accepted a frame over the limits")
		}
		enc, err := EncodeFrame(fr)
		if err != nil {
			t.Fatalf("accepted frame does not encode: %v", err)
		}
		if read := len(data) - r.Len(); !bytes.Equal(enc, data[:read]) {
			t.Fatalf("re-encoded %x, read %x", enc, data[:read])
		}
	})
}

// FuzzDecodeResponse: the decoder never panics and accepts only a known
// status with a printable reason.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(EncodeResponse(Response{Status: StatusOK}))
	f.Add(EncodeResponse(Response{Status: StatusDeclined, Reason: "polo below 0.5"}))
	f.Add([]byte{9, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := DecodeResponse(bytes.NewReader(data))
		if err != nil {
			return
		}
		if resp.Status > maxStatus || len(resp.Reason) > MaxReasonLen || !utf8.ValidString(resp.Reason) ||
			strings.IndexFunc(resp.Reason, unicode.IsControl) >= 0 {
			t.Fatalf("accepted %+v", resp)
		}
		if got, err := DecodeResponse(bytes.NewReader(EncodeResponse(resp))); err != nil || got != resp {
			t.Fatalf("round trip: %v %+v", err, got)
		}
	})
}

func TestResponseSanitized(t *testing.T) {
	b := EncodeResponse(Response{Status: StatusBadFrame, Reason: "bad\x00\xff" + strings.Repeat("é", 300)})
	got, err := DecodeResponse(bytes.NewReader(b))
	require.NoError(t, err)
	require.LessOrEqual(t, len(got.Reason), MaxReasonLen)
	require.True(t, strings.HasPrefix(got.Reason, "bad??"))
	_, err = DecodeResponse(bytes.NewReader([]byte{0, 3, 'a'}))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestHashes(t *testing.T) {
	tk := sampleFrames()[0].Task
	h := tk.Hash()
	same := tk
	same.State, same.Role, same.Result, same.Error, same.UpdatedAt = StateSucceeded, RoleWorker, json.RawMessage(`1`), "x", time.Now()
	require.Equal(t, h, same.Hash(), "local and outcome fields are not covered")
	for name, edit := range map[string]func(*Task){
		"id":        func(t *Task) { t.ID = "1" + t.ID[1:] },
		"requester": func(t *Task) { t.Requester, t.Worker = t.Worker, t.Requester },
		"type":      func(t *Task) { t.Type = "other" },
		"input":     func(t *Task) { t.Input = json.RawMessage(`{"text": "hi"}`) },
		"submitted": func(t *Task) { t.SubmittedAt = t.SubmittedAt.Add(time.Millisecond) },
		"deadline":  func(t *Task) { t.Deadline = t.Deadline.Add(time.Millisecond) },
	} {
		other := tk
		edit(&other)
		require.NotEqual(t, h, other.Hash(), name)
	}
	require.NotEqual(t, ResultHash([]byte(`1`), ""), ResultHash(nil, "1"), "fields are delimited")
	require.Equal(t, ResultHash([]byte(`1`), "e"), ResultHash([]byte(`1`), "e"))
}
