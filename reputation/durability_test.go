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
	cmd := exec.Command(os.Args[0]) // TestMain runs kill9Child instead of the tests
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

// kill9Child is the child process of TestAddSurvivesKill9, run from
// TestMain when kill9DirEnv is set (so it is no test of its own, and no
// test skips): it Adds until killed, or for at most a minute, and prints
// each ID once Add has returned.
func kill9Child(dir string) int {
	t := childTB{}
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
			return 0
		}
	}
	return 0
}

// childTB lets kill9Child, which runs outside any test, use the test
// helpers: a failure is printed and ends the process with exit code 3,
// which the parent test sees.
type childTB struct{ testing.TB }

func (childTB) Helper()                        {}
func (childTB) Errorf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (childTB) FailNow()                       { os.Exit(3) }
func (c childTB) Fatalf(format string, a ...any) {
	c.Errorf(format, a...)
	c.FailNow()
}
func (c childTB) Fatal(a ...any) {
	fmt.Fprintln(os.Stderr, a...)
	c.FailNow()
}
