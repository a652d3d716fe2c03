package trust

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// TestInboundTransitions is the receiving side of the state machine.
func TestInboundTransitions(t *testing.T) {
	_, from := fixedKey(t, 1)
	_, to := fixedKey(t, 2)
	now := time.UnixMilli(1_700_000_000_000)
	cooldown := time.Hour
	recent, old := now.Add(-time.Minute).UnixMilli(), now.Add(-2*time.Hour).UnixMilli()
	type want struct {
		state   State // StateNone: nothing stored
		reply   Kind
		dropOut bool
		event   string
		ignored string
	}
	cases := []struct {
		name string
		have State // StateNone: no record
		dir  string
		upd  int64
		kind Kind
		want want
	}{
		{"request from stranger", StateNone, "", 0, KindRequest, want{StateIncomingPending, 0, false, EventRequestReceived, ""}},
		{"request crosses ours", StateOutgoingPending, DirectionOutgoing, 0, KindRequest, want{StateTrusted, KindApprove, false, EventTrusted, ""}},
		{"request when trusted", StateTrusted, DirectionOutgoing, 0, KindRequest, want{StateTrusted, KindApprove, false, "", ""}},
		{"request repeated", StateIncomingPending, DirectionIncoming, 0, KindRequest, want{StateIncomingPending, 0, false, "", ""}},
		{"request after revoke", StateRevoked, DirectionOutgoing, 0, KindRequest, want{StateIncomingPending, 0, false, EventRequestReceived, ""}},
		{"request in cooldown", StateRejected, DirectionOutgoing, recent, KindRequest, want{StateRejected, 0, false, "", "ignored_request_rejected"}},
		{"request after cooldown", StateRejected, DirectionOutgoing, old, KindRequest, want{StateIncomingPending, 0, false, EventRequestReceived, ""}},
		{"request after they rejected us", StateRejected, DirectionIncoming, recent, KindRequest, want{StateIncomingPending, 0, false, EventRequestReceived, ""}},
		{"approve of our request", StateOutgoingPending, DirectionOutgoing, 0, KindApprove, want{StateTrusted, 0, true, EventTrusted, ""}},
		{"approve when trusted", StateTrusted, DirectionIncoming, 0, KindApprove, want{StateTrusted, 0, false, "", ""}},
		{"approve unsolicited", StateNone, "", 0, KindApprove, want{StateNone, 0, false, "", "ignored_unsolicited_approve"}},
		{"approve after revoke", StateRevoked, DirectionOutgoing, 0, KindApprove, want{StateRevoked, 0, false, "", "ignored_unsolicited_approve"}},
		{"approve of their own request", StateIncomingPending, DirectionIncoming, 0, KindApprove, want{StateIncomingPending, 0, false, "", "ignored_unsolicited_approve"}},
		{"reject of our request", StateOutgoingPending, DirectionOutgoing, 0, KindReject, want{StateRejected, 0, true, EventRejected, ""}},
		{"reject when trusted", StateTrusted, DirectionOutgoing, 0, KindReject, want{StateTrusted, 0, false, "", "ignored_reject"}},
		{"reject from stranger", StateNone, "", 0, KindReject, want{StateNone, 0, false, "", "ignored_reject"}},
		{"revoke trust", StateTrusted, DirectionOutgoing, 0, KindRevoke, want{StateRevoked, 0, true, EventRevoked, ""}},
		{"revoke our request", StateOutgoingPending, DirectionOutgoing, 0, KindRevoke, want{StateRevoked, 0, true, EventRevoked, ""}},
		{"withdraw their request", StateIncomingPending, DirectionIncoming, 0, KindRevoke, want{StateRevoked, 0, true, EventRevoked, ""}},
		{"revoke when rejected", StateRejected, DirectionOutgoing, 0, KindRevoke, want{StateRejected, 0, false, "", "ignored_revoke"}},
		{"revoke from stranger", StateNone, "", 0, KindRevoke, want{StateNone, 0, false, "", "ignored_revoke"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found := tc.have != StateNone
			rec := storedRecord{id: from, State: tc.have, Direction: tc.dir, Updated: tc.upd, RecvSeq: 5}
			msg := ""
			if tc.kind == KindRequest {
				msg = "m"
				if tc.have == StateIncomingPending {
					rec.Message = "m"
				}
			}
			f := &frame{Kind: tc.kind, From: from, To: to, IssuedAt: now.UnixMilli(), Seq: 9, Message: msg}
			r := inbound(rec, found, f, now, cooldown)
			got := want{StateNone, r.reply, r.dropOut, r.event, r.ignored}
			if r.rec != nil {
				got.state = r.rec.State
				require.Equal(t, uint64(9), r.rec.RecvSeq, "replay watermark advances")
				require.Equal(t, from, r.rec.id)
			} else {
				require.False(t, found, "a known peer's frame always advances its watermark")
			}
			require.Equal(t, tc.want, got)
			if tc.want.event != "" {
				require.Equal(t, DirectionIncoming, r.rec.Direction)
				require.Equal(t, now.UnixMilli(), r.rec.Updated)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	_, a := fixedKey(t, 1)
	_, b := fixedKey(t, 2)
	l := newLimiter(4, 2)
	now := time.Unix(1000, 0)
	require.True(t, l.allow(a, true, now))
	require.True(t, l.allow(a, true, now))
	require.False(t, l.allow(a, true, now), "third request")
	require.True(t, l.allow(a, false, now), "other kinds still pass")
	require.False(t, l.allow(a, false, now), "frame limit")
	require.True(t, l.allow(b, true, now), "limits are per peer")
	require.True(t, l.allow(a, true, now.Add(time.Minute)), "a new window")
}

func TestLimiterBounded(t *testing.T) {
	l := newLimiter(1, 1)
	now := time.Unix(1000, 0)
	for i := range maxLimiterPeers * 3 {
		l.allow(peerIDFromInt(i), true, now.Add(time.Duration(i)*time.Millisecond))
	}
	require.LessOrEqual(t, len(l.peers), maxLimiterPeers)
}

func peerIDFromInt(i int) peer.ID { return peer.ID(fmt.Sprintf("p%d", i)) }
