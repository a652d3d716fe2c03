package dht

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// ErrAmbiguousName: several claimants of a hostname and nothing (a pin or
// trust) to choose between them. It also matches ErrAmbiguous.
var ErrAmbiguousName error = &childError{msg: "hostname is ambiguous", parent: ErrAmbiguous}

// Limits on one find.
const (
	// MaxFindProviders bounds the providers one find collects and verifies.
	MaxFindProviders = 128
	// verifyConcurrency bounds the profile lookups run at once.
	verifyConcurrency = 8
)

// Ranker ranks the claimants of a hostname or tag. The DHT knows nothing of
// trust or reputation, so the caller (the node) brings them. A nil Ranker
// trusts nobody and scores everyone 0. Its methods are called one at a time
// from the goroutine that called FindName or FindTag and must not block.
type Ranker interface {
	// Trusted reports whether the operator trusts the peer.
	Trusted(peer.ID) bool
	// Score is the peer's Polo score; higher ranks first.
	Score(peer.ID) float64
}

// Claimant is a verified claimant of a hostname or tag: a peer whose signed
// profile record carries it.
type Claimant struct {
	Addr     addressing.Addr
	PeerID   peer.ID
	Hostname string
	Tags     []string
	Ports    []uint16
	Version  string
	// Trusted: the Ranker trusts the peer.
	Trusted bool
	// Pinned: the pin store ties Addr to PeerID.
	Pinned bool
	// Score from the Ranker (Polo).
	Score float64
}

func (c Claimant) ranked() bool { return c.Trusted || c.Pinned }

func (c Claimant) String() string {
	var marks []string
	if c.Pinned {
		marks = append(marks, "pinned")
	}
	if c.Trusted {
		marks = append(marks, "trusted")
	}
	marks = append(marks, fmt.Sprintf("polo %.2f", c.Score))
	return fmt.Sprintf("%s (peer %s, %s)", c.Addr, c.PeerID, strings.Join(marks, ", "))
}

// FindName returns every verified claimant of hostname name, ranked: pinned
// or trusted first, then by score, then by address. A provider record is
// only a hint (it is unsigned): a claimant is kept only when its signed
// profile record carries the name. The provider search is bounded by
// ResolveTimeout and so is each profile lookup, which run concurrently as
// providers arrive. With no verified claimant the error wraps ErrNotFound;
// an invalid name wraps ErrInvalidName.
func (d *DHT) FindName(ctx context.Context, name string, rank Ranker) ([]Claimant, error) {
	if err := ValidHostname(name); err != nil {
		return nil, fmt.Errorf("dht: find hostname: %w", err)
	}
	return d.find(ctx, fmt.Sprintf("hostname %q", name), NameCID(name),
		func(p ProfileInfo) bool { return p.Hostname == name }, rank)
}

// FindTag is FindName for a tag: every verified node whose signed profile
// lists tag, ranked the same way.
func (d *DHT) FindTag(ctx context.Context, tag string, rank Ranker) ([]Claimant, error) {
	if err := ValidTag(tag); err != nil {
		return nil, fmt.Errorf("dht: find tag: %w", err)
	}
	return d.find(ctx, fmt.Sprintf("tag %q", tag), TagCID(tag),
		func(p ProfileInfo) bool { return slices.Contains(p.Tags, tag) }, rank)
}

func (d *DHT) find(ctx context.Context, what string, c cid.Cid, claims func(ProfileInfo) bool, rank Ranker) ([]Claimant, error) {
	searchCtx, cancel := context.WithTimeout(ctx, d.cfg.ResolveTimeout)
	defer cancel()

	var (
		mu       sync.Mutex
		verified []*ProfileRecord
		wg       sync.WaitGroup
		sem      = make(chan struct{}, verifyConcurrency)
		seen     = make(map[peer.ID]bool)
	)
	// Keep draining the provider channel (a stalled reader stalls the
	// lookup); each provider is verified in its own goroutine.
	for p := range d.kad.FindProvidersAsync(searchCtx, c, MaxFindProviders) {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		wg.Add(1)
		go func(id peer.ID) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			rec, err := d.fetchProfile(ctx, id)
			switch {
			case err != nil:
				log.Debugw("provider without a verifiable profile", "find", what, "peer", id, "err", err)
			case !claims(rec.Info):
				log.Debugw("provider's signed profile does not claim it", "find", what, "peer", id)
			default:
				mu.Lock()
				verified = append(verified, rec)
				mu.Unlock()
			}
		}(p.ID)
	}
	searchErr := searchCtx.Err()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dht: find %s: %w", what, err)
	}

	out := make([]Claimant, 0, len(verified))
	for _, rec := range verified {
		cl, ok := d.claimant(ctx, rec, rank)
		if ok {
			out = append(out, cl)
		}
	}
	if len(out) == 0 {
		if errors.Is(searchErr, context.DeadlineExceeded) {
			return nil, fmt.Errorf("dht: find %s: %w: no verified claimant within %s", what, ErrNotFound, d.cfg.ResolveTimeout)
		}
		return nil, fmt.Errorf("dht: find %s: %w: no verified claimant", what, ErrNotFound)
	}
	SortClaimants(out)
	return out, nil
}

// claimant ranks a verified record. A record for an address pinned to
// another peer is dropped: Resolve would refuse that address anyway.
func (d *DHT) claimant(ctx context.Context, rec *ProfileRecord, rank Ranker) (Claimant, bool) {
	cl := Claimant{
		Addr: rec.Addr, PeerID: rec.PeerID, Hostname: rec.Info.Hostname,
		Tags: rec.Info.Tags, Ports: rec.Info.Ports, Version: rec.Info.Version,
	}
	pin, ok, err := d.pins.Get(ctx, rec.Addr)
	switch {
	case err != nil:
		log.Warnw("reading pin for a claimant", "addr", rec.Addr, "err", err)
	case ok && pin.PeerID != rec.PeerID:
		log.Errorw("claimant's address is PINNED TO ANOTHER PEER: dropping it", "addr", rec.Addr,
			"pinned", pin.PeerID, "claimant", rec.PeerID)
		return Claimant{}, false
	case ok:
		cl.Pinned = true
	}
	if rank != nil {
		cl.Trusted = rank.Trusted(rec.PeerID)
		if s := rank.Score(rec.PeerID); !math.IsNaN(s) {
			cl.Score = s
		}
	}
	return cl, true
}

// SortClaimants orders claimants best first: pinned or trusted, then higher
// score, then lower address (then peer ID, so the order is total).
func SortClaimants(cs []Claimant) {
	slices.SortStableFunc(cs, func(a, b Claimant) int {
		if a.ranked() != b.ranked() {
			if a.ranked() {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := bytes.Compare(a.Addr[:], b.Addr[:]); c != 0 {
			return c
		}
		return strings.Compare(string(a.PeerID), string(b.PeerID))
	})
}

// ResolveName picks the one claimant a command that takes a hostname where
// an address is expected should use: the only claimant; or the one pinned
// or trusted claimant when exactly one is. Several claimants with none, or
// more than one, pinned or trusted is an error wrapping ErrAmbiguousName
// (and so ErrAmbiguous) that lists them; no claimant wraps ErrNotFound.
func ResolveName(claimants []Claimant) (Claimant, error) {
	switch len(claimants) {
	case 0:
		return Claimant{}, fmt.Errorf("dht: %w: no claimant", ErrNotFound)
	case 1:
		return claimants[0], nil
	}
	var ranked []Claimant
	for _, c := range claimants {
		if c.ranked() {
			ranked = append(ranked, c)
		}
	}
	if len(ranked) == 1 {
		return ranked[0], nil
	}
	list := slices.Clone(claimants)
	SortClaimants(list)
	lines := make([]string, len(list))
	for i, c := range list {
		lines[i] = c.String()
	}
	why := "none is pinned or trusted"
	if len(ranked) > 1 {
		why = fmt.Sprintf("%d are pinned or trusted", len(ranked))
	}
	return Claimant{}, fmt.Errorf("dht: %q: %w: %d claimants and %s; use an address: %s",
		list[0].Hostname, ErrAmbiguousName, len(list), why, strings.Join(lines, "; "))
}

// AddrOf reads s as a Pilot address or, failing that, as a hostname that it
// finds and resolves with ResolveName. It is what a command calls wherever
// it accepts an address. ValidHostname refuses names that read as
// addresses, so the two never overlap.
func (d *DHT) AddrOf(ctx context.Context, s string, rank Ranker) (addressing.Addr, error) {
	if a, err := addressing.Parse(s); err == nil {
		return a, nil
	} else if herr := ValidHostname(s); herr != nil {
		return addressing.Addr{}, fmt.Errorf("dht: %q is neither an address (%v) nor a hostname: %w", s, err, herr)
	}
	cs, err := d.FindName(ctx, s, rank)
	if err != nil {
		return addressing.Addr{}, err
	}
	c, err := ResolveName(cs)
	if err != nil {
		return addressing.Addr{}, err
	}
	return c.Addr, nil
}

// FetchProfile looks up a's profile record within ResolveTimeout and
// returns the valid one with the highest seq; ErrNotFound when there is none.
func (d *DHT) FetchProfile(ctx context.Context, a addressing.Addr) (*ProfileRecord, error) {
	return d.searchProfile(ctx, a, "")
}

// fetchProfile is FetchProfile for the address of id, taking only records
// id signed (a key colliding on the address cannot speak for id).
func (d *DHT) fetchProfile(ctx context.Context, id peer.ID) (*ProfileRecord, error) {
	a, err := addressing.FromPeerID(id)
	if err != nil {
		return nil, fmt.Errorf("dht: profile of %s: %w", id, err)
	}
	return d.searchProfile(ctx, a, id)
}

func (d *DHT) searchProfile(ctx context.Context, a addressing.Addr, want peer.ID) (*ProfileRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ResolveTimeout)
	defer cancel()
	key := ProfileKey(a)
	vals, err := d.kad.SearchValue(ctx, key, kaddht.Quorum(d.cfg.ResolveQuorum))
	if err != nil {
		return nil, fmt.Errorf("dht: profile of %s: %w", a, err)
	}
	var best *ProfileRecord
	for v := range vals {
		rec, err := DecodeProfileRecord(key, v, time.Now())
		if err != nil {
			log.Warnw("dropping invalid profile record from lookup", "addr", a, "err", err)
			continue
		}
		if want != "" && rec.PeerID != want {
			continue
		}
		if best == nil || rec.Seq > best.Seq {
			best = rec
		}
	}
	if best == nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("dht: profile of %s: %w: no record within %s", a, ErrNotFound, d.cfg.ResolveTimeout)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dht: profile of %s: %w", a, err)
		}
		return nil, fmt.Errorf("dht: profile of %s: %w", a, ErrNotFound)
	}
	return best, nil
}

// FindTagProviders is the quick form of FindTag: one provider search, no
// profile lookups. It returns up to limit peers (at most MaxFindProviders)
// that announced tag, in the order the DHT gave them, and adds what the
// search learnt of their addresses to the peerstore for a short while.
//
// The peers are not verified claimants: an honest DHT server stores a
// provider record only from the provider itself, but a peer may have
// dropped the tag from its profile since (records live for hours) and a
// dishonest server may answer with any peer IDs. Use it where talking to
// the peer verifies it anyway (its identity is proven by the connection's
// handshake, and a task service declines work it does not offer), and
// FindTag where the signed claim matters. With no provider the error wraps
// ErrNotFound; an invalid tag is refused before any search.
func (d *DHT) FindTagProviders(ctx context.Context, tag string, limit int) ([]peer.ID, error) {
	if err := ValidTag(tag); err != nil {
		return nil, fmt.Errorf("dht: find tag providers: %w", err)
	}
	if limit <= 0 || limit > MaxFindProviders {
		limit = MaxFindProviders
	}
	searchCtx, cancel := context.WithTimeout(ctx, d.cfg.ResolveTimeout)
	defer cancel()
	var out []peer.ID
	seen := make(map[peer.ID]bool)
	for p := range d.kad.FindProvidersAsync(searchCtx, TagCID(tag), limit) {
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p.ID)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dht: find tag providers %q: %w", tag, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dht: find tag providers %q: %w", tag, ErrNotFound)
	}
	return out, nil
}
