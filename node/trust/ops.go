package trust

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Request asks p for mutual trust, with a justification of at most
// MaxMessageLen bytes of UTF-8 text shown to p's operator. The record
// becomes outgoing-pending; if p has already asked us (incoming-pending),
// the requests are mutual: p becomes trusted and we send an approve
// instead. Request returns once the change is stored and the message was
// delivered or queued: it tries once, within AttemptTimeout, and otherwise
// leaves the message to the outbox. Errors: ErrSelf, ErrInvalidPeer,
// ErrMessageTooLong, ErrInvalidMessage, ErrAlreadyTrusted, ErrNotRunning.
func (m *Manager) Request(ctx context.Context, p peer.ID, message string) (Record, error) {
	if err := checkMessage(message); err != nil {
		return Record{}, fmt.Errorf("trust: request %s: %w", p, err)
	}
	return m.local(ctx, "request", p, func(rec *storedRecord, found bool) (Kind, string, error) {
		switch rec.State {
		case StateTrusted:
			return 0, "", ErrAlreadyTrusted
		case StateIncomingPending: // they asked first: mutual
			rec.State = StateTrusted
			return KindApprove, EventTrusted, nil
		}
		rec.State, rec.Message = StateOutgoingPending, message
		return KindRequest, EventRequestSent, nil
	})
}

// Approve accepts p's pending request: p becomes trusted and is sent an
// approve. Errors: ErrNotPending (no incoming request), ErrAlreadyTrusted.
func (m *Manager) Approve(ctx context.Context, p peer.ID) (Record, error) {
	return m.local(ctx, "approve", p, func(rec *storedRecord, found bool) (Kind, string, error) {
		switch rec.State {
		case StateIncomingPending:
			rec.State = StateTrusted
			return KindApprove, EventTrusted, nil
		case StateTrusted:
			return 0, "", ErrAlreadyTrusted
		}
		return 0, "", fmt.Errorf("%w (state %s)", ErrNotPending, rec.State)
	})
}

// Reject declines p's pending request: the record becomes rejected, p is
// sent a reject, and p's further requests are ignored for RejectCooldown.
// Errors: ErrNotPending.
func (m *Manager) Reject(ctx context.Context, p peer.ID) (Record, error) {
	return m.local(ctx, "reject", p, func(rec *storedRecord, found bool) (Kind, string, error) {
		if rec.State != StateIncomingPending {
			return 0, "", fmt.Errorf("%w (state %s)", ErrNotPending, rec.State)
		}
		rec.State = StateRejected
		return KindReject, EventRejected, nil
	})
}

// Revoke ends trust with p, or withdraws or declines a pending request: the
// record becomes revoked at once (IsTrusted is false before Revoke returns)
// and p is sent a revoke. Revoking a revoked peer changes nothing and sends
// nothing. Errors: ErrNotFound (no record), ErrInvalidState (rejected).
func (m *Manager) Revoke(ctx context.Context, p peer.ID) (Record, error) {
	return m.local(ctx, "revoke", p, func(rec *storedRecord, found bool) (Kind, string, error) {
		switch rec.State {
		case StateTrusted, StateIncomingPending, StateOutgoingPending:
			rec.State = StateRevoked
			return KindRevoke, EventRevoked, nil
		case StateRevoked:
			return 0, "", nil
		case StateNone:
			return 0, "", ErrNotFound
		}
		return 0, "", fmt.Errorf("%w: cannot revoke a %s peer", ErrInvalidState, rec.State)
	})
}

// checkPeer accepts a valid peer ID other than ours with an inline Ed25519
// key (the only kind that can sign trust frames).
func (m *Manager) checkPeer(p peer.ID) error {
	if p == m.self {
		return ErrSelf
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPeer, err)
	}
	pub, err := p.ExtractPublicKey()
	if err != nil || pub.Type() != pb.KeyType_Ed25519 {
		return fmt.Errorf("%w: not an Ed25519 peer ID", ErrInvalidPeer)
	}
	return nil
}

// localOp changes rec (whose State is StateNone when found is false) and
// returns the message to send (0: none; then nothing is stored either) and
// the event to emit.
type localOp func(rec *storedRecord, found bool) (send Kind, event string, err error)

// local runs an operator transition: store the record and the outgoing
// message in one transaction, then try to deliver once.
func (m *Manager) local(ctx context.Context, name string, p peer.ID, op localOp) (Record, error) {
	if err := m.checkPeer(p); err != nil {
		return Record{}, fmt.Errorf("trust: %s %s: %w", name, p, err)
	}
	if !m.enter() {
		return Record{}, fmt.Errorf("trust: %s %s: %w", name, p, ErrNotRunning)
	}
	defer m.leave()
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("trust: %s %s: %w", name, p, err)
	}
	rec, send, err := m.commitLocal(p, op)
	if err != nil {
		return Record{}, fmt.Errorf("trust: %s %s: %w", name, p, err)
	}
	if send != 0 {
		m.sendNow(ctx, p)
	}
	return rec.record(), nil
}

func (m *Manager) commitLocal(p peer.ID, op localOp) (storedRecord, Kind, error) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	now := m.cfg.Now()
	var (
		rec   storedRecord
		old   State
		send  Kind
		event string
	)
	err := m.cfg.DB.Update(func(txn *badger.Txn) error {
		cur, found, err := getRecord(txn, p)
		if err != nil {
			return err
		}
		if !found {
			cur = storedRecord{id: p, State: StateNone, Created: now.UnixMilli()}
		}
		old = cur.State
		if send, event, err = op(&cur, found); err != nil || send == 0 {
			rec = cur
			return err
		}
		cur.Direction, cur.Updated = DirectionOutgoing, now.UnixMilli()
		rec = cur
		if old == StateTrusted && cur.State != StateTrusted {
			m.setTrusted(p, false) // revocation takes effect before the write
		}
		if err := putRecord(txn, cur); err != nil {
			return err
		}
		msg := ""
		if send == KindRequest {
			msg = cur.Message
		}
		return m.queue(txn, p, send, msg, now)
	})
	if err != nil {
		return storedRecord{}, 0, err
	}
	if send != 0 {
		m.track(p, old, rec.State)
		m.count("outbox_queued")
		m.emit(Event{Kind: event, Peer: p, Message: rec.Message, At: now, Direction: DirectionOutgoing})
		log.Infow("trust "+event, "peer", p, "state", rec.State)
	}
	return rec, send, nil
}

// queue writes (or replaces) p's outbox entry with a message due now.
// Callers hold stateMu.
func (m *Manager) queue(txn *badger.Txn, p peer.ID, k Kind, msg string, now time.Time) error {
	return putOutbox(txn, storedOutbox{
		id:      p,
		kind:    k,
		Message: msg,
		Gen:     m.gen.Add(1),
		Created: now.UnixMilli(),
		Next:    now.UnixMilli(),
	})
}
