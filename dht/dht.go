// Package dht is Pilot's private Kademlia DHT: a go-libp2p-kad-dht under the
// "/pilot" protocol prefix (never the IPFS DHT), the validator for Pilot's
// records, publishing and resolving signed address records, and the pins
// (trust on first use) that tie an address to the first peer seen behind it.
//
// An address record lives under "/pilot/addr/<12 hex>"; its value is a
// libp2p signed envelope holding a PeerRecord. A profile record (hostname,
// tags, public ports, version) lives under "/pilot/profile/<12 hex>", and
// provider records on the CIDs of "pilot:name:<name>" and "pilot:tag:<tag>"
// point at claimants that FindName and FindTag verify against their signed
// profiles. See docs/dht.md.
package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	logging "github.com/ipfs/go-log/v2"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-base32"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/addressing"
)

var log = logging.Logger("pilot/dht")

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no valid record for the address was found in time.
	ErrNotFound = errors.New("address not found")
	// ErrAmbiguous: more than one key claims the address.
	ErrAmbiguous = errors.New("address is ambiguous")
	// ErrPinMismatch: the record names another peer than the pinned one.
	ErrPinMismatch = errors.New("address is pinned to another peer")
)

// Mode is the DHT mode.
type Mode string

// DHT modes. Server answers queries and holds records; client only asks.
const (
	ModeServer Mode = "server"
	ModeClient Mode = "client"
	// ModeAuto starts as a client and becomes a server when AutoNAT finds
	// the node publicly reachable.
	ModeAuto Mode = "auto"
)

// Config configures the DHT. The zero value of every field means its
// documented default.
type Config struct {
	// ProtocolPrefix of the DHT protocols. Default "/pilot"; a private
	// swarm uses its own.
	ProtocolPrefix string
	// Mode, default ModeAuto.
	Mode Mode
	// Bootstrap peers the DHT falls back to when its table is empty.
	// Default none.
	Bootstrap []peer.AddrInfo
	// Datastore for records and pins. Default: in memory (lost on close).
	Datastore ds.Batching
	// AnnounceAddrs returns the multiaddrs to publish in the address
	// record. Default: the host's addresses.
	AnnounceAddrs func() []ma.Multiaddr
	// RepublishInterval between publications of the address record.
	// Default 10 minutes; records expire after MaxRecordAge.
	RepublishInterval time.Duration
	// MaxRecordAge after which stored records of others are dropped.
	// Default 48 hours.
	MaxRecordAge time.Duration
	// ResolveQuorum is how many peers must answer a lookup before the best
	// record is taken. Default 3.
	ResolveQuorum int
	// ResolveTimeout bounds one resolution. Default 20 seconds.
	ResolveTimeout time.Duration

	// kadOptions are appended to kad-dht's options (tests).
	kadOptions []kaddht.Option
}

func (c *Config) applyDefaults(h host.Host) {
	if c.ProtocolPrefix == "" {
		c.ProtocolPrefix = "/pilot"
	}
	if c.Mode == "" {
		c.Mode = ModeAuto
	}
	if c.Datastore == nil {
		c.Datastore = dssync.MutexWrap(ds.NewMapDatastore())
	}
	if c.AnnounceAddrs == nil {
		c.AnnounceAddrs = h.Addrs
	}
	if c.RepublishInterval <= 0 {
		c.RepublishInterval = 10 * time.Minute
	}
	if c.MaxRecordAge <= 0 {
		c.MaxRecordAge = 48 * time.Hour
	}
	if c.ResolveQuorum <= 0 {
		c.ResolveQuorum = 3
	}
	if c.ResolveTimeout <= 0 {
		c.ResolveTimeout = 20 * time.Second
	}
}

// DHT is a running Pilot DHT for one host.
type DHT struct {
	cfg       Config
	h         host.Host
	priv      crypto.PrivKey
	self      addressing.Addr
	kad       *kaddht.IpfsDHT
	validator *Validator
	pins      *PinStore

	publishNow chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error

	mu        sync.Mutex
	lastSeq   uint64
	published publishState

	profile profileState // the node's own profile (names.go)
}

// New creates the DHT on h, whose identity key is priv. It starts kad-dht's
// own background work at once; call Start to begin publishing.
func New(h host.Host, priv crypto.PrivKey, cfg Config) (*DHT, error) {
	cfg.applyDefaults(h)
	self, err := addressing.FromPublicKey(priv.GetPublic())
	if err != nil {
		return nil, fmt.Errorf("dht: %w", err)
	}
	var mode kaddht.ModeOpt
	switch cfg.Mode {
	case ModeServer:
		mode = kaddht.ModeServer
	case ModeClient:
		mode = kaddht.ModeClient
	case ModeAuto:
		mode = kaddht.ModeAuto
	default:
		return nil, fmt.Errorf("dht: unknown mode %q (want server, client or auto)", cfg.Mode)
	}
	v := NewValidator()
	opts := []kaddht.Option{
		kaddht.ProtocolPrefix(protocol.ID(cfg.ProtocolPrefix)),
		kaddht.Mode(mode),
		kaddht.Datastore(cfg.Datastore),
		kaddht.NamespacedValidator(Namespace, v),
		kaddht.MaxRecordAge(cfg.MaxRecordAge),
	}
	if len(cfg.Bootstrap) > 0 {
		opts = append(opts, kaddht.BootstrapPeers(cfg.Bootstrap...))
	}
	opts = append(opts, cfg.kadOptions...)
	kad, err := kaddht.New(h, opts...)
	if err != nil {
		return nil, fmt.Errorf("dht: start kad-dht: %w", err)
	}
	return &DHT{
		cfg:        cfg,
		h:          h,
		priv:       priv,
		self:       self,
		kad:        kad,
		validator:  v,
		pins:       NewPinStore(cfg.Datastore),
		publishNow: make(chan struct{}, 1),
	}, nil
}

// Start begins publishing the node's address record: now, whenever the
// host's addresses change, when the routing table gains its first peer, and
// every RepublishInterval. It does not block.
func (d *DHT) Start(ctx context.Context) error {
	ctx, d.cancel = context.WithCancel(ctx)
	sub, err := d.subscribeAddrChanges()
	if err != nil {
		d.cancel()
		return err
	}
	d.wg.Add(2)
	go d.forwardAddrChanges(ctx, sub)
	go d.publishLoop(ctx)
	if err := d.kad.Bootstrap(ctx); err != nil {
		log.Debugw("bootstrap", "err", err)
	}
	return nil
}

// Close stops publishing and the DHT. It is idempotent.
func (d *DHT) Close() error {
	d.closeOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		d.closeErr = d.kad.Close()
	})
	return d.closeErr
}

// Kad exposes the underlying kad-dht (for provider records and routing).
func (d *DHT) Kad() *kaddht.IpfsDHT { return d.kad }

// Pins returns the pin store.
func (d *DHT) Pins() *PinStore { return d.pins }

// Validator returns the record validator in use.
func (d *DHT) Validator() *Validator { return d.validator }

// Mode reports the DHT's current mode: "server" or "client".
func (d *DHT) Mode() Mode {
	if d.kad.Mode() == kaddht.ModeServer {
		return ModeServer
	}
	return ModeClient
}

// RoutingTableSize is the number of peers in the routing table.
func (d *DHT) RoutingTableSize() int { return d.kad.RoutingTable().Size() }

// Self returns the node's own address.
func (d *DHT) Self() addressing.Addr { return d.self }

// HoldsRecord reports whether this node's own share of the DHT (its
// datastore, not the network) holds a record under key. It mirrors
// kad-dht v0.42's value-store key layout: "/<namespace>/<base32 of key>".
func (d *DHT) HoldsRecord(ctx context.Context, key string) (bool, error) {
	ns, _, err := record.SplitKey(key)
	if err != nil {
		return false, fmt.Errorf("dht: %w", err)
	}
	has, err := d.cfg.Datastore.Has(ctx, ds.NewKey("/"+ns+"/"+base32.RawStdEncoding.EncodeToString([]byte(key))))
	if err != nil {
		return false, fmt.Errorf("dht: look up %s locally: %w", key, err)
	}
	return has, nil
}
