package trust

import (
	"context"
	"errors"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// handleStream serves one inbound frame: read, validate, apply, answer with
// one ack byte. Any failure is confined to this stream.
func (m *Manager) handleStream(s network.Stream) {
	if !m.enter() {
		_ = s.Reset()
		return
	}
	defer m.leave()
	select {
	case m.inboundSem <- struct{}{}:
		defer func() { <-m.inboundSem }()
	default:
		m.count("rejected_busy")
		_ = s.Reset()
		return
	}
	stop := context.AfterFunc(m.ctx, func() { _ = s.Reset() })
	defer stop()
	_ = s.Scope().SetService(ServiceName)
	_ = s.SetDeadline(time.Now().Add(m.cfg.StreamTimeout))

	m.count("frames_received")
	var code byte
	body, err := readFrame(s)
	if err != nil {
		code = m.refuseDecode(err)
	} else {
		code = m.receive(s.Conn().RemotePeer(), body)
	}
	if _, err := s.Write([]byte{code}); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

func (m *Manager) refuseDecode(err error) byte {
	switch {
	case errors.Is(err, errVersion):
		m.count("rejected_version")
		return ackVersion
	case errors.Is(err, errTooLarge):
		m.count("rejected_oversized")
		return ackMalformed
	}
	m.count("rejected_malformed")
	return ackMalformed
}

// receive validates body, a frame read from a stream of remote, cheapest
// checks first, and applies it. Nothing is stored for a refused frame.
func (m *Manager) receive(remote peer.ID, body []byte) byte {
	f, err := decodeFrame(body)
	if err != nil {
		return m.refuseDecode(err)
	}
	if f.To != m.self {
		m.count("rejected_wrong_to")
		return ackWrongPeer
	}
	if f.From != remote {
		m.count("rejected_wrong_from")
		return ackWrongPeer
	}
	now := m.cfg.Now()
	issued := time.UnixMilli(f.IssuedAt)
	if issued.Before(now.Add(-m.cfg.MaxAge)) {
		m.count("rejected_expired")
		return ackStale
	}
	if issued.After(now.Add(m.cfg.MaxFuture)) {
		m.count("rejected_future")
		return ackStale
	}
	// The stream's peer is authenticated by the transport, so a peer can
	// only use up its own quota, before any signature is checked.
	if !m.limiter.allow(remote, f.Kind == KindRequest, now) {
		m.count("rejected_rate_limited")
		return ackRateLimited
	}
	if err := f.verify(); err != nil {
		if errors.Is(err, errBadKey) {
			m.count("rejected_bad_key")
		} else {
			m.count("rejected_bad_signature")
		}
		return ackBadSig
	}
	return m.apply(f, now)
}

// inboundResult is what a verified frame does to a record.
type inboundResult struct {
	rec     *storedRecord // record to write; nil: store nothing
	reply   Kind          // our answer to queue; 0: none
	dropOut bool          // our queued message to the peer is moot: delete it
	event   string        // event to emit; "": none
	ignored string        // stat counted when the frame changes nothing
}

// inbound is the state machine for a verified, fresh, non-replayed frame f
// from the peer of rec (found is false when there is no record yet).
func inbound(rec storedRecord, found bool, f *frame, now time.Time, cooldown time.Duration) inboundResult {
	state := StateNone
	if found {
		state = rec.State
	} else {
		rec = storedRecord{id: f.From, Created: now.UnixMilli()}
	}
	rec.RecvSeq = f.Seq
	touched := func() inboundResult { // nothing changes but the replay watermark
		if !found {
			return inboundResult{}
		}
		return inboundResult{rec: &rec}
	}
	move := func(s State) {
		rec.State, rec.Direction, rec.Updated = s, DirectionIncoming, now.UnixMilli()
	}
	switch f.Kind {
	case KindRequest:
		switch state {
		case StateOutgoingPending: // crossing requests: mutual, auto-approve
			move(StateTrusted)
			rec.Message = f.Message
			return inboundResult{rec: &rec, reply: KindApprove, event: EventTrusted}
		case StateTrusted: // idempotent: tell them again
			return inboundResult{rec: &rec, reply: KindApprove}
		case StateIncomingPending: // a retry or a new justification
			if rec.Message == f.Message {
				return touched()
			}
			rec.Message, rec.Updated = f.Message, now.UnixMilli()
			return inboundResult{rec: &rec, event: EventRequestReceived}
		case StateRejected:
			if rec.Direction == DirectionOutgoing && now.Sub(time.UnixMilli(rec.Updated)) < cooldown {
				r := touched()
				r.ignored = "ignored_request_rejected"
				return r
			}
		}
		move(StateIncomingPending)
		rec.Message = f.Message
		return inboundResult{rec: &rec, event: EventRequestReceived}
	case KindApprove:
		switch state {
		case StateOutgoingPending:
			move(StateTrusted)
			return inboundResult{rec: &rec, dropOut: true, event: EventTrusted}
		case StateTrusted:
			return touched()
		}
		r := touched()
		r.ignored = "ignored_unsolicited_approve"
		return r
	case KindReject:
		if state == StateOutgoingPending {
			move(StateRejected)
			return inboundResult{rec: &rec, dropOut: true, event: EventRejected}
		}
		r := touched()
		r.ignored = "ignored_reject"
		return r
	case KindRevoke:
		switch state {
		case StateTrusted, StateOutgoingPending, StateIncomingPending:
			move(StateRevoked)
			return inboundResult{rec: &rec, dropOut: true, event: EventRevoked}
		}
		r := touched()
		r.ignored = "ignored_revoke"
		return r
	}
	return inboundResult{}
}

// apply runs the state machine for a verified frame and stores the result
// (record, replay watermark and any reply) in one transaction.
func (m *Manager) apply(f *frame, now time.Time) byte {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	var (
		code  = ackOK
		old   State
		res   inboundResult
		stats string
	)
	err := m.cfg.DB.Update(func(txn *badger.Txn) error {
		rec, found, err := getRecord(txn, f.From)
		if err != nil {
			return err
		}
		old = StateNone
		if found {
			old = rec.State
		}
		if found && f.Seq <= rec.RecvSeq {
			code, stats = ackReplay, "rejected_replay"
			return nil
		}
		res = inbound(rec, found, f, now, m.cfg.RejectCooldown)
		if res.rec != nil && res.rec.State == StateIncomingPending && old != StateIncomingPending &&
			m.incoming >= m.cfg.MaxIncomingPending {
			code, stats = ackBusy, "rejected_pending_full"
			return nil
		}
		if res.rec != nil {
			if old == StateTrusted && res.rec.State != StateTrusted {
				m.setTrusted(f.From, false) // revocation takes effect before the write
			}
			if err := putRecord(txn, *res.rec); err != nil {
				return err
			}
		}
		if res.reply != 0 {
			return m.queue(txn, f.From, res.reply, "", now)
		}
		if res.dropOut {
			return deleteOutbox(txn, f.From)
		}
		return nil
	})
	if err != nil {
		m.count("rejected_internal")
		log.Errorw("storing inbound trust frame", "peer", f.From, "kind", f.Kind, "err", err)
		return ackBusy
	}
	if code != ackOK {
		m.count(stats)
		return code
	}
	m.count("frames_accepted")
	if res.ignored != "" {
		m.count(res.ignored)
	}
	if res.rec != nil {
		m.track(f.From, old, res.rec.State)
	}
	if res.event != "" {
		m.emit(Event{Kind: res.event, Peer: f.From, Message: f.Message, At: now, Direction: DirectionIncoming})
	}
	if res.reply != 0 {
		m.wake()
	}
	log.Debugw("trust frame accepted", "peer", f.From, "kind", f.Kind, "from", old, "ignored", res.ignored)
	return ackOK
}

// track updates the in-memory trusted set and pending count after a
// committed transition from old to cur. Callers hold stateMu.
func (m *Manager) track(p peer.ID, old, cur State) {
	if old == StateIncomingPending && cur != StateIncomingPending {
		m.incoming--
	}
	if cur == StateIncomingPending && old != StateIncomingPending {
		m.incoming++
	}
	if cur == StateTrusted {
		m.setTrusted(p, true)
	} else if old == StateTrusted {
		m.setTrusted(p, false)
	}
}
