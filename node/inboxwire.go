package node

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/ports"
)

// startInbox serves the data exchange port (1001) into the inbox. Files go
// to home/received; an in-memory node keeps small files in the store.
func (n *Node) startInbox() error {
	filesDir := ""
	if !n.cfg.InMemory {
		filesDir = filepath.Join(n.cfg.Home, "received")
	}
	in, err := inbox.New(inbox.Config{
		DB:       n.db,
		FilesDir: filesDir,
		OnMessage: func(m inbox.Message) {
			n.events.publish(LocalEvent{Kind: EventMessage, Peer: m.From, At: m.ReceivedAt, Detail: map[string]string{
				"id": m.ID, "kind": string(m.Kind), "size": fmt.Sprint(m.Size), "name": m.Name,
			}})
		},
	})
	if err != nil {
		return fmt.Errorf("node: inbox: %w", err)
	}
	l, err := n.ports.Listen(ports.PortData)
	if err != nil {
		in.Close()
		return err
	}
	in.Serve(l)
	n.inbox = in
	return nil
}

// Inbox is the node's inbox (nil before Start).
func (n *Node) Inbox() *inbox.Inbox { return n.inbox }

// smallMessage is the size up to which a message goes over whatever path
// exists rather than waiting for a direct one.
const smallMessage = 64 << 10

// Send delivers one message to a's data exchange port and returns its ID
// in the receiver's inbox.
func (n *Node) Send(ctx context.Context, a addressing.Addr, kind inbox.Kind, body []byte) (string, error) {
	id, err := n.Connect(ctx, a)
	if err != nil {
		return "", err
	}
	n.preferDirect(ctx, id, len(body) > smallMessage)
	return inbox.Send(ctx, n.ports, id, kind, "", bytes.NewReader(body), int64(len(body)))
}

// SendFile delivers the file at path to a's data exchange port.
func (n *Node) SendFile(ctx context.Context, a addressing.Addr, path string) (string, error) {
	id, err := n.Connect(ctx, a)
	if err != nil {
		return "", err
	}
	n.preferDirect(ctx, id, true)
	return inbox.SendFile(ctx, n.ports, id, path)
}
