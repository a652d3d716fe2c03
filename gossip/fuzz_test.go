package gossip

import (
	"bytes"
	"context"
	"crypto/rand"
	"regexp"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
)

var topicRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// Event bodies travel as they are (no envelope of Pilot's own), so the
// decoders of network bytes here are the topic-name check and the
// validator's reading of a message's author, key and sequence number.
func FuzzValidTopic(f *testing.F) {
	for _, s := range []string{"news", "", "News", "a/b", "naïve", "x.y_z-1", string(make([]byte, 65))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidTopic(name)
		if (err == nil) != topicRE.MatchString(name) {
			t.Fatalf("ValidTopic(%q) = %v, want valid=%v", name, err, topicRE.MatchString(name))
		}
		if err != nil && !bytes.Contains([]byte(err.Error()), []byte("invalid topic name")) {
			t.Fatalf("unclear error %q", err)
		}
	})
}

func FuzzValidateEvent(f *testing.F) {
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(f, err)
	id, err := peer.IDFromPublicKey(pub)
	require.NoError(f, err)
	rawKey, err := crypto.MarshalPublicKey(pub)
	require.NoError(f, err)
	f.Add([]byte(id), []byte(nil), []byte{0, 0, 0, 0, 0, 0, 0, 7}, []byte("hello"))
	f.Add([]byte(id), rawKey, []byte{1}, []byte(""))
	f.Add([]byte("garbage"), []byte("garbage"), []byte(nil), make([]byte, 2000))

	ps := &PubSub{cfg: Config{MaxMessageSize: 1024}, tr: newTracer()}
	ps.ctx, ps.cancel = context.WithCancel(context.Background())
	defer ps.cancel()
	s := &Subscription{ps: ps, name: "fuzz"}
	topic := DefaultTopicPrefix + "fuzz"
	f.Fuzz(func(t *testing.T, from, key, seqno, data []byte) {
		msg := &pubsub.Message{Message: &pb.Message{From: from, Key: key, Seqno: seqno, Data: data, Topic: &topic}}
		res := ps.validateEvent(context.Background(), peer.ID(from), msg)
		if res != pubsub.ValidationAccept {
			require.Equal(t, pubsub.ValidationReject, res)
			return
		}
		require.NotEmpty(t, data)
		require.LessOrEqual(t, len(data), 1024)
		ev := s.event(msg)
		require.Equal(t, data, ev.Data)
		require.Equal(t, peer.ID(from), ev.From)
		if len(key) == 0 { // the address comes from the ID's inlined key
			want, err := addressing.FromPeerID(peer.ID(from))
			require.NoError(t, err)
			require.Equal(t, want, ev.FromAddr)
		} else {
			k, err := crypto.UnmarshalPublicKey(key)
			require.NoError(t, err)
			require.True(t, ev.FromAddr.Matches(k))
		}
	})
}
