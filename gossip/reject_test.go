package gossip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// rawPubSub starts a bare gossipsub on h, without this package's limits or
// validators: a peer that does not follow Pilot's rules.
func rawPubSub(t *testing.T, h host.Host) *pubsub.PubSub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h)
	require.NoError(t, err)
	return ps
}

// sendRawRPC writes one hand-made pubsub RPC to to over a fresh gossipsub
// stream from h (a host that runs no pubsub at all).
func sendRawRPC(t *testing.T, h host.Host, to host.Host, rpc *pb.RPC) {
	t.Helper()
	s, err := h.NewStream(waitCtx(t), to.ID(), pubsub.GossipSubID_v11)
	require.NoError(t, err)
	body, err := proto.Marshal(rpc)
	require.NoError(t, err)
	_, err = s.Write(append(binary.AppendUvarint(nil, uint64(len(body))), body...))
	require.NoError(t, err)
	require.NoError(t, s.CloseWrite())
}

// Messages that break the rules are rejected by the receiver, counted, and
// never delivered: oversized and empty bodies from a peer without the local
// limit, a forged signature, a missing signature.
func TestBadMessagesAreRejected(t *testing.T) {
	checkLeaks(t)
	a, d, e := newHost(t), newHost(t), newHost(t)
	connect(t, d, a)
	connect(t, e, a)
	psA := newPubSub(t, a, fastConfig())
	rawD := rawPubSub(t, d)
	ctx := waitCtx(t)
	full := DefaultTopicPrefix + "guarded"

	sub, err := psA.Subscribe(ctx, "guarded")
	require.NoError(t, err)
	defer sub.Close()
	topicD, err := rawD.Join(full)
	require.NoError(t, err)
	defer topicD.Close()
	eventually(t, "D to see A in the topic", func() bool { return slices.Contains(topicD.ListPeers(), a.ID()) })

	// From a peer with pubsub's own 1 MiB limit: too large for A, and empty.
	require.NoError(t, topicD.Publish(ctx, make([]byte, DefaultMaxMessageSize+1)))
	require.NoError(t, topicD.Publish(ctx, []byte{}))
	// Hand-made: a signature that does not check, and none at all.
	seqno := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	badSig := make([]byte, 64)
	_, _ = rand.Read(badSig)
	sendRawRPC(t, e, a, &pb.RPC{Publish: []*pb.Message{
		{From: []byte(e.ID()), Data: []byte("forged"), Seqno: seqno(1), Topic: &full, Signature: badSig},
		{From: []byte(e.ID()), Data: []byte("unsigned"), Seqno: seqno(2), Topic: &full},
	}})

	eventually(t, "every bad message to be counted", func() bool {
		st := psA.Stats()
		return st[StatRejectTooLarge] == 1 && st[StatRejectEmpty] == 1 &&
			st[StatRejectInvalidSignature] == 1 && st[StatRejectMissingSignature] == 1
	})
	st := psA.Stats()
	require.Equal(t, uint64(2), st[StatRejectValidator], "the validator's own rejections, in total")
	require.Zero(t, st[StatDelivered])

	// A good message from the same peer still gets through, and it is the
	// first thing the subscription sees.
	require.NoError(t, topicD.Publish(ctx, []byte("fine")))
	ev := next(t, sub)
	require.Equal(t, []byte("fine"), ev.Data)
	require.Equal(t, d.ID(), ev.From)
	require.Equal(t, uint64(1), psA.Stats()[StatDelivered])
}
