package dht

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// publishState is what the last publication achieved.
type publishState struct {
	At      time.Time
	Seq     uint64
	Addrs   int
	Err     error
	Reached bool // at least one other peer took the record
}

// LastPublish reports the outcome of the most recent publication.
func (d *DHT) LastPublish() (at time.Time, seq uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.published.At, d.published.Seq, d.published.Err
}

// Republish asks the publisher to publish now; it does not wait.
func (d *DHT) Republish() {
	select {
	case d.publishNow <- struct{}{}:
	default:
	}
}

func (d *DHT) subscribeAddrChanges() (event.Subscription, error) {
	sub, err := d.h.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		return nil, fmt.Errorf("dht: subscribe to address changes: %w", err)
	}
	return sub, nil
}

func (d *DHT) forwardAddrChanges(ctx context.Context, sub event.Subscription) {
	defer d.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-sub.Out():
			if !ok {
				return
			}
			d.Republish()
		}
	}
}

// publishLoop publishes at start and on every trigger. While no peer has
// taken the record (the first node of a mesh, or a failed attempt) it
// retries with backoff; an attempt made with an empty routing table is
// also retried as soon as the table gains a peer. Only that one: retrying
// every failure at once would turn a loaded network's slow lookups into a
// storm of publications (measured: 1,000 nodes on one machine kept ~560
// publications in flight, all retrying). The same half-second look at the
// table refills it from the connected DHT servers while it is empty
// (refill.go).
func (d *DHT) publishLoop(ctx context.Context) {
	defer d.wg.Done()
	const minRetry, checkEvery = time.Second, 500 * time.Millisecond
	retry := minRetry
	next := time.Now()
	check := time.NewTicker(checkEvery)
	defer check.Stop()
	reached, alone := false, false
	for {
		if !time.Now().Before(next) {
			alone = d.RoutingTableSize() == 0
			reached = d.publish(ctx)
			if reached {
				retry = minRetry
				next = time.Now().Add(d.cfg.RepublishInterval)
			} else {
				next = time.Now().Add(retry)
				retry = min(2*retry, d.cfg.RepublishInterval)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.publishNow:
			next = time.Now()
		case <-check.C:
			size := d.RoutingTableSize()
			if size == 0 {
				if k := d.refill(); k > 0 {
					log.Debugw("routing table was empty: added connected DHT servers", "peers", k)
					size = k
				}
			}
			if !reached && alone && size > 0 {
				next = time.Now()
			}
		}
	}
}

// publish signs a fresh record and puts it; it reports whether any other
// peer stored it.
func (d *DHT) publish(ctx context.Context) bool {
	addrs := d.cfg.AnnounceAddrs()
	d.mu.Lock()
	seq := max(peer.TimestampSeq(), d.lastSeq+1)
	d.lastSeq = seq
	d.mu.Unlock()

	err := d.putRecord(ctx, addrs, seq)
	perr := d.publishProfile(ctx) // profile record and name/tag providers, if set
	reached := err == nil && perr == nil && d.RoutingTableSize() > 0
	d.mu.Lock()
	d.published = publishState{At: time.Now(), Seq: seq, Addrs: len(addrs), Err: err, Reached: reached}
	d.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		log.Debugw("publish address record", "addr", d.self, "seq", seq, "err", err)
	} else if err == nil {
		log.Debugw("published address record", "addr", d.self, "seq", seq, "addrs", len(addrs))
	}
	return reached
}

func (d *DHT) putRecord(ctx context.Context, addrs []ma.Multiaddr, seq uint64) error {
	val, err := SignAddrRecord(d.priv, addrs, seq)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.kad.PutValue(ctx, AddrKey(d.self), val); err != nil {
		return fmt.Errorf("dht: publish %s: %w", d.self, err)
	}
	return nil
}
