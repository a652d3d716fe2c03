package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/trust"
)

// TestTrustGatesDataExchange: an untrusted sender is refused with
// ErrTrustRequired; after request and approval the message lands in the
// inbox; after revocation it is refused again. Both nodes are private and
// meet through the anchor's relay.
func TestTrustGatesDataExchange(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx := context.Background()

	_, err := b.Send(ctx, c.Addr(), inbox.KindText, []byte("hello"))
	require.ErrorIs(t, err, ports.ErrTrustRequired)
	msgs, err := c.Inbox().List(ctx)
	require.NoError(t, err)
	require.Empty(t, msgs, "nothing stored for an untrusted sender")

	events, stopEvents := c.events.subscribe()
	defer stopEvents()
	_, err = b.Trust().Request(ctx, c.PeerID(), "I would like to send you reports")
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		r, ok, err := c.Trust().Get(b.PeerID())
		if err != nil || !ok || r.State != trust.StateIncomingPending {
			return errors.New("request not pending at c yet")
		}
		return nil
	})
	waitEvent(t, events, "trust_"+trust.EventRequestReceived)
	_, err = c.Trust().Approve(ctx, b.PeerID())
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		if !b.Trust().IsTrusted(c.PeerID()) {
			return errors.New("b does not trust c yet")
		}
		return nil
	})

	id, err := b.Send(ctx, c.Addr(), inbox.KindText, []byte("hello"))
	require.NoError(t, err)
	m, err := c.Inbox().Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "hello", string(m.Body))
	require.Equal(t, b.PeerID(), m.From)
	waitEvent(t, events, EventMessage)

	_, err = c.Trust().Revoke(ctx, b.PeerID())
	require.NoError(t, err)
	_, err = b.Send(ctx, c.Addr(), inbox.KindText, []byte("again"))
	require.ErrorIs(t, err, ports.ErrTrustRequired)

	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

// TestPublishSubscribeAcrossPrivateNodes: two private nodes exchange events
// through the topic their anchor relays for them.
func TestPublishSubscribeAcrossPrivateNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	got := make(chan gossip.Event, 1)
	subErr := make(chan error, 1)
	go func() {
		subErr <- c.Subscribe(ctx, "weather", 1, func(e gossip.Event) error { got <- e; return nil })
	}()
	// Publish until the subscriber's mesh is there; each publish is a
	// separate message, the first that arrives ends the test.
	var e gossip.Event
	for received := false; !received; {
		_, err := b.Publish(ctx, "weather", []byte("sunny"))
		require.NoError(t, err)
		select {
		case e = <-got:
			received = true
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no event within 60 s")
		}
	}
	require.NoError(t, <-subErr)
	require.Equal(t, "sunny", string(e.Data))
	require.Equal(t, b.PeerID(), e.From)
	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

func waitEvent(t *testing.T, ch <-chan LocalEvent, kind string) LocalEvent {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 30 s", kind)
		}
	}
}
