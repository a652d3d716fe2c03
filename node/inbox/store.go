package inbox

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pilot-agents/pilot/internal/kvbatch"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// Badger layout. Every key of the inbox starts with "/inbox/":
//
//	/inbox/m/<id>             record (JSON metadata), the commit point
//	/inbox/b/<id>/<8 hex>     body chunks of a message stored in Badger
//
// IDs sort by time, so the records iterate oldest first.
const (
	metaPrefix = "/inbox/m/"
	bodyPrefix = "/inbox/b/"
	idLen      = 24
	// maxChunk bounds a body chunk. Chunks keep every value below the
	// batch and value-threshold limits of small (in-memory) Badger setups.
	maxChunk = 128 << 10
	minChunk = 4 << 10
	// tmpPrefix marks files being received in FilesDir.
	tmpPrefix = ".inbox-"
)

// record is the stored metadata of a message.
type record struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	FromAddr   string    `json:"from_addr,omitempty"`
	Kind       Kind      `json:"kind"`
	Name       string    `json:"name,omitempty"`
	Size       int64     `json:"size"`
	ReceivedAt time.Time `json:"received_at"`
	// File is the file's name in FilesDir ("<id>-<name>") when the body is
	// on disk; empty when the body is in Badger chunks.
	File string `json:"file,omitempty"`
}

func metaKey(id string) []byte { return []byte(metaPrefix + id) }

func bodyKey(id string, i int) []byte {
	return fmt.Appendf(nil, "%s%s/%08x", bodyPrefix, id, i)
}

// validID reports whether id has the form this package issues: 16 hex
// digits of Unix nanoseconds then 8 random hex digits, lower case.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newID returns a fresh ID for a message received at now, and the time the
// ID encodes: strictly after the previous one, so IDs never repeat their
// time part and sort in the order messages were stored.
func (in *Inbox) newID(now time.Time) (string, time.Time) {
	var r [4]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	in.mu.Lock()
	n := now.UnixNano()
	if n <= in.lastNanos {
		n = in.lastNanos + 1
	}
	in.lastNanos = n
	in.mu.Unlock()
	return fmt.Sprintf("%016x%08x", uint64(n), binary.BigEndian.Uint32(r[:])), time.Unix(0, n).UTC()
}

// decodeRecord parses a stored record and checks that it is one this
// package could have written.
func decodeRecord(b []byte) (record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("decode record: %w", err)
	}
	switch {
	case !validID(r.ID):
		return record{}, fmt.Errorf("record: bad id %q", r.ID)
	case r.Size < 0:
		return record{}, fmt.Errorf("record %s: negative size", r.ID)
	case r.File != "" && (r.Kind != KindFile || r.File != r.ID+"-"+r.Name):
		return record{}, fmt.Errorf("record %s: file %q does not match its name", r.ID, r.File)
	}
	if _, ok := r.Kind.code(); !ok {
		return record{}, fmt.Errorf("record %s: unknown kind %q", r.ID, r.Kind)
	}
	if err := checkName(r.Kind, r.Name); err != nil {
		return record{}, fmt.Errorf("record %s: %w", r.ID, err)
	}
	if _, err := peer.Decode(r.From); err != nil {
		return record{}, fmt.Errorf("record %s: from: %w", r.ID, err)
	}
	if r.FromAddr != "" {
		if _, err := addressing.Parse(r.FromAddr); err != nil {
			return record{}, fmt.Errorf("record %s: from_addr: %w", r.ID, err)
		}
	}
	return r, nil
}

// message converts a decoded record; the record was validated.
func (in *Inbox) message(r record) Message {
	m := Message{ID: r.ID, Kind: r.Kind, Name: r.Name, Size: r.Size, ReceivedAt: r.ReceivedAt}
	m.From, _ = peer.Decode(r.From)
	if r.FromAddr != "" {
		m.FromAddr, _ = addressing.Parse(r.FromAddr)
	}
	if r.File != "" {
		m.Path = filepath.Join(in.cfg.FilesDir, r.File)
	}
	return m
}

// chunkSize picks a chunk size that fits db's limits.
func chunkSize(db *badger.DB) int { return kvbatch.ChunkSize(db, maxChunk, minChunk) }

// put stores rec and, for a message kept in Badger, its body. The record
// is written last: a crash in between leaves only chunks, which New sweeps.
func (in *Inbox) put(rec record, body []byte) error {
	meta, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	b := kvbatch.New(in.cfg.DB)
	defer b.Discard()
	if rec.File == "" {
		for i, off := 0, 0; off < len(body); i++ {
			end := min(off+in.chunk, len(body))
			if err := b.Set(bodyKey(rec.ID, i), body[off:end]); err != nil {
				in.dropChunks(rec.ID)
				return fmt.Errorf("write body: %w", err)
			}
			off = end
		}
	}
	if err := b.Set(metaKey(rec.ID), meta); err == nil {
		err = b.Commit()
	}
	if err != nil {
		in.dropChunks(rec.ID)
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// chunkKeys lists the body keys of id.
func (in *Inbox) chunkKeys(id string) ([][]byte, error) {
	var keys [][]byte
	err := in.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(bodyPrefix + id + "/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	return keys, err
}

// dropChunks deletes the body chunks of id, best effort.
func (in *Inbox) dropChunks(id string) {
	keys, err := in.chunkKeys(id)
	if err == nil {
		b := kvbatch.New(in.cfg.DB)
		defer b.Discard()
		for _, k := range keys {
			if err = b.Delete(k); err != nil {
				break
			}
		}
		if err == nil {
			err = b.Commit()
		}
	}
	if err != nil {
		log.Warnf("inbox: drop body of %s: %v", id, err)
	}
}

// readBody reads the chunks of id in txn and checks they hold size bytes.
func readBody(txn *badger.Txn, id string, size int64) ([]byte, error) {
	body := make([]byte, 0, size)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(bodyPrefix + id + "/"), PrefetchValues: true, PrefetchSize: 8})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		err := it.Item().Value(func(v []byte) error {
			if int64(len(body)+len(v)) > size {
				return errors.New("body longer than its record says")
			}
			body = append(body, v...)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read body of %s: %w", id, err)
		}
	}
	if int64(len(body)) != size {
		return nil, fmt.Errorf("read body of %s: %d bytes stored, record says %d", id, len(body), size)
	}
	return body, nil
}

// scan checks the store when the inbox opens: it counts what the quotas
// cover, deletes body chunks that no record claims, and removes files in
// FilesDir that a crash left behind (temporary files, files of messages
// whose record was never committed or already deleted).
func (in *Inbox) scan() error {
	ids := map[string]bool{}
	var orphans [][]byte
	err := in.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(metaPrefix), PrefetchValues: true})
		for it.Rewind(); it.Valid(); it.Next() {
			// An unreadable record still claims its body and file: they
			// are not swept, and Delete removes what it can.
			id := strings.TrimPrefix(string(it.Item().Key()), metaPrefix)
			ids[id] = true
			if n, err := strconv.ParseUint(id[:min(16, len(id))], 16, 63); err == nil && int64(n) > in.lastNanos {
				in.lastNanos = int64(n) // IDs stay ordered even if the clock went back
			}
			var rec record
			err := it.Item().Value(func(v []byte) (err error) { rec, err = decodeRecord(v); return err })
			if err != nil {
				log.Warnf("inbox: unreadable record %q: %v", id, err)
				continue
			}
			in.account(rec.Kind, rec.Size, rec.File != "", +1)
		}
		it.Close()
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte(bodyPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, _, _ := strings.Cut(strings.TrimPrefix(string(it.Item().Key()), bodyPrefix), "/")
			if !ids[id] {
				orphans = append(orphans, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("inbox: scan store: %w", err)
	}
	if len(orphans) > 0 {
		b := kvbatch.New(in.cfg.DB)
		defer b.Discard()
		for _, k := range orphans {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("inbox: sweep orphan chunks: %w", err)
			}
		}
		if err := b.Commit(); err != nil {
			return fmt.Errorf("inbox: sweep orphan chunks: %w", err)
		}
	}
	if in.cfg.FilesDir == "" {
		return nil
	}
	entries, err := os.ReadDir(in.cfg.FilesDir)
	if err != nil {
		return fmt.Errorf("inbox: scan files: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		id, _, hasDash := strings.Cut(name, "-")
		leftover := strings.HasPrefix(name, tmpPrefix) || (hasDash && validID(id) && !ids[id])
		if leftover && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(in.cfg.FilesDir, name)); err != nil {
				log.Warnf("inbox: remove leftover %s: %v", name, err)
			}
		}
	}
	return nil
}

// account adds (sign +1) or removes (-1) a message from the quota
// counters. The caller holds in.mu or runs before the inbox is shared.
func (in *Inbox) account(k Kind, size int64, onDisk bool, sign int) {
	in.count += sign
	if k == KindFile {
		in.fileBytes += int64(sign) * size
	}
	if !onDisk {
		in.inlineBytes += int64(sign) * size
	}
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
