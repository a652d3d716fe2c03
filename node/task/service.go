package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node/ports"
)

// Config configures a Service. Zero values take the defaults.
type Config struct {
	// DB stores the tasks under "/task/". Required. Open it with
	// SyncWrites so that every transition survives a crash. The Service
	// does not close it; close the Service first.
	DB *badger.DB
	// Mux listens on the task port (1003) and dials peers. Required.
	Mux *ports.Mux
	// Self is the local peer ID. Required.
	Self peer.ID
	// Gate decides whether a task submitted by p is admitted (for example:
	// p is trusted, or its Polo score is at least a minimum); reason is
	// sent back when it is not. nil admits every task. It is called from
	// stream handlers, concurrently, before anything is stored, and must
	// not block long.
	Gate func(p peer.ID) (ok bool, reason string)
	// Handler, if set, runs every admitted task automatically with an
	// external command. nil (and no Func): tasks wait in submitted for
	// Accept or Decline.
	Handler *ExecHandler
	// Func, if set, runs every admitted task automatically in-process: the
	// alternative to Handler for programs embedding a node (set at most
	// one of them). It returns the result (valid JSON, at most MaxResult
	// bytes; anything else fails the task) or errText ("" means
	// succeeded). It runs with Handler's rules: at most MaxRunning at once,
	// each in a goroutine of its own, concurrently for different tasks;
	// ctx ends when the task is cancelled or expires or the service
	// closes, and Func must then return soon (its result is dropped). A
	// panic in Func fails the task ("handler panicked"). The cost in the
	// receipt is Func's wall-clock time. Default nil.
	Func func(ctx context.Context, t Task) (result json.RawMessage, errText string)
	// SignReceipt, if set, is called on the worker when a task reaches
	// succeeded or failed, to produce the opaque receipt sent to the
	// requester with the result; costMs is the execution time. It is
	// called from the goroutine finishing the task (Complete's caller or
	// the handler's goroutine, or Start for a task interrupted by a
	// restart), normally once per task, concurrently for different tasks. A failure is logged and counted, and the task
	// finishes without a receipt.
	SignReceipt func(t Task, resultHash [32]byte, costMs uint64) ([]byte, error)
	// OnFinished, if set, is called once per terminal UPDATE: on the
	// requester when it arrives (t carries the worker's receipt), from
	// that stream's goroutine; on the worker once the requester
	// acknowledged it or delivery was given up, from the task's delivery
	// goroutine. Calls are concurrent; it must not block long. t includes
	// Input and Result.
	OnFinished func(t Task)
	// MaxPending bounds the tasks one peer has pending (not terminal) at
	// this worker; more are refused as too many. Default 64.
	MaxPending int
	// MaxPendingTotal bounds the pending tasks of all peers. Default 1024.
	MaxPendingTotal int
	// MaxRunning bounds the Handler's (or Func's) concurrent runs; admitted tasks
	// wait in submitted for a slot. Default 4.
	MaxRunning int
	// Retention is how long finished tasks are kept before they are
	// deleted. Default 30 days; negative keeps them forever.
	Retention time.Duration
	// Now is the clock of task times and deadlines. Default time.Now.
	Now func() time.Time
	// Logger receives the service's logs. Default slog.Default().
	Logger *slog.Logger

	// tune, if set, adjusts the service's timings before it reads the
	// store (tests).
	tune func(*Service)
}

func (c *Config) setDefaults() error {
	switch {
	case c.DB == nil:
		return errors.New("task: Config.DB is required")
	case c.Mux == nil:
		return errors.New("task: Config.Mux is required")
	case c.Self == "":
		return errors.New("task: Config.Self is required")
	case c.MaxPending < 0 || c.MaxPendingTotal < 0 || c.MaxRunning < 0:
		return errors.New("task: negative limit in Config")
	}
	if c.Handler != nil && c.Func != nil {
		return errors.New("task: set Config.Handler or Config.Func, not both")
	}
	if c.Handler != nil {
		if err := c.Handler.check(); err != nil {
			return fmt.Errorf("task: Config.Handler: %w", err)
		}
	}
	setDefault(&c.MaxPending, 64)
	setDefault(&c.MaxPendingTotal, 1024)
	setDefault(&c.MaxRunning, 4)
	setDefault(&c.Retention, 30*24*time.Hour)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Stats keys: refusals by reason, deliveries, and tasks by outcome.
const (
	StatAdmitted     = "admitted"         // SUBMITs stored by this worker
	StatDeclinedGate = "declined_by_gate" // SUBMITs the gate refused
	StatUnknownTask  = "unknown_task"     // UPDATE or CANCEL for an ID not stored here
	StatWrongPeer    = "wrong_peer"       // UPDATE or CANCEL from a peer not party to the task (answered as unknown)
	StatBadFrame     = "bad_frame"        // frames breaking the protocol
	StatTooMany      = "too_many"         // over MaxPending or the stream limits
	StatConflict     = "conflict"         // the task's state forbids the frame, or its ID is taken
	StatStorage      = "storage_error"    // Badger failed
	StatAborted      = "aborted"          // the stream broke before an answer
	StatUpdates      = "updates_applied"  // UPDATEs applied by this requester
	StatCancels      = "cancels_applied"  // CANCELs applied by this worker
	StatDelivered    = "notify_delivered" // UPDATEs or CANCELs the peer acknowledged
	StatRefused      = "notify_refused"   // UPDATEs or CANCELs the peer refused for good
	StatRetries      = "notify_retries"   // failed deliveries to be retried
	StatGaveUp       = "notify_gave_up"   // deliveries abandoned after the last retry
	StatReceiptError = "receipt_error"    // SignReceipt failed
	StatCorrupt      = "corrupt_record"   // unreadable records found when opening
	StatSucceeded    = string(StateSucceeded)
	StatFailed       = string(StateFailed)
	StatDeclined     = string(StateDeclined)
	StatCancelled    = string(StateCancelled)
	StatExpired      = string(StateExpired)
)

// Bounds of the inbound streams in progress; more are refused as too many.
const (
	maxStreams        = 64
	maxStreamsPerPeer = 8
)

var statNames = [...]string{StatAdmitted, StatDeclinedGate, StatUnknownTask, StatWrongPeer, StatBadFrame,
	StatTooMany, StatConflict, StatStorage, StatAborted, StatUpdates, StatCancels, StatDelivered, StatRefused,
	StatRetries, StatGaveUp, StatReceiptError, StatCorrupt, StatSucceeded, StatFailed, StatDeclined,
	StatCancelled, StatExpired}

// Service is the task service of one node: it serves port 1003 and keeps
// the node's tasks, as requester and as worker.
type Service struct {
	cfg   Config
	log   *slog.Logger
	chunk int
	stats [len(statNames)]atomic.Uint64
	locks [64]sync.Mutex // per task, by hash of the ID
	done  chan struct{}  // closed by Close

	// Timings, fixed before Start (tests shorten them).
	sweepEvery      time.Duration // expiry sweeps
	grace           time.Duration // the requester's copy expires this long after the deadline
	retryBase       time.Duration // first delivery retry; doubles each time
	maxTries        int           // deliveries of one state before giving up
	exchangeTimeout time.Duration // one delivery, dial to answer
	streamTimeout   time.Duration // one inbound stream
	maxSkew         time.Duration // how far in the future a submission may be dated

	mu           sync.Mutex
	started      bool
	closed       bool
	ctx          context.Context // the running service; cancelled by Close
	cancel       context.CancelFunc
	listener     *ports.Listener
	pending      map[peer.ID]int      // worker: non-terminal tasks per requester
	pendingTotal int                  //
	deadlines    map[string]time.Time // non-terminal tasks: when they expire here
	watchers     map[string]*watcher
	running      map[string]context.CancelFunc // handler runs
	notifiers    map[string]*notifier
	finishing    map[string]bool // tasks in finish (SignReceipt runs once)
	streams      int
	perPeer      map[peer.ID]int
	execSlots    chan struct{}

	wg sync.WaitGroup
}

// New opens the service on cfg.DB: it counts the pending tasks and sweeps
// what an interrupted write left behind. Call Start to serve.
func New(cfg Config) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("subsystem", "pilot/task"), chunk: chunkSize(cfg.DB),
		done: make(chan struct{}), sweepEvery: time.Second, grace: 30 * time.Second, retryBase: 2 * time.Second,
		maxTries: 6, exchangeTimeout: 20 * time.Second, streamTimeout: 30 * time.Second, maxSkew: 10 * time.Minute,
		pending: map[peer.ID]int{}, deadlines: map[string]time.Time{}, watchers: map[string]*watcher{},
		running: map[string]context.CancelFunc{}, notifiers: map[string]*notifier{}, finishing: map[string]bool{},
		perPeer:   map[peer.ID]int{},
		execSlots: make(chan struct{}, cfg.MaxRunning)}
	if cfg.tune != nil {
		cfg.tune(s)
	}
	err := s.scan(func(e entry) {
		if e.State.Terminal() {
			return
		}
		s.track(e)
		if e.Role == RoleWorker {
			s.pending[e.Requester]++
			s.pendingTotal++
		}
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Start listens on port 1003 and starts the expiry sweeper. It recovers
// from a restart: tasks this worker was running are failed with "worker
// restarted" and their requesters told; admitted tasks go to the Handler;
// deliveries left pending resume. It does not block; ctx bounds only the
// start itself.
func (s *Service) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("task: start: %w", err)
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return fmt.Errorf("task: start: %w (closed)", ErrClosed)
	case s.started:
		s.mu.Unlock()
		return errors.New("task: start: already started")
	}
	l, err := s.cfg.Mux.Listen(ports.PortTasks)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("task: start: %w", err)
	}
	s.started, s.listener = true, l
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	s.mu.Unlock()
	go s.serve(l)
	go s.sweeper()
	if err := s.recover(ctx); err != nil {
		s.Close()
		return fmt.Errorf("task: start: %w", err)
	}
	return nil
}

// Close stops listening, kills the Handler's runs (their tasks fail with
// "worker restarted" at the next Start), stops deliveries (they resume at
// the next Start) and waits for every goroutine of the service. It is
// idempotent. Get and List keep working until the DB is closed.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	l := s.listener
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	s.wg.Wait()
	return nil
}

// automatic reports whether admitted tasks run by themselves (Handler or
// Func).
func (c *Config) automatic() bool { return c.Handler != nil || c.Func != nil }

// enter registers an operation that must finish before Close returns; it
// fails when the service is not running.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Service) leave() { s.wg.Done() }

// Stats counts frames by outcome and tasks by final state (the Stat*
// keys).
func (s *Service) Stats() map[string]uint64 {
	m := make(map[string]uint64, len(statNames))
	for i, n := range statNames {
		m[n] = s.stats[i].Load()
	}
	return m
}

func (s *Service) stat(name string) {
	for i, n := range statNames {
		if n == name {
			s.stats[i].Add(1)
			return
		}
	}
}
