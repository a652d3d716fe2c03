package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
)

// profileKey holds the node's hostname and tags in the store, so they are
// published again after a restart.
var profileKey = []byte("/node/profile")

// maxStoredProfile bounds the stored profile; larger is corrupt.
const maxStoredProfile = 8 << 10

// loadProfile reads the stored profile and hands it to the DHT with the
// current version and public ports.
func (n *Node) loadProfile() error {
	var p dht.ProfileInfo
	err := n.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(profileKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error {
			if len(b) > maxStoredProfile {
				return fmt.Errorf("stored profile is %d bytes", len(b))
			}
			return json.Unmarshal(b, &p)
		})
	})
	if err != nil {
		return fmt.Errorf("node: load profile: %w", err)
	}
	return n.publishProfile(p)
}

// publishProfile fills in what the node knows (version, public ports) and
// gives the profile to the DHT.
func (n *Node) publishProfile(p dht.ProfileInfo) error {
	p.Version = Version
	p.Ports = n.PublicPorts()
	if err := n.dht.SetProfile(p); err != nil {
		return fmt.Errorf("node: profile: %w", err)
	}
	return nil
}

// SetProfile changes the hostname (when hostname is not nil) and the tags
// (when tags is not nil), stores them and republishes.
func (n *Node) SetProfile(hostname *string, tags []string) (dht.ProfileInfo, error) {
	if err := n.running(); err != nil {
		return dht.ProfileInfo{}, err
	}
	p, _ := n.dht.Profile()
	if hostname != nil {
		p.Hostname = strings.ToLower(*hostname)
	}
	if tags != nil {
		p.Tags = make([]string, 0, len(tags))
		for _, t := range tags {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				p.Tags = append(p.Tags, t)
			}
		}
	}
	p.Version = Version
	p.Ports = n.PublicPorts()
	if err := p.Normalize().Validate(); err != nil {
		return dht.ProfileInfo{}, fmt.Errorf("node: profile: %w", err)
	}
	stored := dht.ProfileInfo{Hostname: p.Hostname, Tags: p.Tags}
	b, err := json.Marshal(stored)
	if err != nil {
		return dht.ProfileInfo{}, err
	}
	if err := n.db.Update(func(txn *badger.Txn) error { return txn.Set(profileKey, b) }); err != nil {
		return dht.ProfileInfo{}, fmt.Errorf("node: store profile: %w", err)
	}
	if err := n.publishProfile(p); err != nil {
		return dht.ProfileInfo{}, err
	}
	out, _ := n.dht.Profile()
	return out, nil
}

// AddrOf reads an address, or finds the one agent behind a hostname
// (trusted and pinned claimants first; several unranked ones are
// ambiguous).
func (n *Node) AddrOf(ctx context.Context, s string) (addressing.Addr, error) {
	if err := n.running(); err != nil {
		return addressing.Addr{}, err
	}
	return n.dht.AddrOf(ctx, s, n)
}

// Find lists the verified agents behind a hostname or a tag.
func (n *Node) Find(ctx context.Context, name, tag string) ([]dht.Claimant, error) {
	if err := n.running(); err != nil {
		return nil, err
	}
	if tag != "" {
		return n.dht.FindTag(ctx, strings.ToLower(tag), n)
	}
	return n.dht.FindName(ctx, strings.ToLower(name), n)
}

// FindProviders is the quick, unverified form of Find by tag: up to limit
// peers (0: dht.MaxFindProviders) that announced the tag, from one DHT
// provider search with no profile lookups, this node left out. See
// dht.FindTagProviders for what is and is not verified; a task submitted
// to a peer that no longer offers the work is declined by it.
func (n *Node) FindProviders(ctx context.Context, tag string, limit int) ([]peer.ID, error) {
	if err := n.running(); err != nil {
		return nil, err
	}
	ps, err := n.dht.FindTagProviders(ctx, strings.ToLower(tag), limit)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ps, func(p peer.ID) bool { return p == n.id }), nil
}
