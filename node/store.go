package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	logging "github.com/ipfs/go-log/v2"
)

var storeLog = logging.Logger("pilot/store")

// openStore opens the node's one Badger database: home/store on disk with
// synchronous writes (an acknowledged write survives kill -9), or in memory.
// Both are tuned small: a testnet runs hundreds of nodes in one process.
func openStore(home string, inMemory bool) (*badger.DB, error) {
	var opts badger.Options
	if inMemory {
		// An in-memory database has no value log: every value must stay
		// under ValueThreshold, and Badger v4.9.6 crashes on a value of
		// exactly that size. Setting it to Badger's max batch size (15% of
		// a memtable) makes it the bound badgerds already enforces.
		//
		// Nor does it compact: each compactor wakes every 50 ms (Badger's
		// fixed tick), and two per node were the largest idle cost of a
		// thousand-node testnet (two wake-ups every 50 ms per node, most
		// of the scheduler's work). Without compaction every flushed
		// memtable stays a level-0 table until the process ends, so the
		// stall threshold is lifted; a testnet node writes a few MiB in a
		// run (docs/testnet.md), a handful of tables.
		const memTable = 1 << 20
		opts = badger.DefaultOptions("").WithInMemory(true).
			WithMemTableSize(memTable).
			WithValueThreshold(memTable * 15 / 100).
			WithBlockCacheSize(0).
			WithIndexCacheSize(0).
			WithCompression(options.None).
			WithNumMemtables(2).
			WithNumLevelZeroTables(1<<20 - 1).
			WithNumLevelZeroTablesStall(1 << 20).
			WithNumCompactors(0)
	} else {
		dir := filepath.Join(home, "store")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("node: store folder: %w", err)
		}
		opts = badger.DefaultOptions(dir).
			WithSyncWrites(true).
			WithMemTableSize(8 << 20).
			WithBlockCacheSize(4 << 20).
			WithIndexCacheSize(2 << 20).
			WithValueLogFileSize(32 << 20).
			WithBaseTableSize(2 << 20).
			WithValueThreshold(64 << 10).
			WithNumMemtables(2).
			WithNumLevelZeroTables(2).
			WithNumLevelZeroTablesStall(4).
			WithNumCompactors(2)
	}
	opts = opts.WithLogger(badgerLogger{})
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("node: open store: %w (is another pilot daemon using %s?)", err, home)
		}
		return nil, fmt.Errorf("node: open store: %w", err)
	}
	return db, nil
}

// badgerLogger routes Badger's log into go-log; Badger's info chatter goes
// to debug.
type badgerLogger struct{}

func (badgerLogger) Errorf(f string, a ...any)   { storeLog.Errorf(f, a...) }
func (badgerLogger) Warningf(f string, a ...any) { storeLog.Warnf(f, a...) }
func (badgerLogger) Infof(f string, a ...any)    { storeLog.Debugf(f, a...) }
func (badgerLogger) Debugf(f string, a ...any)   { storeLog.Debugf(f, a...) }
