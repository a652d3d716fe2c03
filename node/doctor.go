package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/reputation"
)

// The doctor (`pilot doctor`, docs/observability.md): the node checks
// itself and says, for every check that is not ok, what to fix.

// Check statuses, from best to worst.
const (
	DoctorOK   = "ok"
	DoctorWarn = "warn"
	DoctorFail = "fail"
)

// DoctorCheck is the outcome of one check.
type DoctorCheck struct {
	// Name is reachability, relay, dht, clock or store.
	Name string
	// Status is DoctorOK, DoctorWarn or DoctorFail.
	Status string
	// Summary says what was found, in one sentence.
	Summary string
	// Fix says what to do; empty when Status is DoctorOK.
	Fix string
	// Details are the measurements behind the verdict.
	Details map[string]string
}

// DoctorReport is the outcome of every check.
type DoctorReport struct {
	// Status is the worst status of the checks.
	Status string
	Checks []DoctorCheck
	At     time.Time
}

// Doctor thresholds.
const (
	// doctorLookupTimeout bounds the DHT test lookup.
	doctorLookupTimeout = 10 * time.Second
	// doctorRelayGrace is how long after start a private node without a
	// relay reservation is a warning, not yet a failure.
	doctorRelayGrace = 2 * time.Minute
	// doctorDiskWarn and doctorDiskFail are the free-space levels in home.
	doctorDiskWarn = 1 << 30
	doctorDiskFail = 100 << 20
	// doctorSkewWarn is the clock offset worth a warning; from
	// reputation.DefaultMaxSkew on, attestations and tasks this node dates
	// are refused by others (or theirs by it), a failure.
	doctorSkewWarn = time.Second
	doctorSkewFail = reputation.DefaultMaxSkew
)

// Doctor runs every check. The DHT lookup and the clock exchange run in
// parallel; the whole takes at most about doctorLookupTimeout.
func (n *Node) Doctor(ctx context.Context) (DoctorReport, error) {
	if err := n.running(); err != nil {
		return DoctorReport{}, err
	}
	rep := DoctorReport{At: time.Now()}
	var dhtCheck, clockCheck DoctorCheck
	var wg sync.WaitGroup
	wg.Go(func() { dhtCheck = n.checkDHT(ctx) })
	wg.Go(func() { clockCheck = n.checkClock(ctx) })
	rep.Checks = append(rep.Checks, n.checkReachability(), n.checkRelay())
	wg.Wait()
	rep.Checks = append(rep.Checks, dhtCheck, clockCheck, n.checkStore())
	rep.Status = DoctorOK
	for _, c := range rep.Checks {
		rep.Status = worse(rep.Status, c.Status)
	}
	return rep, nil
}

func worse(a, b string) string {
	rank := map[string]int{DoctorOK: 0, DoctorWarn: 1, DoctorFail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// checkReachability: what AutoNAT says, and the addresses the node
// listens on and announces.
func (n *Node) checkReachability() DoctorCheck {
	c := DoctorCheck{Name: "reachability", Details: map[string]string{}}
	reach := n.Reachability()
	listen := n.host.Network().ListenAddresses()
	c.Details["reachability"] = reach
	c.Details["nat"] = n.NATGuess()
	c.Details["listen_addrs"] = joinAddrs(listen)
	c.Details["published_addrs"] = strings.Join(n.PublishedAddrs(), " ")
	reachable, unreachable := n.ConfirmedAddrs()
	c.Details["reachable_addrs"] = joinAddrs(reachable)
	c.Details["unreachable_addrs"] = joinAddrs(unreachable)
	switch {
	case len(listen) == 0:
		c.Status, c.Summary = DoctorFail, "the node listens on no address"
		c.Fix = "check the --listen addresses (is the port taken by another process?) and restart"
	case reach == "public":
		c.Status, c.Summary = DoctorOK, "public: AutoNAT confirmed other nodes can dial this one directly"
	case reach == "private" && (n.cfg.Public || n.cfg.Anchor):
		c.Status, c.Summary = DoctorFail, "announced as public, but AutoNAT finds this node unreachable from outside"
		c.Fix = "forward or open the listen port (TCP and UDP) to this machine, or run without --public so the node uses relays"
	case reach == "private":
		c.Status, c.Summary = DoctorOK, "private: not reachable directly, as expected; other nodes reach it through relays (see relay)"
	default:
		c.Status, c.Summary = DoctorWarn, "unknown: AutoNAT has not decided yet whether other nodes can dial this one"
		c.Fix = "wait a few minutes after start; AutoNAT needs several connected peers (anchors) to dial back - join more with --bootstrap"
	}
	return c
}

// checkRelay: a private node needs a live relay reservation to be
// reachable at all.
func (n *Node) checkRelay() DoctorCheck {
	c := DoctorCheck{Name: "relay", Details: map[string]string{}}
	if !n.cfg.private() {
		c.Status, c.Summary = DoctorOK, "not needed: this node announces direct addresses"
		return c
	}
	res := n.RelayReservations()
	exp := n.relayExpiries()
	c.Details["reservations"] = strconv.Itoa(len(res))
	for _, p := range res {
		until := "unknown"
		if t, ok := exp[p]; ok {
			until = t.UTC().Format(time.RFC3339) + " (in " + time.Until(t).Round(time.Second).String() + ")"
		}
		c.Details["relay "+p.String()] = "expires " + until
	}
	switch {
	case len(res) > 0:
		c.Status, c.Summary = DoctorOK, fmt.Sprintf("%s: other nodes reach this private node through them", count(len(res), "relay reservation"))
	case time.Since(n.startedAt) < doctorRelayGrace:
		c.Status, c.Summary = DoctorWarn, "no relay reservation yet: other nodes cannot reach this private node"
		c.Fix = "wait a minute: the node reserves a slot on the anchors it joined through and on relays it finds in the DHT"
	default:
		c.Status, c.Summary = DoctorFail, "no relay reservation: other nodes cannot reach this private node"
		c.Fix = "join through an anchor, which runs the relay service (pilot up --bootstrap <anchor multiaddr>), or run with --public if this machine is reachable"
	}
	return c
}

// checkDHT: the routing table, a network lookup of the peers closest to
// this node, and a lookup of its own address record.
func (n *Node) checkDHT(ctx context.Context) DoctorCheck {
	c := DoctorCheck{Name: "dht", Details: map[string]string{}}
	size := n.dht.RoutingTableSize()
	c.Details["mode"] = string(n.dht.Mode())
	c.Details["routing_table_size"] = strconv.Itoa(size)
	ctx, cancel := context.WithTimeout(ctx, doctorLookupTimeout)
	defer cancel()
	closest, cerr := n.dht.Kad().GetClosestPeers(ctx, string(n.id))
	c.Details["closest_peers"] = strconv.Itoa(len(closest))
	res, rerr := n.dht.Resolve(ctx, n.addr)
	if rerr == nil {
		c.Details["own_record"] = fmt.Sprintf("found: seq %d, %d address(es)", res.Record.Seq, len(res.Record.Addrs))
	} else {
		c.Details["own_record"] = "not found: " + rerr.Error()
	}
	switch {
	case size == 0 && n.dht.Mode() == "server" && len(n.host.Network().Peers()) > 0:
		// Peers that are DHT clients are never in the table: a lone
		// anchor serves them, but holds every record alone.
		c.Status, c.Summary = DoctorWarn, "no other DHT server in the routing table: this node serves the DHT alone (its connected peers are clients) and every record lives only here"
		c.Fix = "run a second anchor or public node and bootstrap each from the other (docs/dht.md), so records survive this node"
	case size == 0:
		c.Status, c.Summary = DoctorFail, "the DHT routing table is empty: this node can resolve no one, and no one can resolve it"
		c.Fix = "join a mesh through a reachable node: pilot up --bootstrap <multiaddr>/p2p/<peer-id> (pilot bootstrap add keeps it)"
	case rerr != nil:
		c.Status, c.Summary = DoctorFail, "the lookup of this node's own address record failed: others cannot resolve it"
		c.Fix = "wait for the next publication (every 10 minutes by default) and check the log for publish errors; the DHT peers must be reachable"
	case cerr != nil || len(closest) == 0:
		c.Status, c.Summary = DoctorWarn, "the routing table has peers, but a network lookup of the closest ones returned none"
		c.Fix = "check connectivity to the DHT peers (pilot peers); they may have gone away"
		if cerr != nil {
			c.Details["closest_peers_error"] = cerr.Error()
		}
	default:
		c.Status, c.Summary = DoctorOK, fmt.Sprintf("%s in the routing table; own address record resolves", count(size, "peer"))
	}
	return c
}

// checkClock compares this node's clock with its connected peers' (the
// time exchange in doctor_clock.go) and reports the median offset.
func (n *Node) checkClock(ctx context.Context) DoctorCheck {
	c := DoctorCheck{Name: "clock", Details: map[string]string{}}
	samples, asked := n.clockSamples(ctx)
	c.Details["peers_asked"] = strconv.Itoa(asked)
	c.Details["peers_answered"] = strconv.Itoa(len(samples))
	if len(samples) == 0 {
		c.Status = DoctorWarn
		if asked == 0 {
			c.Summary = "no connected peer to compare the clock with"
			c.Fix = "join a mesh (pilot up --bootstrap ...) and run pilot doctor again"
		} else {
			c.Summary = "no connected peer answered the time exchange (older versions do not serve it)"
			c.Fix = "keep the system clock synchronised (NTP: timedatectl, chrony) and run pilot doctor again later"
		}
		return c
	}
	slices.SortFunc(samples, func(a, b clockSample) int { return cmp.Compare(a.offset, b.offset) })
	med := samples[len(samples)/2]
	c.Details["offset"] = med.offset.Round(time.Millisecond).String()
	c.Details["uncertainty"] = "±" + med.uncertainty.Round(time.Millisecond).String()
	c.Details["offset_range"] = samples[0].offset.Round(time.Millisecond).String() + " to " + samples[len(samples)-1].offset.Round(time.Millisecond).String()
	skew := max(abs(med.offset)-med.uncertainty, 0) // the least the skew can be
	switch {
	case skew >= doctorSkewFail:
		c.Status, c.Summary = DoctorFail, fmt.Sprintf("this clock is %s off the median of %s: attestations and tasks dated by it are refused", med.offset.Round(time.Second), count(len(samples), "peer"))
		c.Fix = "synchronise the system clock (NTP: timedatectl set-ntp true, or chrony)"
	case skew >= doctorSkewWarn:
		c.Status, c.Summary = DoctorWarn, fmt.Sprintf("this clock is %s off the median of %s", med.offset.Round(time.Millisecond), count(len(samples), "peer"))
		c.Fix = "synchronise the system clock (NTP: timedatectl set-ntp true, or chrony); from " + doctorSkewFail.String() + " off, others refuse what it dates"
	default:
		c.Status, c.Summary = DoctorOK, fmt.Sprintf("within %s of the median of %s", doctorSkewWarn, count(len(samples), "peer"))
	}
	return c
}

// joinAddrs is the text form of addrs, separated by spaces.
func joinAddrs(addrs []ma.Multiaddr) string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return strings.Join(out, " ")
}

// count is "1 peer", "2 peers".
func count(k int, noun string) string {
	if k == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(k) + " " + noun + "s"
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// checkStore: the Badger store answers a read, its size, the free space
// in home, and the last value-log GC.
func (n *Node) checkStore() DoctorCheck {
	c := DoctorCheck{Name: "store", Details: map[string]string{}}
	if n.db.IsClosed() {
		c.Status, c.Summary, c.Fix = DoctorFail, "the store is closed", "restart the daemon; the log on stderr says why the store closed"
		return c
	}
	err := n.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte("/doctor/probe"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		c.Status, c.Summary = DoctorFail, "the store does not answer a read: "+err.Error()
		c.Fix = "stop the daemon, check the disk and <home>/store, and restart"
		return c
	}
	lsm, vlog := n.db.Size()
	c.Details["size_bytes"] = strconv.FormatInt(lsm+vlog, 10)
	if t := n.metrics.lastStoreGC(); t.IsZero() {
		c.Details["last_gc"] = "not yet (every 10 minutes)"
	} else {
		c.Details["last_gc"] = t.UTC().Format(time.RFC3339)
	}
	if n.cfg.InMemory {
		c.Status, c.Summary = DoctorOK, "in memory; nothing is written to disk"
		return c
	}
	c.Details["path"] = n.cfg.Home
	free, ok := freeDisk(n.cfg.Home)
	if !ok {
		c.Status, c.Summary = DoctorOK, "opens and answers; free disk space unknown on this system"
		return c
	}
	c.Details["free_bytes"] = strconv.FormatUint(free, 10)
	switch {
	case free < doctorDiskFail:
		c.Status, c.Summary = DoctorFail, fmt.Sprintf("only %d MiB free in %s: the store will fail to write", free>>20, n.cfg.Home)
		c.Fix = "free disk space on that filesystem, or move --home to a bigger one"
	case free < doctorDiskWarn:
		c.Status, c.Summary = DoctorWarn, fmt.Sprintf("%d MiB free in %s", free>>20, n.cfg.Home)
		c.Fix = "free disk space on that filesystem soon, or move --home to a bigger one"
	default:
		c.Status, c.Summary = DoctorOK, fmt.Sprintf("opens and answers; %d MiB used, %d GiB free", (lsm+vlog)>>20, free>>30)
	}
	return c
}

// relayExpiries are when the live relay reservations end.
func (n *Node) relayExpiries() map[peer.ID]time.Time {
	if n.natKeeper == nil {
		return nil
	}
	k := n.natKeeper
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[peer.ID]time.Time, len(k.expiry))
	for p, t := range k.expiry {
		out[p] = t
	}
	return out
}

// setExpiry records when the reservation on anchor ends.
func (k *relayKeeper) setExpiry(anchor peer.ID, t time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.expiry == nil {
		k.expiry = make(map[peer.ID]time.Time)
	}
	k.expiry[anchor] = t
}

// Doctor implements localapi.DoctorBackend.
func (b apiBackend) Doctor(ctx context.Context) (localapi.Doctor, error) {
	rep, err := b.n.Doctor(ctx)
	if err != nil {
		return localapi.Doctor{}, apiError(err)
	}
	out := localapi.Doctor{Health: rep.Status, CheckedAt: rep.At.UTC(), Checks: make([]localapi.DoctorCheck, 0, len(rep.Checks))}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, localapi.DoctorCheck{Name: c.Name, Status: c.Status, Summary: c.Summary, Fix: c.Fix, Details: c.Details})
	}
	return out, nil
}
