package reputation

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// kill9DirEnv tells the test binary to run as the child of
// TestAddSurvivesKill9, storing into the named directory.
const kill9DirEnv = "PILOT_REPUTATION_KILL9_DIR"

// diskOptions are the options a node uses: on disk, SyncWrites on.
func diskOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(true).
		WithMemTableSize(4 << 20).WithValueThreshold(1 << 10).WithBlockCacheSize(1 << 20)
}

func kill9Rules() Rules {
	return Rules{Now: func() time.Time { return t0 }, IssuerRate: -1}
}

// TestAddSurvivesKill9 runs a child process that Adds attestations and
// prints each ID once Add has returned, kills it with SIGKILL mid-stream,
// then reopens the database and checks that every printed ID is there.
func TestAddSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), kill9DirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	// Whatever happens, the child dies: after 50 acknowledged IDs, or at
	// the deadline.
	const killAfter = 50
	deadline := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()

	var acked []string
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if _, err := hex.DecodeString(line); err != nil || len(line) != 64 {
			continue // test framework output, or a line cut by the kill
		}
		acked = append(acked, line)
		if len(acked) == killAfter && !killed {
			require.NoError(t, cmd.Process.Signal(os.Kill))
			killed = true
		}
	}
	werr := cmd.Wait()
	require.True(t, killed, "child stopped after %d IDs: %v", len(acked), werr)
	require.Error(t, werr, "the child must have died of SIGKILL")
	t.Logf("child acknowledged %d attestations before SIGKILL", len(acked))

	db, err := badger.Open(diskOptions(dir))
	require.NoError(t, err, "database reopens after kill -9")
	defer func() { require.NoError(t, db.Close()) }()
	s, err := Open(db, kill9Rules())
	require.NoError(t, err)
	require.GreaterOrEqual(t, s.Count(), len(acked))
	for _, h := range acked {
		var id [32]byte
		_, err := hex.Decode(id[:], []byte(h))
		require.NoError(t, err)
		raw, ok, err := s.Get(id)
		require.NoError(t, err)
		require.True(t, ok, "acknowledged attestation %s lost", h)
		require.Equal(t, id, IDOf(raw))
	}
	require.Zero(t, s.Stats()[ReasonCorrupt])
}

// TestKill9Child is the child of TestAddSurvivesKill9; it skips unless run
// as one. It Adds until killed (or for at most a minute).
func TestKill9Child(t *testing.T) {
	dir := os.Getenv(kill9DirEnv)
	if dir == "" {
		t.Skip("child process of TestAddSurvivesKill9")
	}
	db, err := badger.Open(diskOptions(dir))
	require.NoError(t, err)
	defer db.Close()
	s, err := Open(db, kill9Rules())
	require.NoError(t, err)
	q := identN(t, 1)
	stop := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(stop); i++ {
		raw := mustMarshal(t, build(t, spec{worker: identN(t, uint32(10+i)), requester: q}, nil))
		a, err := s.Add(raw)
		require.NoError(t, err)
		id := a.ID()
		// One write per line: the parent sees whole lines only.
		if _, err := fmt.Fprintf(os.Stdout, "%x\n", id); err != nil {
			return
		}
	}
}
