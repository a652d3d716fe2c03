package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/localapi"
)

func (b apiBackend) Send(ctx context.Context, req localapi.SendRequest) (localapi.SendResult, error) {
	a, err := b.target(ctx, req.Address)
	if err != nil {
		return localapi.SendResult{}, err
	}
	var id string
	var size int64
	switch req.Kind {
	case "text", "":
		req.Kind, size = "text", int64(len(req.Text))
		id, err = b.n.Send(ctx, a, inbox.KindText, []byte(req.Text))
	case "json":
		size = int64(len(req.JSON))
		id, err = b.n.Send(ctx, a, inbox.KindJSON, req.JSON)
	case "binary":
		size = int64(len(req.Binary))
		id, err = b.n.Send(ctx, a, inbox.KindBinary, req.Binary)
	case "file":
		if !filepath.IsAbs(req.Path) {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give an absolute path", "file path %q is not absolute", req.Path)
		}
		st, serr := os.Stat(req.Path)
		if serr != nil || !st.Mode().IsRegular() {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give a regular file the daemon can read", "cannot send %s: %v", req.Path, serr)
		}
		size = st.Size()
		id, err = b.n.SendFile(ctx, a, req.Path)
	default:
		return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "kind is text, json, binary or file", "unknown kind %q", req.Kind)
	}
	if err != nil {
		return localapi.SendResult{}, apiError(err)
	}
	p, _ := b.n.peerOf(ctx, a)
	return localapi.SendResult{Address: a.String(), PeerID: p.String(), ID: id, Kind: req.Kind, Size: size}, nil
}

func (b apiBackend) Inbox(ctx context.Context) (localapi.InboxList, error) {
	if err := b.n.running(); err != nil {
		return localapi.InboxList{}, apiError(err)
	}
	ms, err := b.n.inbox.List(ctx)
	if err != nil {
		return localapi.InboxList{}, apiError(err)
	}
	out := localapi.InboxList{Count: len(ms), Messages: make([]localapi.InboxMessage, 0, len(ms))}
	for _, m := range ms {
		out.Messages = append(out.Messages, inboxMessage(m, false))
	}
	return out, nil
}

func (b apiBackend) InboxGet(ctx context.Context, id string) (localapi.InboxMessage, error) {
	if err := b.n.running(); err != nil {
		return localapi.InboxMessage{}, apiError(err)
	}
	m, err := b.n.inbox.Get(ctx, id)
	if err != nil {
		return localapi.InboxMessage{}, apiError(err)
	}
	return inboxMessage(m, true), nil
}

func (b apiBackend) InboxDelete(ctx context.Context, id string) (localapi.Deleted, error) {
	if err := b.n.running(); err != nil {
		return localapi.Deleted{}, apiError(err)
	}
	if err := b.n.inbox.Delete(ctx, id); err != nil {
		return localapi.Deleted{}, apiError(err)
	}
	return localapi.Deleted{ID: id, Deleted: true}, nil
}

// inboxMessage converts m; text and JSON bodies travel as text, others
// as base64.
func inboxMessage(m inbox.Message, withBody bool) localapi.InboxMessage {
	out := localapi.InboxMessage{
		ID: m.ID, From: m.From.String(), FromAddr: m.FromAddr.String(), Kind: string(m.Kind),
		Name: m.Name, Size: m.Size, ReceivedAt: m.ReceivedAt.UTC().Format(time.RFC3339Nano), Path: m.Path,
	}
	if withBody {
		if m.Kind == inbox.KindText || m.Kind == inbox.KindJSON {
			out.Text = string(m.Body)
		} else {
			out.Body = m.Body
		}
	}
	return out
}

// inboxError maps the inbox's errors; apiError calls it first.
func inboxError(err error) error {
	switch {
	case errors.Is(err, inbox.ErrNotFound):
		return localapi.Errorf(localapi.CodeNotFound, "`pilot inbox` lists the message IDs", "%v", err)
	case errors.Is(err, inbox.ErrTooLarge), errors.Is(err, inbox.ErrInvalid):
		return localapi.Errorf(localapi.CodeInvalidArgument, "see docs/data-exchange.md for the limits", "%v", err)
	case errors.Is(err, inbox.ErrInboxFull), errors.Is(err, inbox.ErrBusy):
		return localapi.Errorf(localapi.CodeConnectionFailed, "the receiver cannot take it now; retry later", "%v", err)
	case errors.Is(err, inbox.ErrRejected):
		return localapi.Errorf(localapi.CodeConnectionFailed, "the receiver refused the message", "%v", err)
	}
	return nil
}
