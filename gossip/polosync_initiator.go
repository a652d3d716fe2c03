package gossip

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// SyncWith runs one session with p: it finds the difference between the
// two stores by prefix descent, pulls the items this node lacks (each is
// passed to the store's Add; refused ones are counted in Rejected) and
// pushes the ones p lacks. Afterwards both hold the union of their valid
// items, unless a session limit was reached (Truncated). The session is
// bounded by SyncOptions.Timeout, MaxItems and SyncMaxRounds; a peer that
// breaks the protocol ends it with an error wrapping ErrSyncProtocol. On
// error the result holds what was done before it: items received are kept.
// Like kad-dht and pubsub, the session does not run over a limited
// (relayed) connection: opening the stream waits for a direct one until
// ctx or Timeout ends.
func (s *PoloSync) SyncWith(ctx context.Context, p peer.ID) (SyncResult, error) {
	res := SyncResult{Peer: p}
	if p == s.h.ID() {
		return res, fmt.Errorf("polo sync: cannot sync with self")
	}
	if err := s.enter(); err != nil {
		return res, err
	}
	defer s.wg.Done()
	s.initiated.Add(1)

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	stopOnClose := context.AfterFunc(s.ctx, cancel)
	defer stopOnClose()

	st, err := s.h.NewStream(ctx, p, s.proto)
	if err != nil {
		s.account(res, err)
		return res, s.closedOr(fmt.Errorf("polo sync with %s: open stream: %w", p, err))
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	stopReset := context.AfterFunc(ctx, func() { _ = st.Reset() })
	ss := newSyncSession(s, st, p)
	err = ss.initiate()
	stopReset()
	res = ss.result()
	if err != nil {
		_ = st.Reset()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		s.account(res, err)
		return res, s.closedOr(fmt.Errorf("polo sync with %s: %w", p, err))
	}
	_ = st.Close()
	s.account(res, nil)
	return res, nil
}

// closedOr returns ErrClosed once Close has begun, err otherwise.
func (s *PoloSync) closedOr(err error) error {
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}

// initiate runs the initiator's side: reconcile, pull, push.
func (ss *syncSession) initiate() error {
	if err := ss.reconcile(); err != nil {
		return err
	}
	if err := ss.pull(); err != nil {
		return err
	}
	return ss.push()
}

// exchange sends one request and reads its response, which must be of
// type want.
func (ss *syncSession) exchange(req *syncMsg, want byte) (*syncMsg, error) {
	ss.res.Rounds++
	if err := ss.conn.send(req); err != nil {
		return nil, err
	}
	resp, err := ss.conn.read()
	if err != nil {
		return nil, err
	}
	if resp.Type != want {
		return nil, fmt.Errorf("%w: response of type 0x%02x to a request of type 0x%02x", ErrSyncProtocol, resp.Type, req.Type)
	}
	return resp, nil
}

// roundsLeft reports whether another exchange is allowed; if not, the
// session is truncated.
func (ss *syncSession) roundsLeft() bool {
	if ss.res.Rounds >= SyncMaxRounds {
		ss.res.Truncated = true
		return false
	}
	return true
}

// room is how many more IDs need and have may hold.
func (ss *syncSession) room() int { return max(0, ss.maxItems-len(ss.need)-len(ss.have)) }

// reconcile descends the prefix tree breadth first, querying the peer about
// the prefixes whose summaries may differ, and fills need and have.
func (ss *syncSession) reconcile() error {
	count, fp, err := ss.summary(nil)
	if err != nil {
		return err
	}
	queue := []syncNode{{Prefix: []byte{}, Count: uint64(count), FP: fp}}
	queued := 1
	for len(queue) > 0 {
		if !ss.roundsLeft() {
			return nil
		}
		batch := queue[:min(len(queue), syncMaxQueryNodes)]
		resp, err := ss.exchange(&syncMsg{Type: msgQuery, Nodes: batch}, msgAnswer)
		if err != nil {
			return err
		}
		if len(resp.Answers) == 0 || len(resp.Answers) > len(batch) {
			return fmt.Errorf("%w: %d answers to %d nodes", ErrSyncProtocol, len(resp.Answers), len(batch))
		}
		queue = queue[len(resp.Answers):] // the unanswered ones are asked again
		for i, a := range resp.Answers {
			kids, err := ss.apply(batch[i], a)
			if err != nil {
				return err
			}
			if room := syncMaxNodes - queued; len(kids) > room {
				kids, ss.res.Truncated = kids[:room], true
			}
			queued += len(kids)
			queue = append(queue, kids...)
		}
		if ss.room() == 0 {
			ss.res.Truncated = ss.res.Truncated || len(queue) > 0
			return nil
		}
	}
	return nil
}

// apply takes the peer's answer about node (this side's summary of a
// prefix) into account and returns the children to query next.
func (ss *syncSession) apply(node syncNode, a syncAnswer) ([]syncNode, error) {
	switch a.Kind {
	case answerEqual:
		return nil, nil
	case answerIDs:
		for _, id := range a.IDs {
			if !bytes.HasPrefix(id[:], node.Prefix) {
				return nil, fmt.Errorf("%w: id %x not under the prefix %x asked", ErrSyncProtocol, id[:8], node.Prefix)
			}
		}
		var mine [][32]byte
		limit := ss.room() + len(a.IDs)
		if node.Count > 0 {
			var err error
			if mine, err = ss.listIDs(node.Prefix, limit); err != nil {
				return nil, err
			}
		}
		partial := len(mine) == limit && uint64(limit) < node.Count
		ss.res.Truncated = ss.res.Truncated || partial
		ss.diff(mine, a.IDs, partial)
		return nil, nil
	case answerChildren:
		return ss.descend(node, a.Children)
	default:
		return nil, fmt.Errorf("%w: answer kind 0x%02x", ErrSyncProtocol, a.Kind)
	}
}

// diff adds to need the IDs of theirs missing from mine and to have those
// of mine missing from theirs (both ascending). If mine is only the start
// of this side's IDs under the prefix (partial), IDs of theirs above its
// last one are left for a later session.
func (ss *syncSession) diff(mine, theirs [][32]byte, partial bool) {
	var need, have [][32]byte
	i, j := 0, 0
	for i < len(mine) || j < len(theirs) {
		switch {
		case j == len(theirs):
			have = append(have, mine[i])
			i++
		case i == len(mine):
			if partial {
				ss.res.Truncated = true
				j = len(theirs)
				continue
			}
			need = append(need, theirs[j])
			j++
		default:
			switch c := bytes.Compare(mine[i][:], theirs[j][:]); {
			case c == 0:
				i, j = i+1, j+1
			case c < 0:
				have = append(have, mine[i])
				i++
			default:
				need = append(need, theirs[j])
				j++
			}
		}
	}
	ss.addNeed(need)
	ss.addHave(have)
}

func (ss *syncSession) addNeed(ids [][32]byte) {
	if r := ss.room(); len(ids) > r {
		ids, ss.res.Truncated = ids[:r], true
	}
	ss.need = append(ss.need, ids...)
}

func (ss *syncSession) addHave(ids [][32]byte) {
	if r := ss.room(); len(ids) > r {
		ids, ss.res.Truncated = ids[:r], true
	}
	ss.have = append(ss.have, ids...)
}

// descend compares the peer's children of node's prefix with this side's
// and returns the children to query: those that differ or that only the
// peer has. The IDs of children only this side has go to have.
func (ss *syncSession) descend(node syncNode, theirs []syncChild) ([]syncNode, error) {
	if len(node.Prefix) >= 32 {
		return nil, fmt.Errorf("%w: children of a full id", ErrSyncProtocol)
	}
	mine, err := ss.children(node.Prefix, int(min(node.Count, uint64(syncMaxStoreCalls))))
	if err != nil {
		return nil, err
	}
	childPrefix := func(b byte) []byte {
		return append(slices.Clip(node.Prefix), b) // a fresh slice each time
	}
	var kids []syncNode
	i, j := 0, 0
	for i < len(mine) || j < len(theirs) {
		switch {
		case j == len(theirs) || i < len(mine) && mine[i].Byte < theirs[j].Byte:
			// Only this side has IDs under the child: the peer lacks them all.
			p := childPrefix(mine[i].Byte)
			ids, err := ss.listIDs(p, ss.room())
			if err != nil {
				return nil, err
			}
			if uint64(len(ids)) < mine[i].Count {
				ss.res.Truncated = true
			}
			ss.addHave(ids)
			i++
		case i == len(mine) || theirs[j].Byte < mine[i].Byte:
			kids = append(kids, syncNode{Prefix: childPrefix(theirs[j].Byte)})
			j++
		default:
			if mine[i].Count != theirs[j].Count || mine[i].FP != theirs[j].FP {
				kids = append(kids, syncNode{Prefix: childPrefix(mine[i].Byte), Count: mine[i].Count, FP: mine[i].FP})
			}
			i, j = i+1, j+1
		}
	}
	return kids, nil
}

// pull asks the peer for the items in need, in batches, and stores them.
func (ss *syncSession) pull() error {
	need := slices.DeleteFunc(ss.need, ss.s.rejected.has) // known to be invalid: not again
	for len(need) > 0 {
		if !ss.roundsLeft() {
			return nil
		}
		batch := need[:min(len(need), syncMaxGetIDs)]
		resp, err := ss.exchange(&syncMsg{Type: msgGet, IDs: batch}, msgItems)
		if err != nil {
			return err
		}
		if len(resp.Items) == 0 || len(resp.Items) > len(batch) {
			return fmt.Errorf("%w: %d items for %d ids", ErrSyncProtocol, len(resp.Items), len(batch))
		}
		for i, raw := range resp.Items {
			if raw == nil {
				continue // the peer no longer has it
			}
			if itemID(raw) != batch[i] {
				return fmt.Errorf("%w: item does not match the id %x asked", ErrSyncProtocol, batch[i][:8])
			}
			if _, err := ss.receive(batch[i], raw); err != nil {
				return err
			}
		}
		need = need[len(resp.Items):]
	}
	return nil
}

// push sends the peer the items in have, as many per message as fit.
func (ss *syncSession) push() error {
	have := ss.have
	for len(have) > 0 {
		if !ss.roundsLeft() {
			return nil
		}
		var items [][]byte
		size, used := syncHeader, 0
		for used < len(have) && len(items) < syncMaxFrameItems {
			raw, err := ss.get(have[used])
			if err != nil {
				return err
			}
			if raw == nil {
				used++
				continue
			}
			if size+itemEntrySize(raw) > syncMaxFrame {
				break
			}
			items = append(items, raw)
			size += itemEntrySize(raw)
			used++
		}
		have = have[used:]
		if len(items) == 0 {
			continue
		}
		resp, err := ss.exchange(&syncMsg{Type: msgPush, Items: items}, msgAck)
		if err != nil {
			return err
		}
		if resp.Accepted+resp.Rejected > uint64(len(items)) {
			return fmt.Errorf("%w: ack of %d+%d items for %d pushed", ErrSyncProtocol, resp.Accepted, resp.Rejected, len(items))
		}
		ss.res.SentItems += len(items)
	}
	return nil
}
