package task

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pilot-agents/pilot/node/ports"
)

const waitFor = 15 * time.Second

var bg = context.Background()

// helperArg makes the test binary act as a task command (TestMain): the
// handler tests run it directly, without a shell.
const helperArg = "task-helper"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == helperArg {
		os.Exit(helper(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// helper is a task command. Modes: echo (the task back as the result),
// fail (two stderr lines, exit 3), sleep (an hour), spawn <file> (starts a
// sleeping child, writes "<own pid> <child pid>" to file, sleeps), big <n>
// (n bytes of stdout), text (plain text on stdout).
func helper(mode string, args []string) int {
	switch mode {
	case "echo":
		var in execInput
		if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
			fmt.Fprintln(os.Stderr, "bad stdin:", err)
			return 2
		}
		out, _ := json.Marshal(map[string]any{"echo": in.Input, "id": in.ID, "type": in.Type, "requester": in.Requester})
		os.Stdout.Write(out)
		return 0
	case "fail":
		io.Copy(io.Discard, os.Stdin)
		fmt.Fprint(os.Stderr, "starting\nthe real reason: disk full\n\n")
		return 3
	case "sleep":
		select {} // a hung handler, killed by the test
	case "spawn":
		child := exec.Command(os.Args[0], helperArg, "sleep")
		if err := child.Start(); err != nil {
			return 4
		}
		if err := os.WriteFile(args[0], fmt.Appendf(nil, "%d %d", os.Getpid(), child.Process.Pid), 0o600); err != nil {
			return 5
		}
		select {} // a hung handler with a child, killed by the test
	case "big":
		n, _ := strconv.Atoi(args[0])
		os.Stdout.Write([]byte(strings.Repeat("x", n)))
		return 0
	case "text":
		fmt.Println("plain words, not JSON")
		return 0
	}
	return 99
}

// helperCmd is the command line running helper mode.
func helperCmd(mode string, args ...string) []string {
	return append([]string{os.Args[0], helperArg, mode}, args...)
}

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// openDB opens a Badger store: in memory, sized like a node's in-memory
// store (small values and batches), when dir is ""; on disk with
// SyncWrites otherwise.
func openDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	var opts badger.Options
	if dir == "" {
		opts = badger.DefaultOptions("").WithInMemory(true).WithMemTableSize(1 << 20).WithValueThreshold(150 << 10)
	} else {
		opts = badger.DefaultOptions(dir).WithSyncWrites(true).WithMemTableSize(8 << 20).
			WithValueLogFileSize(32 << 20).WithValueThreshold(64 << 10)
	}
	db, err := badger.Open(opts.WithLogger(nil))
	require.NoError(t, err)
	return db
}

// fast shortens the service's timings for tests.
func fast(s *Service) {
	s.sweepEvery = 10 * time.Millisecond
	s.grace = 200 * time.Millisecond
	s.retryBase = 50 * time.Millisecond
	s.exchangeTimeout = 5 * time.Second
}

// agent is a test node: host, port mux, store and task service.
type agent struct {
	t    testing.TB
	h    host.Host
	mux  *ports.Mux
	dir  string // "" for an in-memory store
	db   *badger.DB
	svc  *Service
	edit []func(*Config)

	mu       sync.Mutex
	receipts map[string][]byte // by task ID, as signed here
	finished chan Task         // OnFinished calls
}

// newAgent starts an agent; dir "" keeps its store in memory. edit
// adjusts its Config.
func newAgent(t testing.TB, dir string, edit ...func(*Config)) *agent {
	t.Helper()
	a := &agent{t: t, h: newHost(t), dir: dir, edit: edit, receipts: map[string][]byte{}, finished: make(chan Task, 64)}
	a.mux = ports.New(a.h, nil)
	t.Cleanup(func() { a.mux.Close() })
	a.db = openDB(t, dir)
	t.Cleanup(func() { a.stop(); a.db.Close() })
	a.start()
	return a
}

func (a *agent) id() peer.ID { return a.h.ID() }

// config is the agent's Config: a receipt signer recording what it
// signed, an OnFinished feeding a.finished, fast timings, then a.edit.
func (a *agent) config() Config {
	cfg := Config{DB: a.db, Mux: a.mux, Self: a.h.ID(), tune: fast,
		Logger: slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SignReceipt: func(t Task, rh [32]byte, costMs uint64) ([]byte, error) {
			h := t.Hash()
			r := fmt.Appendf(nil, "receipt %s %s %s %d", t.ID, hex.EncodeToString(h[:]), hex.EncodeToString(rh[:]), costMs)
			a.mu.Lock()
			a.receipts[t.ID] = r
			a.mu.Unlock()
			return r, nil
		},
		OnFinished: func(t Task) {
			select {
			case a.finished <- t:
			default:
			}
		}}
	for _, e := range a.edit {
		e(&cfg)
	}
	return cfg
}

func (a *agent) start() {
	a.t.Helper()
	svc, err := New(a.config())
	require.NoError(a.t, err)
	require.NoError(a.t, svc.Start(bg))
	a.svc = svc
}

func (a *agent) stop() {
	if a.svc != nil {
		require.NoError(a.t, a.svc.Close())
		a.svc = nil
	}
}

// restart closes the service and, for an on-disk store, the DB too, then
// reopens both.
func (a *agent) restart() {
	a.t.Helper()
	a.stop()
	if a.dir != "" {
		require.NoError(a.t, a.db.Close())
		a.db = openDB(a.t, a.dir)
	}
	a.start()
}

func (a *agent) receipt(id string) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.receipts[id]
}

func connect(t testing.TB, a, b *agent) {
	t.Helper()
	require.NoError(t, a.h.Connect(bg, peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}))
}

// pair returns a connected requester and worker.
func pair(t testing.TB, req, wrk []func(*Config)) (*agent, *agent) {
	t.Helper()
	r, w := newAgent(t, "", req...), newAgent(t, "", wrk...)
	connect(t, r, w)
	return r, w
}

func (a *agent) get(id string) Task {
	a.t.Helper()
	tk, err := a.svc.Get(id)
	require.NoError(a.t, err)
	return tk
}

func (a *agent) state(id string) State {
	tk, err := a.svc.Get(id)
	if err != nil {
		return ""
	}
	return tk.State
}

func (a *agent) waitState(id string, want State) Task {
	a.t.Helper()
	require.Eventually(a.t, func() bool { return a.state(id) == want }, waitFor, 5*time.Millisecond,
		"task %s never became %s (is %q)", id, want, a.state(id))
	return a.get(id)
}

func (a *agent) wait(id string) Task {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(bg, waitFor)
	defer cancel()
	tk, err := a.svc.Wait(ctx, id)
	require.NoError(a.t, err)
	return tk
}

func (a *agent) waitStat(name string, atLeast uint64) {
	a.t.Helper()
	require.Eventually(a.t, func() bool { return a.svc.Stats()[name] >= atLeast }, waitFor, 5*time.Millisecond,
		"stat %s never reached %d (stats %v)", name, atLeast, a.svc.Stats())
}

func (a *agent) nextFinished() Task {
	a.t.Helper()
	select {
	case tk := <-a.finished:
		return tk
	case <-time.After(waitFor):
		a.t.Fatal("OnFinished was not called")
		return Task{}
	}
}

// keys counts the keys under "/task/".
func (a *agent) keys() int {
	n := 0
	require.NoError(a.t, a.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}))
	return n
}

// raw sends frame bytes to b's task port from a's mux and reads the answer.
func (a *agent) raw(b *agent, frame []byte) (Response, error) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(bg, waitFor)
	defer cancel()
	c, err := a.mux.Dial(ctx, b.id(), ports.PortTasks)
	require.NoError(a.t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitFor))
	_, err = c.Write(frame)
	require.NoError(a.t, err)
	require.NoError(a.t, c.CloseWrite())
	return DecodeResponse(c)
}

func (a *agent) send(b *agent, f Frame) Response {
	a.t.Helper()
	enc, err := EncodeFrame(f)
	require.NoError(a.t, err)
	resp, err := a.raw(b, enc)
	require.NoError(a.t, err)
	return resp
}

func (a *agent) submit(worker *agent, typ, input string, timeout time.Duration) (Task, error) {
	ctx, cancel := context.WithTimeout(bg, waitFor)
	defer cancel()
	return a.svc.Submit(ctx, worker.id(), typ, json.RawMessage(input), timeout)
}

func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logOut receives the services' logs; point it at os.Stderr to debug.
var logOut io.Writer = io.Discard
