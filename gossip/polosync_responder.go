package gossip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// handle serves one session a peer opened. It resets the stream when the
// peer is not accepted, when too many sessions run already, and when the
// session breaks the protocol or its limits.
func (s *PoloSync) handle(st network.Stream) {
	p := st.Conn().RemotePeer()
	if err := s.enter(); err != nil {
		_ = st.Reset()
		return
	}
	defer s.wg.Done()
	if s.opts.Accept != nil && !s.opts.Accept(p) {
		s.refused.Add(1)
		_ = st.Reset()
		return
	}
	select {
	case s.inbound <- struct{}{}:
		defer func() { <-s.inbound }()
	default:
		s.refused.Add(1)
		_ = st.Reset()
		return
	}
	s.served.Add(1)
	_ = st.SetDeadline(time.Now().Add(s.opts.Timeout))
	stop := context.AfterFunc(s.ctx, func() { _ = st.Reset() })
	defer stop()

	ss := newSyncSession(s, st, p)
	err := ss.serve()
	res := ss.result()
	if err != nil {
		_ = st.Reset()
		err = s.closedOr(fmt.Errorf("polo sync from %s: %w", p, err))
		log.Debugw("polo sync: inbound session ended", "peer", p, "rounds", res.Rounds, "err", err)
	} else {
		_ = st.Close()
	}
	s.account(res, err)
	if s.opts.OnServed != nil {
		s.opts.OnServed(res, err)
	}
}

// serve answers the initiator's requests until it closes the stream.
func (ss *syncSession) serve() error {
	for {
		req, err := ss.conn.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if ss.res.Rounds >= SyncMaxRounds {
			return fmt.Errorf("%w: more than %d rounds", ErrSyncLimit, SyncMaxRounds)
		}
		ss.res.Rounds++
		var resp *syncMsg
		switch req.Type {
		case msgQuery:
			resp, err = ss.answerQuery(req.Nodes)
		case msgGet:
			resp, err = ss.answerGet(req.IDs)
		case msgPush:
			resp, err = ss.acceptPush(req.Items)
		default:
			err = fmt.Errorf("%w: request of type 0x%02x", ErrSyncProtocol, req.Type)
		}
		if err != nil {
			return err
		}
		if err := ss.conn.send(resp); err != nil {
			return err
		}
	}
}

// answerQuery answers as many nodes of a QUERY as fit in one frame (at
// least one).
func (ss *syncSession) answerQuery(nodes []syncNode) (*syncMsg, error) {
	out := &syncMsg{Type: msgAnswer}
	size := syncHeader
	for _, n := range nodes {
		a, err := ss.answerNode(n)
		if err != nil {
			return nil, err
		}
		if len(out.Answers) > 0 && size+answerSize(a) > syncMaxFrame {
			break
		}
		out.Answers = append(out.Answers, a)
		size += answerSize(a)
	}
	return out, nil
}

// answerNode compares the initiator's summary of a prefix with this side's:
// equal, or this side's IDs if there are few, or its children.
func (ss *syncSession) answerNode(n syncNode) (syncAnswer, error) {
	count, fp, err := ss.summary(n.Prefix)
	if err != nil {
		return syncAnswer{}, err
	}
	if uint64(count) == n.Count && fp == n.FP {
		return syncAnswer{Kind: answerEqual}, nil
	}
	if count > syncLeaf && len(n.Prefix) < 32 {
		kids, err := ss.children(n.Prefix, count)
		if err != nil {
			return syncAnswer{}, err
		}
		if len(kids) > 0 {
			return syncAnswer{Kind: answerChildren, Children: kids}, nil
		}
	}
	ids, err := ss.listIDs(n.Prefix, syncLeaf)
	if err != nil {
		return syncAnswer{}, err
	}
	return syncAnswer{Kind: answerIDs, IDs: ids}, nil
}

// answerGet returns the items of as many IDs of a GET as fit in one frame
// (at least one entry; an empty one for an item not held).
func (ss *syncSession) answerGet(ids [][32]byte) (*syncMsg, error) {
	out := &syncMsg{Type: msgItems}
	size := syncHeader
	for _, id := range ids {
		if ss.lookups++; ss.lookups > 2*ss.maxItems {
			return nil, fmt.Errorf("%w: more than %d ids asked", ErrSyncLimit, 2*ss.maxItems)
		}
		raw, err := ss.get(id)
		if err != nil {
			return nil, err
		}
		if len(out.Items) > 0 && size+itemEntrySize(raw) > syncMaxFrame {
			break
		}
		if raw != nil {
			if ss.transferred() >= ss.maxItems {
				return nil, fmt.Errorf("%w: more than %d items", ErrSyncLimit, ss.maxItems)
			}
			ss.res.SentItems++
		}
		out.Items = append(out.Items, raw)
		size += itemEntrySize(raw)
	}
	return out, nil
}

// acceptPush hands pushed items to the store and acknowledges them.
func (ss *syncSession) acceptPush(items [][]byte) (*syncMsg, error) {
	out := &syncMsg{Type: msgAck}
	for _, raw := range items {
		if ss.transferred() >= ss.maxItems {
			return nil, fmt.Errorf("%w: more than %d items", ErrSyncLimit, ss.maxItems)
		}
		before := ss.res.Rejected
		ok, err := ss.receive(itemID(raw), raw)
		switch {
		case err != nil:
			return nil, err
		case ok:
			out.Accepted++
		case ss.res.Rejected > before:
			out.Rejected++
		}
	}
	return out, nil
}
