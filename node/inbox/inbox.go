// Package inbox is Pilot's data exchange service on well-known port 1001
// (ports.PortData) and the inbox that stores what arrives: text, JSON,
// binary messages and named files, one message per stream.
//
// The receiver validates every frame as it reads it (version, kind, name,
// declared length against its limits before the body, UTF-8 text, valid
// JSON, a body exactly as long as declared), stores the message in Badger
// under "/inbox/" and, for files, in Config.FilesDir, and only then
// acknowledges it with the message ID: an acknowledged message is durable.
// A refused message leaves nothing behind. Send is the client side. The
// wire format, limits and storage layout are in docs/data-exchange.md.
package inbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

var log = logging.Logger("pilot/inbox")

// Errors callers branch on. A refusal by the receiver is a *RemoteError,
// which matches ErrRejected and, by status, ErrTooLarge, ErrInboxFull or
// ErrBusy.
var (
	// ErrTooLarge: the declared length is over the receiver's limit.
	ErrTooLarge = errors.New("message too large for the receiver")
	// ErrRejected: any refusal by the receiver (the reason is in the
	// *RemoteError).
	ErrRejected = errors.New("rejected by the receiver")
	// ErrInboxFull: a quota of the receiver's inbox is reached.
	ErrInboxFull = errors.New("the receiver's inbox is full")
	// ErrBusy: the receiver has too many transfers in progress; retry.
	ErrBusy = errors.New("the receiver is busy")
	// ErrNotFound: no message with that ID in this inbox.
	ErrNotFound = errors.New("no such message")
	// ErrInvalid: the sender's own checks refused the message: a bad kind
	// or name, a negative size (before dialing), or a body shorter than
	// its size (the stream is then reset; the receiver stores nothing).
	ErrInvalid = errors.New("invalid message")
)

// errInboxClosed fails the I/O of transfers cut short by Close.
var errInboxClosed = errors.New("inbox closed")

// Message is a stored message.
type Message struct {
	ID         string          `json:"id"`
	From       peer.ID         `json:"from"`
	FromAddr   addressing.Addr `json:"from_addr"` // zero if the peer ID does not embed its key
	Kind       Kind            `json:"kind"`
	Name       string          `json:"name,omitempty"` // files only
	Size       int64           `json:"size"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       []byte          `json:"body,omitempty"` // the body when stored in Badger (Get only)
	Path       string          `json:"path,omitempty"` // the file when stored in FilesDir
}

// Config configures an Inbox. Zero values take the defaults.
type Config struct {
	// DB stores records and message bodies under "/inbox/". Required. Open
	// it with SyncWrites so that an acknowledged message survives a crash.
	// The Inbox does not close it; close the Inbox first.
	DB *badger.DB
	// FilesDir receives files as "<id>-<name>" (created 0700 if missing).
	// Default "": files are kept in Badger, up to MaxMessage bytes each.
	FilesDir string
	// MaxMessage bounds a text, json or binary message. Default 1 MiB.
	MaxMessage int64
	// MaxFile bounds a file. Default 64 MiB.
	MaxFile int64
	// MaxFilesBytes bounds the total size of stored files. Default 1 GiB.
	MaxFilesBytes int64
	// MaxInlineBytes bounds the total size of bodies kept in Badger
	// (messages, and files when FilesDir is ""). Default 256 MiB.
	MaxInlineBytes int64
	// MaxMessages bounds the number of stored messages. Default 10,000.
	MaxMessages int
	// MaxHandlers bounds concurrent transfers; more are refused as busy.
	// Default 32.
	MaxHandlers int
	// MaxPerPeer bounds concurrent transfers from one peer. Default 8.
	MaxPerPeer int
	// IdleTimeout aborts a transfer when no byte moves for that long.
	// Default 30 s.
	IdleTimeout time.Duration
	// OnMessage, if set, is called after a message is stored and
	// acknowledged, from that transfer's goroutine (so concurrently with
	// other calls); it must not block long. Body is set for messages kept
	// in Badger and is the callee's to keep.
	OnMessage func(Message)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.DB == nil {
		return errors.New("inbox: Config.DB is required")
	}
	if c.MaxMessage < 0 || c.MaxFile < 0 || c.MaxFilesBytes < 0 || c.MaxInlineBytes < 0 ||
		c.MaxMessages < 0 || c.MaxHandlers < 0 || c.MaxPerPeer < 0 || c.IdleTimeout < 0 {
		return errors.New("inbox: negative limit in Config")
	}
	setDefault(&c.MaxMessage, DefaultLimits.MaxMessage)
	setDefault(&c.MaxFile, DefaultLimits.MaxFile)
	setDefault(&c.MaxFilesBytes, 1<<30)
	setDefault(&c.MaxInlineBytes, 256<<20)
	setDefault(&c.MaxMessages, 10_000)
	setDefault(&c.MaxHandlers, 32)
	setDefault(&c.MaxPerPeer, 8)
	setDefault(&c.IdleTimeout, 30*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Stats keys: one per outcome of a transfer.
const (
	StatStored    = "stored"
	StatTooLarge  = "too_large"
	StatMalformed = "malformed"
	StatStorage   = "storage_error"
	StatFull      = "inbox_full"
	StatBusy      = "busy"
	StatTimeout   = "timeout" // the sender stalled mid-frame
	StatAborted   = "aborted" // the stream broke; no answer possible
)

var statNames = [...]string{StatStored, StatTooLarge, StatMalformed, StatStorage, StatFull, StatBusy, StatTimeout, StatAborted}

// Inbox stores incoming messages and serves port 1001.
type Inbox struct {
	cfg   Config
	chunk int
	stats [len(statNames)]atomic.Uint64
	done  chan struct{} // closed by Close

	mu          sync.Mutex
	closed      bool
	listeners   map[*ports.Listener]bool
	conns       map[*ports.Conn]bool
	perPeer     map[peer.ID]int
	lastNanos   int64
	count       int
	fileBytes   int64
	inlineBytes int64

	wg sync.WaitGroup
}

// New opens the inbox on cfg.DB: it counts what is stored for the quotas
// and removes what an interrupted transfer or deletion left behind.
func New(cfg Config) (*Inbox, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if cfg.FilesDir != "" {
		dir, err := filepath.Abs(cfg.FilesDir)
		if err != nil {
			return nil, fmt.Errorf("inbox: files folder: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("inbox: files folder: %w", err)
		}
		cfg.FilesDir = dir
	}
	in := &Inbox{cfg: cfg, chunk: chunkSize(cfg.DB), listeners: map[*ports.Listener]bool{},
		conns: map[*ports.Conn]bool{}, perPeer: map[peer.ID]int{}, done: make(chan struct{})}
	if err := in.scan(); err != nil {
		return nil, err
	}
	return in, nil
}

// Serve accepts transfers on l in its own goroutine until l or the Inbox
// is closed. The Inbox takes l over: Close closes it.
func (in *Inbox) Serve(l *ports.Listener) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		l.Close()
		return
	}
	in.listeners[l] = true
	in.wg.Go(func() {
		defer func() {
			in.mu.Lock()
			delete(in.listeners, l)
			in.mu.Unlock()
		}()
		for {
			c, err := l.AcceptConn()
			if err != nil {
				return
			}
			in.dispatch(c)
		}
	})
}

// dispatch starts a handler for c, or refuses c as busy.
func (in *Inbox) dispatch(c *ports.Conn) {
	p := c.RemotePeer()
	in.mu.Lock()
	switch {
	case in.closed:
		in.mu.Unlock()
		c.Reset()
		return
	case len(in.conns) >= in.cfg.MaxHandlers || in.perPeer[p] >= in.cfg.MaxPerPeer:
		in.mu.Unlock()
		in.stat(StatBusy)
		// A fresh stream has its whole flow-control window: this small
		// write does not block; the deadline is a safety net.
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Write(EncodeResponse(Response{Status: StatusBusy, Reason: "too many transfers in progress; retry later"}))
		c.Close()
		return
	}
	in.conns[c] = true
	in.perPeer[p]++
	in.wg.Add(1)
	in.mu.Unlock()
	go func() {
		defer in.wg.Done()
		defer func() {
			in.mu.Lock()
			delete(in.conns, c)
			if in.perPeer[p]--; in.perPeer[p] == 0 {
				delete(in.perPeer, p)
			}
			in.mu.Unlock()
		}()
		in.handle(c)
	}()
}

// Close stops serving: it closes the listeners given to Serve, aborts the
// transfers in progress and waits for every goroutine of the Inbox. It is
// idempotent. List, Get and Delete keep working until the DB is closed.
func (in *Inbox) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		in.wg.Wait()
		return nil
	}
	in.closed = true
	close(in.done) // before the deadlines below: see idleConn
	ls := make([]*ports.Listener, 0, len(in.listeners))
	for l := range in.listeners {
		ls = append(ls, l)
	}
	for c := range in.conns {
		_ = c.SetDeadline(time.Now()) // the handler fails its next I/O and exits
	}
	in.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	in.wg.Wait()
	return nil
}

// Stats counts transfers by outcome (the Stat* keys).
func (in *Inbox) Stats() map[string]uint64 {
	m := make(map[string]uint64, len(statNames))
	for i, n := range statNames {
		m[n] = in.stats[i].Load()
	}
	return m
}

func (in *Inbox) stat(name string) {
	for i, n := range statNames {
		if n == name {
			in.stats[i].Add(1)
			return
		}
	}
}
