package peerbook

import (
	"github.com/dgraph-io/badger/v4"
)

// stored is the result of reading every key of the book.
type stored struct {
	entries []Entry
	// bad are the keys whose entry does not decode.
	bad [][]byte
}

// scan reads every entry of the book in txn. An entry that does not decode
// goes to bad rather than failing the scan: one damaged entry must not hide
// the others. Only an error from Badger itself fails it.
func scan(txn *badger.Txn) (stored, error) {
	var s stored
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte(keyPrefix)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var (
			e   Entry
			bad error
		)
		err := item.Value(func(v []byte) error {
			e, bad = decodeEntry(item.Key(), v)
			return nil
		})
		switch {
		case err != nil:
			return stored{}, err
		case bad != nil:
			s.bad = append(s.bad, item.KeyCopy(nil))
		default:
			s.entries = append(s.entries, e)
		}
	}
	return s, nil
}

// deleteKeys deletes keys in txn.
func deleteKeys(txn *badger.Txn, keys [][]byte) error {
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
