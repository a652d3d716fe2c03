package gossip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	logging "github.com/ipfs/go-log/v2"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

var log = logging.Logger("pilot/gossip")

// Defaults of Config.
const (
	DefaultTopicPrefix        = "/pilot/events/1.0.0/"
	DefaultMaxMessageSize     = 64 << 10
	DefaultSubscriptionBuffer = 128
	DefaultOutboundQueueSize  = 128
	DefaultValidateQueueSize  = 256
)

// MaxMessageSizeLimit is the largest Config.MaxMessageSize accepted: pubsub's
// wire limit per RPC (1 MiB, pubsub.DefaultMaxMessageSize, left unchanged so
// every node agrees on it) minus room for the topic, author, sequence number,
// key and signature that travel with the body.
const MaxMessageSizeLimit = pubsub.DefaultMaxMessageSize - 4<<10

// ErrClosed is returned by every operation on a closed PubSub and by
// Subscription.Next once the subscription or its PubSub is closed.
var ErrClosed = errors.New("gossip: closed")

// Config configures New. The zero value is valid: every field documents its
// default.
type Config struct {
	// TopicPrefix is prepended to an event-stream topic name to form the
	// pubsub topic. Default DefaultTopicPrefix ("/pilot/events/1.0.0/"). A
	// private swarm passes its own, so its events never mix with the public
	// mesh's. It must start and end with "/".
	TopicPrefix string

	// MaxMessageSize is the largest event body in bytes. Default 64 KiB; at
	// most MaxMessageSizeLimit. Publish refuses larger bodies (ErrTooLarge)
	// and the topic validator rejects larger messages from peers.
	MaxMessageSize int

	// SubscriptionBuffer is how many received events wait in one
	// Subscription for Next; when it is full pubsub drops further events for
	// that subscription (Stats: drop_slow_subscriber). Default 128 (pubsub's
	// own default is 32).
	SubscriptionBuffer int

	// OutboundQueueSize is how many RPCs wait per peer for the network; when
	// it is full pubsub drops further RPCs to that peer (Stats:
	// drop_rpc). Default 128 (pubsub's own default is 32).
	OutboundQueueSize int

	// ValidateQueueSize is how many received messages wait for validation;
	// when it is full pubsub drops further messages (Stats:
	// ignore_validation_queue_full). Default 256 (pubsub's own default is 32).
	ValidateQueueSize int

	// NoFloodPublish turns flood publishing off. By default (false) a node
	// sends the messages it publishes itself to every peer it knows in the
	// topic, not only to its mesh, so a message published right after
	// WaitForPeers reaches those peers even before the mesh has formed. The
	// cost is publisher bandwidth proportional to its neighbours in the
	// topic; relayed messages always go to the mesh only.
	NoFloodPublish bool

	// Params are the gossipsub router parameters. Default nil, meaning
	// pubsub.DefaultGossipSubParams(): mesh degree D=6 (Dlo 5, Dhi 12),
	// heartbeat 1 s, fanout TTL 60 s, prune backoff 1 min. A testnet with
	// hundreds of nodes in one process may lower D; tests may shorten the
	// heartbeat so meshes form faster.
	Params *pubsub.GossipSubParams

	// Discovery, if set, lets pubsub find and connect other subscribers of
	// a topic (for example routing.NewRoutingDiscovery over Pilot's DHT).
	// Default nil: pubsub's peers are those of the host's existing
	// connections only, so two subscribers of a topic hear each other only
	// through a chain of connected nodes that each subscribe to or relay it.
	Discovery discovery.Discovery

	// Logger receives pubsub's own logs. Default: go-log's slog bridge under
	// the subsystem "pubsub" (GOLOG_LOG_LEVEL=pubsub=debug), tagged with the
	// host's peer ID.
	Logger *slog.Logger

	// AppScore, if set, turns gossipsub peer scoring on with AppScore as
	// the application-specific score (weight 1): the node passes the Polo
	// score, on a scale where an established peer scores in the tens. It
	// must be cheap, never block and be safe for concurrent use: pubsub
	// calls it from its event loop for every RPC received. Return 0 for
	// peers without Polo: newcomers, not attackers; a score of 0 is above
	// every threshold (ScoreGossipThreshold and the others), so only
	// misbehaviour seen by gossipsub, or a negative AppScore, can mute a
	// peer. With scoring on, Reject verdicts on the Polo topic count
	// against the neighbour that forwarded the message. Default nil: no
	// peer scoring.
	AppScore func(peer.ID) float64

	// Options are extra pubsub options appended after this package's, so
	// they win (for example pubsub.WithPeerScore, pubsub.WithSeenMessagesTTL).
	// Default none. Options that change the signature policy, the author or
	// the message ID function break the guarantees documented here.
	Options []pubsub.Option
}

// withDefaults fills zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if !strings.HasPrefix(c.TopicPrefix, "/") || !strings.HasSuffix(c.TopicPrefix, "/") {
		return c, fmt.Errorf("gossip: topic prefix %q must start and end with \"/\"", c.TopicPrefix)
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxMessageSize < 0 || c.MaxMessageSize > MaxMessageSizeLimit {
		return c, fmt.Errorf("gossip: max message size %d out of range 1..%d", c.MaxMessageSize, MaxMessageSizeLimit)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"subscription buffer", &c.SubscriptionBuffer, DefaultSubscriptionBuffer},
		{"outbound queue size", &c.OutboundQueueSize, DefaultOutboundQueueSize},
		{"validate queue size", &c.ValidateQueueSize, DefaultValidateQueueSize},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 0 {
			return c, fmt.Errorf("gossip: %s %d is negative", f.name, *f.v)
		}
	}
	return c, nil
}

// PubSub is one gossipsub instance on a host with Pilot's topics on top.
type PubSub struct {
	h      host.Host
	cfg    Config
	params pubsub.GossipSubParams
	raw    *pubsub.PubSub
	protos []protocol.ID
	tr     *tracer

	ctx    context.Context // cancelled by Close (or by New's ctx)
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	topics map[string]*joined // by full pubsub topic name

	calls     sync.WaitGroup // API calls in flight; Close waits for them
	closeOnce sync.Once
}

// New starts gossipsub on h. ctx bounds the instance's lifetime: cancelling
// it stops pubsub like Close does, but Close must still be called to wait
// and release. New starts no discovery of its own unless Config.Discovery is
// set: pubsub talks to the peers h is (or becomes) connected to.
func New(ctx context.Context, h host.Host, cfg Config) (*PubSub, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	params := pubsub.DefaultGossipSubParams()
	if cfg.Params != nil {
		params = *cfg.Params
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(logging.SlogHandler()).With("logger", "pubsub", "id", h.ID().String())
	}

	ps := &PubSub{
		h:      h,
		cfg:    cfg,
		params: params,
		tr:     newTracer(),
		topics: make(map[string]*joined),
	}
	ps.ctx, ps.cancel = context.WithCancel(ctx)

	rt := pubsub.DefaultGossipSubRouter(h)
	opts := []pubsub.Option{
		rt.WithDefaultTagTracer(), // what NewGossipSub adds: connmgr tags for mesh peers
		pubsub.WithGossipSubParams(params),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithPeerExchange(false),
		pubsub.WithFloodPublish(!cfg.NoFloodPublish),
		pubsub.WithPeerOutboundQueueSize(cfg.OutboundQueueSize),
		pubsub.WithValidateQueueSize(cfg.ValidateQueueSize),
		pubsub.WithRawTracer(ps.tr),
		pubsub.WithLogger(logger),
	}
	if cfg.AppScore != nil {
		opts = append(opts, poloPeerScore(cfg.AppScore))
	}
	if cfg.Discovery != nil {
		opts = append(opts, pubsub.WithDiscovery(cfg.Discovery))
	}
	opts = append(opts, cfg.Options...)

	raw, err := pubsub.NewGossipSubWithRouter(ps.ctx, h, rt, opts...)
	if err != nil {
		ps.cancel()
		return nil, fmt.Errorf("gossip: start gossipsub: %w", err)
	}
	ps.raw = raw
	ps.protos = slices.Clone(rt.Protocols())
	return ps, nil
}

// Raw returns the underlying pubsub instance, for topics built on this core
// and for diagnostics (ListPeers, GetTopics). Join topics through this
// package, not through Raw().Join: pubsub allows one handle per topic.
func (ps *PubSub) Raw() *pubsub.PubSub { return ps.raw }

// Host returns the host pubsub runs on.
func (ps *PubSub) Host() host.Host { return ps.h }

// Protocols returns the stream protocols pubsub speaks (gossipsub's
// /meshsub/1.x.0 and /floodsub/1.0.0, not a /pilot/port/... protocol). A
// node that gates inbound streams by protocol must let every peer it wants
// to gossip with, trusted or not, open these.
func (ps *PubSub) Protocols() []protocol.ID { return slices.Clone(ps.protos) }

// Close stops pubsub: every Subscription's Next returns ErrClosed, later
// calls fail with ErrClosed, pubsub's stream handlers are removed from the
// host and its open streams are reset (so its reader goroutines end and
// peers drop this node from their meshes at once). It waits for the calls
// in flight to return. Pubsub itself has no Close: its internal goroutines
// end on their own shortly after. Close is idempotent and always returns
// nil.
func (ps *PubSub) Close() error {
	ps.closeOnce.Do(func() {
		ps.mu.Lock()
		ps.closed = true
		ps.topics = make(map[string]*joined)
		ps.mu.Unlock()

		ps.cancel()
		ps.calls.Wait()

		for _, p := range ps.protos {
			ps.h.RemoveStreamHandler(p)
		}
		for _, c := range ps.h.Network().Conns() {
			for _, s := range c.GetStreams() {
				if slices.Contains(ps.protos, s.Protocol()) {
					_ = s.Reset()
				}
			}
		}
	})
	return nil
}

// enter registers an API call in flight; it fails once Close has begun.
// Every successful enter is paired with ps.calls.Done().
func (ps *PubSub) enter() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed || ps.ctx.Err() != nil {
		return ErrClosed
	}
	ps.calls.Add(1)
	return nil
}

// Stats returns counters of messages rejected, ignored or dropped since New,
// and of messages published and delivered. Every key is present, zero or
// not; the keys are the Stat* constants.
func (ps *PubSub) Stats() map[string]uint64 { return ps.tr.snapshot() }
