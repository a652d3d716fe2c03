package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Every outgoing message goes through the outbox: it is stored together
// with the state change that caused it, then delivered by whoever claims the
// peer first (the operator call that queued it, or the retrier). At most one
// delivery per peer runs at a time, so a peer sees our messages in order.
// A delivered message is deleted unless a newer one replaced it meanwhile.

// queuedPeers lists the peers with an outbox entry.
func (m *Manager) queuedPeers() map[peer.ID]bool {
	queued := make(map[peer.ID]bool)
	if err := scan(m.cfg.DB, outPrefix, func(v []byte) error {
		e, err := decodeOutbox(v)
		if err == nil {
			queued[e.id] = true
		}
		return err
	}, m.corrupt); err != nil {
		log.Errorw("reading the trust outbox", "err", err)
	}
	return queued
}

// retrier delivers due outbox entries until the manager closes. The
// entries in forced (those queued before Start) are treated as due at once.
func (m *Manager) retrier(forced map[peer.ID]bool) {
	defer m.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := m.dispatchDue(forced)
		timer.Reset(wait)
		select {
		case <-m.ctx.Done():
			return
		case <-m.kick:
		case <-timer.C:
		}
	}
}

// dispatchDue starts a delivery for every due entry not already in flight,
// within MaxConcurrentSends, and returns how long to wait for the next one.
func (m *Manager) dispatchDue(forced map[peer.ID]bool) time.Duration {
	now := m.cfg.Now().UnixMilli()
	wait := m.cfg.RetryMax
	var due []peer.ID
	if err := scan(m.cfg.DB, outPrefix, func(v []byte) error {
		e, err := decodeOutbox(v)
		if err != nil {
			return err
		}
		if forced[e.id] || e.Next <= now {
			due = append(due, e.id)
		} else {
			wait = min(wait, time.Duration(e.Next-now)*time.Millisecond)
		}
		return nil
	}, m.corrupt); err != nil {
		log.Errorw("reading the trust outbox", "err", err)
	}
	for _, p := range due {
		if !m.claim(p) {
			continue // in flight; its end wakes us
		}
		select {
		case m.sendSem <- struct{}{}:
		default:
			m.unclaim(p) // all senders busy; a finishing one wakes us
			return wait
		}
		delete(forced, p)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer func() { <-m.sendSem }()
			m.deliver(m.ctx, p)
		}()
	}
	return wait
}

func (m *Manager) claim(p peer.ID) bool {
	_, ok := m.claimOrWait(p)
	return ok
}

// claimOrWait claims p, or returns the channel that closes when the
// delivery holding p ends.
func (m *Manager) claimOrWait(p peer.ID) (<-chan struct{}, bool) {
	m.inflightMu.Lock()
	defer m.inflightMu.Unlock()
	if done, busy := m.inflight[p]; busy {
		return done, false
	}
	m.inflight[p] = make(chan struct{})
	return nil, true
}

func (m *Manager) unclaim(p peer.ID) {
	m.inflightMu.Lock()
	if done, ok := m.inflight[p]; ok {
		close(done)
		delete(m.inflight, p)
	}
	m.inflightMu.Unlock()
}

// wake makes the retrier rescan the outbox.
func (m *Manager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// sendNow tries to deliver p's queued message from the caller's goroutine;
// if a delivery to p is already running, the retrier follows up instead.
//
// When the retrier is already delivering to p (it may have picked up the
// entry the caller just queued), sendNow waits for that attempt, bounded
// by ctx and AttemptTimeout, so the caller's "delivered or queued" holds
// either way.
func (m *Manager) sendNow(ctx context.Context, p peer.ID) {
	if ctx.Err() != nil {
		m.wake()
		return
	}
	done, ok := m.claimOrWait(p)
	if !ok {
		t := time.NewTimer(m.cfg.AttemptTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-ctx.Done():
		case <-t.C:
		}
		m.wake()
		return
	}
	m.deliver(ctx, p)
}

// deliver makes one attempt at p's outbox entry (p must be claimed) and
// records the outcome, then releases p.
func (m *Manager) deliver(ctx context.Context, p peer.ID) {
	defer m.wake()
	defer m.unclaim(p)
	var e storedOutbox
	var found bool
	err := m.cfg.DB.View(func(txn *badger.Txn) (err error) {
		e, found, err = getOutbox(txn, p)
		return err
	})
	if err != nil {
		// Unreadable: drop it, or the retrier would pick it up forever.
		m.corrupt(outKey(p), err)
		m.count("outbox_dropped")
		m.stateMu.Lock()
		defer m.stateMu.Unlock()
		if err := m.cfg.DB.Update(func(txn *badger.Txn) error { return deleteOutbox(txn, p) }); err != nil {
			log.Errorw("dropping an unreadable trust outbox entry", "peer", p, "err", err)
		}
		return
	}
	if !found {
		return
	}
	code, sendErr := m.attempt(ctx, p, e)
	delivered, permanent := false, false
	switch {
	case sendErr != nil:
		m.count("send_failed")
		log.Debugw("trust message not delivered; will retry", "peer", p, "kind", e.kind, "attempt", e.Attempts+1, "err", sendErr)
	case code == ackOK:
		m.count("sent")
		delivered = true
	default:
		m.count("send_refused")
		permanent = !ackRetryable(code)
		sendErr = fmt.Errorf("refused by peer: %s", ackName(code))
		log.Warnw("trust message refused", "peer", p, "kind", e.kind, "reason", ackName(code), "final", permanent)
	}
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	err = m.cfg.DB.Update(func(txn *badger.Txn) error {
		cur, found, err := getOutbox(txn, p)
		if err != nil || !found || cur.Gen != e.Gen {
			return err // superseded: the newer entry is due now
		}
		if delivered || permanent {
			if permanent {
				m.count("outbox_dropped")
			}
			return deleteOutbox(txn, p)
		}
		cur.Attempts++
		cur.Next = m.cfg.Now().Add(backoff(cur.Attempts, m.cfg.RetryInitial, m.cfg.RetryMax)).UnixMilli()
		cur.LastErr = truncate(sendErr.Error(), 200)
		return putOutbox(txn, cur)
	})
	if err != nil {
		log.Errorw("updating the trust outbox", "peer", p, "err", err)
	}
}

// attempt signs e with a fresh issue time and sequence number, sends it to p
// and reads the ack. err is set when no ack arrived.
func (m *Manager) attempt(ctx context.Context, p peer.ID, e storedOutbox) (byte, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.AttemptTimeout)
	defer cancel()
	stop := context.AfterFunc(m.ctx, cancel) // Close cancels every attempt
	defer stop()
	if m.cfg.Dial != nil && m.cfg.Host.Network().Connectedness(p) != network.Connected {
		if err := m.cfg.Dial(ctx, p); err != nil {
			log.Debugw("trust: dial hook failed", "peer", p, "err", err)
		}
	}
	seq, err := m.nextSeq()
	if err != nil {
		return 0, err
	}
	f := frame{Kind: e.kind, From: m.self, To: p, IssuedAt: m.cfg.Now().UnixMilli(), Seq: seq, Message: e.Message}
	body, err := f.sign(m.key)
	if err != nil {
		return 0, err
	}
	s, err := m.cfg.Host.NewStream(network.WithAllowLimitedConn(ctx, "pilot-trust"), p, ProtocolID)
	if err != nil {
		return 0, fmt.Errorf("open stream: %w", err)
	}
	stopStream := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stopStream()
	_ = s.Scope().SetService(ServiceName)
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	if err := writeFrame(s, body); err != nil {
		_ = s.Reset()
		return 0, fmt.Errorf("write: %w", err)
	}
	_ = s.CloseWrite()
	var ack [1]byte
	if _, err := io.ReadFull(s, ack[:]); err != nil {
		_ = s.Reset()
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(err, ctxErr)
		}
		return 0, fmt.Errorf("read ack: %w", err)
	}
	_ = s.Close()
	return ack[0], nil
}

// backoff is the wait after the n-th failed attempt: initial doubled n-1
// times, capped at max, then drawn uniformly from [d/2, d].
func backoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(d-half+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
