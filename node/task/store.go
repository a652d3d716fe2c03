package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/internal/kvbatch"
	"github.com/pilot-agents/pilot/node/logkey"
)

// Badger layout. Every key of the service starts with "/task/":
//
//	/task/t/<id>              record (JSON, no bodies), the commit point
//	/task/b/<id>/i/<4 hex>    chunks of the input
//	/task/b/<id>/r/<4 hex>    chunks of the result
//
// Bodies are chunked to stay under the value and batch limits of small
// Badger setups (an in-memory node allows values of ~150 KiB). Chunks are
// written before the record that counts them; New sweeps chunks no record
// claims.
const (
	keyPrefix    = "/task/"
	recordPrefix = "/task/t/"
	blobPrefix   = "/task/b/"
	kindInput    = 'i'
	kindResult   = 'r'
	maxChunk     = 128 << 10
	minChunk     = 4 << 10
	recordV      = 1
)

func recordKey(id string) []byte { return []byte(recordPrefix + id) }

func blobKeyPrefix(id string, kind byte) []byte {
	return fmt.Appendf(nil, "%s%s/%c/", blobPrefix, id, kind)
}

func chunkKey(id string, kind byte, i int) []byte {
	return fmt.Appendf(nil, "%s%s/%c/%04x", blobPrefix, id, kind, i)
}

// entry is a stored task with the service's bookkeeping.
type entry struct {
	Task                // Input and Result are set only when loaded with bodies
	inputLen, resultLen int
	startedMs           int64  // worker: when execution began, for the cost
	seq                 uint64 // bumped by every write: the notifier's version
	notify              bool   // the peer has yet to learn of the current state
	notifyTries         int    // failed deliveries of the current state
}

// record is the stored form of an entry.
type record struct {
	V           int    `json:"v"`
	ID          string `json:"id"`
	Requester   string `json:"requester"`
	Worker      string `json:"worker"`
	Type        string `json:"type"`
	InputLen    int    `json:"input_len"`
	ResultLen   int    `json:"result_len,omitempty"`
	Error       string `json:"error,omitempty"`
	State       State  `json:"state"`
	Role        Role   `json:"role"`
	SubmittedMs int64  `json:"submitted_ms"`
	UpdatedMs   int64  `json:"updated_ms"`
	DeadlineMs  int64  `json:"deadline_ms"`
	Receipt     []byte `json:"receipt,omitempty"`
	StartedMs   int64  `json:"started_ms,omitempty"`
	Seq         uint64 `json:"seq"`
	Notify      bool   `json:"notify,omitempty"`
	NotifyTries int    `json:"notify_tries,omitempty"`
}

func encodeRecord(e entry) ([]byte, error) {
	return json.Marshal(record{V: recordV, ID: e.ID, Requester: e.Requester.String(), Worker: e.Worker.String(),
		Type: e.Type, InputLen: e.inputLen, ResultLen: e.resultLen, Error: e.Error, State: e.State, Role: e.Role,
		SubmittedMs: ms(e.SubmittedAt), UpdatedMs: ms(e.UpdatedAt), DeadlineMs: ms(e.Deadline), Receipt: e.Receipt,
		StartedMs: e.startedMs, Seq: e.seq, Notify: e.notify, NotifyTries: e.notifyTries})
}

// decodeRecord parses a stored record and checks that this package could
// have written it.
func decodeRecord(b []byte) (entry, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return entry{}, fmt.Errorf("decode task record: %w", err)
	}
	if err := r.check(); err != nil {
		return entry{}, fmt.Errorf("task record %q: %w", r.ID, err)
	}
	e := entry{Task: Task{ID: r.ID, Type: r.Type, Error: r.Error, State: r.State, Role: r.Role,
		SubmittedAt: fromMs(r.SubmittedMs), UpdatedAt: fromMs(r.UpdatedMs), Deadline: fromMs(r.DeadlineMs)},
		inputLen: r.InputLen, resultLen: r.ResultLen, startedMs: r.StartedMs, seq: r.Seq,
		notify: r.Notify, notifyTries: r.NotifyTries}
	if len(r.Receipt) > 0 {
		e.Receipt = r.Receipt
	}
	var err error
	if e.Requester, err = peer.Decode(r.Requester); err != nil {
		return entry{}, fmt.Errorf("task record %s: requester: %w", r.ID, err)
	}
	if e.Worker, err = peer.Decode(r.Worker); err != nil {
		return entry{}, fmt.Errorf("task record %s: worker: %w", r.ID, err)
	}
	if err := checkPeers(e.Requester, e.Worker); err != nil {
		return entry{}, fmt.Errorf("task record %s: %w", r.ID, err)
	}
	return e, nil
}

func (r record) check() error {
	finished := r.State == StateSucceeded || r.State == StateFailed
	switch {
	case r.V != recordV:
		return fmt.Errorf("unknown record version %d", r.V)
	case !validID(r.ID):
		return errors.New("bad id")
	case !r.State.Valid():
		return fmt.Errorf("unknown state %q", r.State)
	case !r.Role.valid():
		return fmt.Errorf("unknown role %q", r.Role)
	case r.InputLen < 1 || r.InputLen > MaxInput:
		return fmt.Errorf("input length %d out of range", r.InputLen)
	case r.ResultLen < 0 || r.ResultLen > MaxResult:
		return fmt.Errorf("result length %d out of range", r.ResultLen)
	case r.ResultLen > 0 && !finished:
		return fmt.Errorf("a result with state %s", r.State)
	case len(r.Receipt) > MaxReceipt:
		return fmt.Errorf("receipt of %d bytes", len(r.Receipt))
	case r.UpdatedMs <= 0 || r.UpdatedMs > maxMs || r.StartedMs < 0 || r.StartedMs > maxMs:
		return errors.New("time out of range")
	case r.NotifyTries < 0:
		return errors.New("negative notify tries")
	}
	if err := CheckType(r.Type); err != nil {
		return err
	}
	if err := checkText("error text", r.Error, MaxErrorLen); err != nil {
		return err
	}
	return checkTimes(r.SubmittedMs, r.DeadlineMs)
}

// getEntry reads and decodes the record of id in txn.
func getEntry(txn *badger.Txn, id string) (entry, error) {
	item, err := txn.Get(recordKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return entry{}, ErrNotFound
	}
	if err != nil {
		return entry{}, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return entry{}, err
	}
	e, err := decodeRecord(v)
	if err == nil && e.ID != id {
		err = fmt.Errorf("task record under %s is %s's", id, e.ID)
	}
	return e, err
}

// readBlob reads the chunks of one body and checks they hold size bytes
// of valid JSON.
func readBlob(txn *badger.Txn, id string, kind byte, size int) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	body := make([]byte, 0, size)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: blobKeyPrefix(id, kind), PrefetchValues: true, PrefetchSize: 8})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		err := it.Item().Value(func(v []byte) error {
			if len(body)+len(v) > size {
				return errors.New("body longer than its record says")
			}
			body = append(body, v...)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %c body of %s: %w", kind, id, err)
		}
	}
	if len(body) != size {
		return nil, fmt.Errorf("read %c body of %s: %d bytes stored, record says %d", kind, id, len(body), size)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("read %c body of %s: not valid JSON", kind, id)
	}
	return body, nil
}

// loadBodies fills e's Input and Result in txn.
func loadBodies(txn *badger.Txn, e *entry) error {
	var err error
	if e.Input, err = readBlob(txn, e.ID, kindInput, e.inputLen); err != nil {
		return err
	}
	e.Result, err = readBlob(txn, e.ID, kindResult, e.resultLen)
	return err
}

// load reads the task id, with its bodies if asked.
func (s *Service) load(id string, bodies bool) (entry, error) {
	if !validID(id) {
		return entry{}, ErrNotFound
	}
	var e entry
	err := s.cfg.DB.View(func(txn *badger.Txn) error {
		var err error
		if e, err = getEntry(txn, id); err != nil || !bodies {
			return err
		}
		return loadBodies(txn, &e)
	})
	return e, err
}

// put writes the bodies given (non-nil) in chunks, then e's record, the
// commit point. It runs under e's lock.
func (s *Service) put(e entry, input, result []byte) error {
	rec, err := encodeRecord(e)
	if err != nil {
		return fmt.Errorf("encode task record: %w", err)
	}
	b := kvbatch.New(s.cfg.DB)
	defer b.Discard()
	for _, body := range []struct {
		kind byte
		data []byte
	}{{kindInput, input}, {kindResult, result}} {
		for i, off := 0, 0; off < len(body.data); i++ {
			end := min(off+s.chunk, len(body.data))
			if err := b.Set(chunkKey(e.ID, body.kind, i), body.data[off:end]); err != nil {
				return fmt.Errorf("write task body: %w", err)
			}
			off = end
		}
	}
	if err := b.Set(recordKey(e.ID), rec); err != nil {
		return fmt.Errorf("write task record: %w", err)
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("write task record: %w", err)
	}
	return nil
}

// drop deletes the task id: the record first, then its chunks.
func (s *Service) drop(id string) error {
	if err := s.cfg.DB.Update(func(txn *badger.Txn) error { return txn.Delete(recordKey(id)) }); err != nil {
		return err
	}
	return s.dropKeys([]byte(blobPrefix + id + "/"))
}

// dropKeys deletes every key under prefix.
func (s *Service) dropKeys(prefix []byte) error {
	var keys [][]byte
	err := s.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	b := kvbatch.New(s.cfg.DB)
	defer b.Discard()
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return b.Commit()
}

// records calls fn for each readable record, in key order, until fn
// returns false. Unreadable records are passed to bad, if set, and skipped.
func (s *Service) records(fn func(e entry) bool, bad func(id string, err error)) error {
	return s.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recordPrefix), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := strings.TrimPrefix(string(it.Item().Key()), recordPrefix)
			var e entry
			err := it.Item().Value(func(v []byte) (err error) { e, err = decodeRecord(v); return err })
			if err == nil && e.ID != id {
				err = fmt.Errorf("record under %q is %s's", id, e.ID)
			}
			if err != nil {
				if bad != nil {
					bad(id, err)
				}
				continue
			}
			if !fn(e) {
				return nil
			}
		}
		return nil
	})
}

// scan reads every record when the service opens: it calls fn for each
// readable one, logs and counts the others, and deletes chunks that no
// record claims (left by a crash between a body and its record).
func (s *Service) scan(fn func(e entry)) error {
	lens := map[string][2]int{}
	err := s.records(func(e entry) bool {
		lens[e.ID] = [2]int{e.inputLen, e.resultLen}
		fn(e)
		return true
	}, func(id string, err error) {
		lens[id] = [2]int{-1, -1} // its chunks stay: the record may be repaired by hand
		s.stat(StatCorrupt)
		s.log.Warn("task: unreadable record", logkey.Key, id, logkey.Err, err)
	})
	if err != nil {
		return fmt.Errorf("task: scan store: %w", err)
	}
	var orphans [][]byte
	err = s.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(blobPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, kind, _ := strings.Cut(strings.TrimPrefix(string(it.Item().Key()), blobPrefix), "/")
			l, ok := lens[id]
			claimed := ok && (l[0] < 0 || (strings.HasPrefix(kind, "i/") && l[0] > 0) || (strings.HasPrefix(kind, "r/") && l[1] > 0))
			if !claimed {
				orphans = append(orphans, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("task: scan store: %w", err)
	}
	if len(orphans) == 0 {
		return nil
	}
	b := kvbatch.New(s.cfg.DB)
	defer b.Discard()
	for _, k := range orphans {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("task: sweep orphan chunks: %w", err)
		}
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("task: sweep orphan chunks: %w", err)
	}
	return nil
}

// chunkSize picks a chunk size that fits db's limits.
func chunkSize(db *badger.DB) int { return kvbatch.ChunkSize(db, maxChunk, minChunk) }
