package dht

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/pilot-agents/pilot/addressing"
)

// Limits on names.
const (
	// MaxHostnameLen bounds a hostname (a DNS label's limit).
	MaxHostnameLen = 63
	// MaxTagLen bounds a tag.
	MaxTagLen = 32
)

// ErrInvalidName is wrapped by ValidHostname and ValidTag errors.
var ErrInvalidName = errors.New("invalid name")

// ValidHostname reports whether s may be a node's hostname: 1 to 63
// characters of a-z, 0-9 and '-', not starting or ending with '-', and not
// something that parses as a Pilot address (so a hostname never shadows an
// address where either is accepted). The error wraps ErrInvalidName.
func ValidHostname(s string) error {
	if err := validLabel("hostname", s, MaxHostnameLen); err != nil {
		return err
	}
	if _, err := addressing.Parse(s); err == nil {
		return fmt.Errorf("%w: hostname %q would read as a Pilot address; choose another", ErrInvalidName, s)
	}
	return nil
}

// ValidTag reports whether s may be a tag: 1 to 32 characters of a-z, 0-9
// and '-', not starting or ending with '-'. The error wraps ErrInvalidName.
func ValidTag(s string) error { return validLabel("tag", s, MaxTagLen) }

func validLabel(kind, s string, maxLen int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidName, kind)
	case len(s) > maxLen:
		return fmt.Errorf("%w: %s %.20q... is %d characters, over the %d limit", ErrInvalidName, kind, s, len(s), maxLen)
	case s[0] == '-' || s[len(s)-1] == '-':
		return fmt.Errorf("%w: %s %q must not start or end with '-'", ErrInvalidName, kind, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' {
			continue
		}
		hint := ""
		if 'A' <= c && c <= 'Z' {
			hint = " (use lower case)"
		}
		return fmt.Errorf("%w: %s %q: character %q at position %d is not allowed; use only a-z, 0-9 and '-'%s",
			ErrInvalidName, kind, s, rune(c), i+1, hint)
	}
	return nil
}

// NameCID is the CID whose providers claim hostname name: CID v1, raw
// codec, sha2-256 of "pilot:name:<name>".
func NameCID(name string) cid.Cid { return stringCID("pilot:name:" + name) }

// TagCID is the CID whose providers claim tag: CID v1, raw codec, sha2-256
// of "pilot:tag:<tag>".
func TagCID(tag string) cid.Cid { return stringCID("pilot:tag:" + tag) }

func stringCID(s string) cid.Cid {
	// Sum fails only for an unknown hash code or bad length; neither here.
	mh, _ := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, mh)
}

// profileState is the node's own profile and what its last publication
// achieved. It is safe for concurrent use.
type profileState struct {
	mu      sync.Mutex
	info    ProfileInfo
	set     bool
	lastSeq uint64
	lastAt  time.Time
	lastErr error
	// doneInfo was fully published (record and providers) at doneAt.
	doneInfo ProfileInfo
	doneAt   time.Time
}

func sameProfile(a, b ProfileInfo) bool {
	return a.Hostname == b.Hostname && a.Version == b.Version &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Ports, b.Ports)
}

// SetProfile sets the profile this node publishes (hostname, tags, public
// ports, version) and triggers a publication; it does not wait for it. Tags
// and ports are sorted and de-duplicated first; an invalid profile is
// refused with an error wrapping ErrInvalidName for a bad hostname or tag.
// The profile lives in memory: the caller persists it and sets it again
// after a restart. A zero ProfileInfo still publishes a (blank) record,
// which withdraws an earlier hostname and tags.
func (d *DHT) SetProfile(p ProfileInfo) error {
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return fmt.Errorf("dht: set profile: %w", err)
	}
	d.profile.mu.Lock()
	d.profile.info, d.profile.set = p, true
	d.profile.mu.Unlock()
	d.Republish()
	return nil
}

// Profile returns the profile set by SetProfile; ok is false when none was.
func (d *DHT) Profile() (p ProfileInfo, ok bool) {
	d.profile.mu.Lock()
	defer d.profile.mu.Unlock()
	p = d.profile.info
	p.Tags = append([]string(nil), p.Tags...)
	p.Ports = append([]uint16(nil), p.Ports...)
	return p, d.profile.set
}

// LastProfilePublish reports the outcome of the most recent publication of
// the profile record and its provider records (zero when none yet).
func (d *DHT) LastProfilePublish() (at time.Time, seq uint64, err error) {
	d.profile.mu.Lock()
	defer d.profile.mu.Unlock()
	return d.profile.lastAt, d.profile.lastSeq, d.profile.lastErr
}

// provideConcurrency bounds the provider records put at once.
const provideConcurrency = 4

// publishProfile signs a fresh profile record and puts it, then provides
// the CIDs of the hostname and every tag (provider records expire, so this
// runs on every periodic publication). Without a profile it does nothing.
// An unchanged profile fully published less than half a RepublishInterval
// ago is skipped, so that address changes (which also trigger publication)
// do not re-provide every tag each time.
func (d *DHT) publishProfile(ctx context.Context) error {
	d.profile.mu.Lock()
	info, set := d.profile.info, d.profile.set
	fresh := sameProfile(info, d.profile.doneInfo) && !d.profile.doneAt.IsZero() &&
		time.Since(d.profile.doneAt) < d.cfg.RepublishInterval/2
	seq := max(peer.TimestampSeq(), d.profile.lastSeq+1)
	if set && !fresh {
		d.profile.lastSeq = seq
	}
	d.profile.mu.Unlock()
	if !set || fresh {
		return nil
	}
	err := d.putProfile(ctx, info, seq)
	if err == nil {
		err = d.provideNames(ctx, info)
	}
	d.profile.mu.Lock()
	d.profile.lastAt, d.profile.lastErr = time.Now(), err
	if err == nil {
		d.profile.doneInfo, d.profile.doneAt = info, d.profile.lastAt
	}
	d.profile.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		log.Debugw("publish profile", "addr", d.self, "seq", seq, "err", err)
	} else if err == nil {
		log.Debugw("published profile", "addr", d.self, "seq", seq, "hostname", info.Hostname, "tags", len(info.Tags))
	}
	return err
}

func (d *DHT) putProfile(ctx context.Context, info ProfileInfo, seq uint64) error {
	val, err := SignProfile(d.priv, info, seq)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.kad.PutValue(ctx, ProfileKey(d.self), val); err != nil {
		return fmt.Errorf("dht: publish profile of %s: %w", d.self, err)
	}
	return nil
}

// provideNames announces this node as a provider of the hostname's and
// every tag's CID, a few at a time.
func (d *DHT) provideNames(ctx context.Context, info ProfileInfo) error {
	type announcement struct {
		what string
		c    cid.Cid
	}
	var claims []announcement
	if info.Hostname != "" {
		claims = append(claims, announcement{"hostname " + info.Hostname, NameCID(info.Hostname)})
	}
	for _, t := range info.Tags {
		claims = append(claims, announcement{"tag " + t, TagCID(t)})
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	errs := make([]error, len(claims))
	sem := make(chan struct{}, provideConcurrency)
	var wg sync.WaitGroup
	for i, cl := range claims {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := d.kad.Provide(ctx, cl.c, true); err != nil {
				errs[i] = fmt.Errorf("dht: provide %s: %w", cl.what, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
