package trust

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// Badger layout; every key of this package starts with keyPrefix.
//
//	/trust/rec/<peer ID>  trust record (JSON, storedRecord)
//	/trust/out/<peer ID>  outbox entry (JSON, storedOutbox), at most one per peer
//	/trust/seq            our last sequence number (8 bytes, big-endian)
const (
	keyPrefix    = "/trust/"
	recPrefix    = keyPrefix + "rec/"
	outPrefix    = keyPrefix + "out/"
	seqKey       = keyPrefix + "seq"
	storeVersion = 1
)

func recKey(p peer.ID) []byte { return []byte(recPrefix + p.String()) }
func outKey(p peer.ID) []byte { return []byte(outPrefix + p.String()) }

// storedRecord is a Record on disk, plus the replay watermark.
type storedRecord struct {
	V         int    `json:"v"`
	Peer      string `json:"peer"`
	State     State  `json:"state"`
	Message   string `json:"msg,omitempty"`
	Created   int64  `json:"created"` // unix ms
	Updated   int64  `json:"updated"` // unix ms
	Direction string `json:"dir,omitempty"`
	// RecvSeq is the highest sequence number accepted from the peer: a
	// frame at or below it is a replay.
	RecvSeq uint64 `json:"rseq,omitempty"`

	id peer.ID
}

// storedOutbox is a message waiting for delivery. The frame is signed at
// each attempt (fresh issue time and sequence number); Gen changes every
// time the entry is replaced, so a finished attempt does not delete a newer
// message.
type storedOutbox struct {
	V        int    `json:"v"`
	Peer     string `json:"peer"`
	Kind     string `json:"kind"`
	Message  string `json:"msg,omitempty"`
	Gen      uint64 `json:"gen"`
	Created  int64  `json:"created"`
	Attempts int    `json:"attempts"`
	Next     int64  `json:"next"` // unix ms of the next attempt
	LastErr  string `json:"err,omitempty"`

	id   peer.ID
	kind Kind
}

func validState(s State) bool {
	switch s {
	case StateOutgoingPending, StateIncomingPending, StateTrusted, StateRejected, StateRevoked:
		return true
	}
	return false
}

// decodeRecord parses and validates a stored record.
func decodeRecord(b []byte) (storedRecord, error) {
	var r storedRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("trust: decode record: %w", err)
	}
	if r.V != storeVersion {
		return r, fmt.Errorf("trust: decode record: version %d", r.V)
	}
	id, err := peer.Decode(r.Peer)
	if err != nil {
		return r, fmt.Errorf("trust: decode record: peer: %w", err)
	}
	if !validState(r.State) {
		return r, fmt.Errorf("trust: decode record: state %q", r.State)
	}
	if r.Direction != DirectionIncoming && r.Direction != DirectionOutgoing {
		return r, fmt.Errorf("trust: decode record: direction %q", r.Direction)
	}
	if err := checkMessage(r.Message); err != nil {
		return r, fmt.Errorf("trust: decode record: %w", err)
	}
	r.id = id
	return r, nil
}

// decodeOutbox parses and validates a stored outbox entry.
func decodeOutbox(b []byte) (storedOutbox, error) {
	var e storedOutbox
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("trust: decode outbox: %w", err)
	}
	if e.V != storeVersion {
		return e, fmt.Errorf("trust: decode outbox: version %d", e.V)
	}
	id, err := peer.Decode(e.Peer)
	if err != nil {
		return e, fmt.Errorf("trust: decode outbox: peer: %w", err)
	}
	k, ok := parseKind(e.Kind)
	if !ok {
		return e, fmt.Errorf("trust: decode outbox: kind %q", e.Kind)
	}
	if err := checkMessage(e.Message); err != nil {
		return e, fmt.Errorf("trust: decode outbox: %w", err)
	}
	if k != KindRequest && e.Message != "" {
		return e, fmt.Errorf("trust: decode outbox: message on a %s", k)
	}
	if e.Attempts < 0 {
		return e, fmt.Errorf("trust: decode outbox: %d attempts", e.Attempts)
	}
	e.id, e.kind = id, k
	return e, nil
}

func (r storedRecord) record() Record {
	addr, _ := addressing.FromPeerID(r.id) // zero for keys that are not inline
	return Record{
		PeerID:    r.id,
		Addr:      addr,
		State:     r.State,
		Message:   r.Message,
		Created:   time.UnixMilli(r.Created),
		Updated:   time.UnixMilli(r.Updated),
		Direction: r.Direction,
	}
}

func (e storedOutbox) entry() OutboxEntry {
	return OutboxEntry{
		Peer:     e.id,
		Kind:     e.Kind,
		Created:  time.UnixMilli(e.Created),
		Attempts: e.Attempts,
		NextTry:  time.UnixMilli(e.Next),
		LastErr:  e.LastErr,
	}
}

// getRecord reads p's record; found is false when there is none.
func getRecord(txn *badger.Txn, p peer.ID) (r storedRecord, found bool, err error) {
	item, err := txn.Get(recKey(p))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return storedRecord{}, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("trust: read record %s: %w", p, err)
	}
	err = item.Value(func(v []byte) error {
		r, err = decodeRecord(v)
		return err
	})
	if err == nil && r.id != p {
		err = fmt.Errorf("trust: record under %s belongs to %s", p, r.id)
	}
	return r, err == nil, err
}

func putRecord(txn *badger.Txn, r storedRecord) error {
	r.V, r.Peer = storeVersion, r.id.String()
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("trust: encode record %s: %w", r.id, err)
	}
	if err := txn.Set(recKey(r.id), b); err != nil {
		return fmt.Errorf("trust: write record %s: %w", r.id, err)
	}
	return nil
}

// getOutbox reads p's outbox entry; found is false when there is none.
func getOutbox(txn *badger.Txn, p peer.ID) (e storedOutbox, found bool, err error) {
	item, err := txn.Get(outKey(p))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return storedOutbox{}, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("trust: read outbox %s: %w", p, err)
	}
	err = item.Value(func(v []byte) error {
		e, err = decodeOutbox(v)
		return err
	})
	if err == nil && e.id != p {
		err = fmt.Errorf("trust: outbox entry under %s belongs to %s", p, e.id)
	}
	return e, err == nil, err
}

func putOutbox(txn *badger.Txn, e storedOutbox) error {
	e.V, e.Peer, e.Kind = storeVersion, e.id.String(), e.kind.String()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("trust: encode outbox %s: %w", e.id, err)
	}
	if err := txn.Set(outKey(e.id), b); err != nil {
		return fmt.Errorf("trust: write outbox %s: %w", e.id, err)
	}
	return nil
}

func deleteOutbox(txn *badger.Txn, p peer.ID) error {
	if err := txn.Delete(outKey(p)); err != nil {
		return fmt.Errorf("trust: delete outbox %s: %w", p, err)
	}
	return nil
}

// scan calls fn with every value under prefix. A value that fails to
// decode is reported through bad (and skipped) rather than failing the scan:
// one corrupt entry must not hide the others.
func scan(db *badger.DB, prefix string, fn func(v []byte) error, bad func(key []byte, err error)) error {
	return db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := item.Value(fn); err != nil {
				bad(item.KeyCopy(nil), err)
			}
		}
		return nil
	})
}

func loadSeq(db *badger.DB) (uint64, error) {
	var seq uint64
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(seqKey))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("sequence of %d bytes", len(v))
			}
			seq = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("trust: load sequence: %w", err)
	}
	return seq, nil
}

func saveSeq(db *badger.DB, seq uint64) error {
	err := db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(seqKey), binary.BigEndian.AppendUint64(nil, seq))
	})
	if err != nil {
		return fmt.Errorf("trust: save sequence: %w", err)
	}
	return nil
}
