package inbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// List returns the stored messages, oldest first (newest last), without
// their bodies. Records that cannot be decoded are skipped and logged.
func (in *Inbox) List(ctx context.Context) ([]Message, error) {
	var out []Message
	err := in.cfg.DB.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(metaPrefix), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			rec, err := decodeRecord(v)
			if err != nil {
				log.Warnf("inbox: skipping unreadable record %q: %v", it.Item().Key(), err)
				continue
			}
			out = append(out, in.message(rec))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inbox: list: %w", err)
	}
	return out, nil
}

// Get returns the message id with its body when the body is stored in
// Badger (Path is set instead for a file in FilesDir). An unknown or
// malformed id is ErrNotFound.
func (in *Inbox) Get(ctx context.Context, id string) (Message, error) {
	if !validID(id) {
		return Message{}, fmt.Errorf("inbox: get %q: %w", id, ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return Message{}, fmt.Errorf("inbox: get %s: %w", id, err)
	}
	var m Message
	err := in.cfg.DB.View(func(txn *badger.Txn) error {
		rec, err := getRecord(txn, id)
		if err != nil {
			return err
		}
		m = in.message(rec)
		if rec.File == "" {
			m.Body, err = readBody(txn, id, rec.Size)
		}
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("inbox: get %s: %w", id, err)
	}
	return m, nil
}

// getRecord reads and decodes the record of id.
func getRecord(txn *badger.Txn, id string) (record, error) {
	item, err := txn.Get(metaKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record{}, ErrNotFound
	}
	if err != nil {
		return record{}, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return record{}, err
	}
	return decodeRecord(v)
}

// Delete removes the message id: its record, its body and its file. An
// unknown or malformed id is ErrNotFound.
func (in *Inbox) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return fmt.Errorf("inbox: delete %q: %w", id, ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inbox: delete %s: %w", id, err)
	}
	var rec record
	corrupt := false
	// The record goes first, in one transaction with its read: of two
	// concurrent deletes one conflicts, so the quotas are released once.
	err := in.cfg.DB.Update(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, id)
		if errors.Is(err, ErrNotFound) {
			return err
		}
		if err != nil {
			log.Warnf("inbox: deleting unreadable record %s: %v", id, err)
			corrupt = true
		}
		return txn.Delete(metaKey(id))
	})
	if errors.Is(err, badger.ErrConflict) {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("inbox: delete %s: %w", id, err)
	}
	if !corrupt {
		in.mu.Lock()
		in.account(rec.Kind, rec.Size, rec.File != "", -1)
		in.mu.Unlock()
	}
	in.dropChunks(id)
	if rec.File != "" && in.cfg.FilesDir != "" {
		err := os.Remove(filepath.Join(in.cfg.FilesDir, rec.File))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("inbox: delete %s: remove file: %w", id, err)
		}
		if err := syncDir(in.cfg.FilesDir); err != nil {
			return fmt.Errorf("inbox: delete %s: sync files folder: %w", id, err)
		}
	}
	return nil
}
