package dht

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"

	"github.com/pilot-agents/pilot/addressing"
)

// profilePrefix is the key prefix of profile records.
const profilePrefix = "/" + Namespace + "/profile/"

// Limits on a profile record.
const (
	// MaxProfileSize bounds a marshalled profile record envelope.
	MaxProfileSize = 4 << 10
	// MaxTags bounds the tags in one profile.
	MaxTags = 16
	// MaxProfilePorts bounds the public ports in one profile.
	MaxProfilePorts = 64
	// MaxVersionLen bounds the software version string.
	MaxVersionLen = 32
)

// ProfileDomain is the signature domain of profile records.
const ProfileDomain = "pilot-profile"

// ProfileCodec is the envelope payload type of profile records: the unsigned
// varint of 0x300001, in the multicodec private-use range.
var ProfileCodec = []byte{0x81, 0x80, 0xc0, 0x01}

// ErrInvalidProfile is wrapped by every profile record validation failure.
// It also matches ErrInvalidRecord, so errors.Is(err, ErrInvalidRecord)
// holds for every record the validator rejects.
var ErrInvalidProfile error = &childError{msg: "invalid profile record", parent: ErrInvalidRecord}

// childError is a sentinel error that also matches a more general one.
type childError struct {
	msg    string
	parent error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.parent }

func init() { record.RegisterType(&Profile{}) }

// ProfileInfo is what a node says about itself in its profile record. Every
// field is optional.
type ProfileInfo struct {
	// Hostname: see ValidHostname. Empty means none.
	Hostname string `json:"hostname,omitempty"`
	// Tags: at most MaxTags, each valid by ValidTag, no duplicates.
	Tags []string `json:"tags,omitempty"`
	// Ports the node serves to anyone: at most MaxProfilePorts, nonzero,
	// no duplicates.
	Ports []uint16 `json:"ports,omitempty"`
	// Version of the node's software: at most MaxVersionLen printable
	// ASCII characters.
	Version string `json:"version,omitempty"`
}

// Normalize returns a copy of p with tags and ports sorted and duplicates
// removed. It does not fix anything else; call Validate after it.
func (p ProfileInfo) Normalize() ProfileInfo {
	out := p
	out.Tags = sortedUnique(p.Tags)
	out.Ports = sortedUnique(p.Ports)
	return out
}

func sortedUnique[T string | uint16](in []T) []T {
	if len(in) == 0 {
		return nil
	}
	out := append([]T(nil), in...)
	for i := 1; i < len(out); i++ { // insertion sort: at most 64 items
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	n := 1
	for i := 1; i < len(out); i++ {
		if out[i] != out[n-1] {
			out[n] = out[i]
			n++
		}
	}
	return out[:n]
}

// Validate checks every field against the limits a profile record must
// respect; the error wraps ErrInvalidName for a bad hostname or tag.
func (p ProfileInfo) Validate() error {
	if p.Hostname != "" {
		if err := ValidHostname(p.Hostname); err != nil {
			return err
		}
	}
	if len(p.Tags) > MaxTags {
		return fmt.Errorf("%d tags, over the %d limit", len(p.Tags), MaxTags)
	}
	seenTag := make(map[string]bool, len(p.Tags))
	for _, t := range p.Tags {
		if err := ValidTag(t); err != nil {
			return err
		}
		if seenTag[t] {
			return fmt.Errorf("tag %q is listed twice", t)
		}
		seenTag[t] = true
	}
	if len(p.Ports) > MaxProfilePorts {
		return fmt.Errorf("%d public ports, over the %d limit", len(p.Ports), MaxProfilePorts)
	}
	seenPort := make(map[uint16]bool, len(p.Ports))
	for _, port := range p.Ports {
		if port == 0 {
			return fmt.Errorf("public port 0 is not a port")
		}
		if seenPort[port] {
			return fmt.Errorf("public port %d is listed twice", port)
		}
		seenPort[port] = true
	}
	if len(p.Version) > MaxVersionLen {
		return fmt.Errorf("version is %d characters, over the %d limit", len(p.Version), MaxVersionLen)
	}
	for i := 0; i < len(p.Version); i++ {
		if c := p.Version[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("version %q: byte %d (0x%02x) is not printable ASCII", p.Version, i, c)
		}
	}
	return nil
}

// Profile is the record sealed in a profile record's envelope: a
// ProfileInfo and a seq (Unix time in nanoseconds when signed). It
// implements libp2p's record.Record; the wire form is JSON.
type Profile struct {
	ProfileInfo
	Seq uint64 `json:"seq"`
}

var _ record.Record = (*Profile)(nil)

// Domain implements record.Record.
func (*Profile) Domain() string { return ProfileDomain }

// Codec implements record.Record.
func (*Profile) Codec() []byte { return ProfileCodec }

// MarshalRecord implements record.Record.
func (p *Profile) MarshalRecord() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("dht: encode profile: %w", err)
	}
	return b, nil
}

// UnmarshalRecord implements record.Record. It only parses; the limits are
// checked by DecodeProfileRecord. Unknown fields are ignored, so a later
// version may add some.
func (p *Profile) UnmarshalRecord(b []byte) error {
	if len(b) > MaxProfileSize {
		return fmt.Errorf("profile payload is %d bytes, over the %d limit", len(b), MaxProfileSize)
	}
	var q Profile
	if err := json.Unmarshal(b, &q); err != nil {
		return fmt.Errorf("decode profile: %w", err)
	}
	*p = q
	return nil
}

// ProfileRecord is a verified profile record.
type ProfileRecord struct {
	Addr   addressing.Addr
	PeerID peer.ID
	Info   ProfileInfo
	Seq    uint64
}

// ProfileKey returns the DHT key of a's profile record:
// "/pilot/profile/<12 hex>".
func ProfileKey(a addressing.Addr) string { return profilePrefix + a.Hex() }

// ParseProfileKey reads the address out of a profile record key; only the
// canonical form (lowercase, no dots) is accepted.
func ParseProfileKey(key string) (addressing.Addr, error) {
	return parseHexKey(key, profilePrefix, ErrInvalidProfile)
}

// SignProfile validates info and seals it with seq into a signed envelope:
// the value stored under ProfileKey.
func SignProfile(priv crypto.PrivKey, info ProfileInfo, seq uint64) ([]byte, error) {
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("dht: sign profile: %w", err)
	}
	return sealRecord(&Profile{ProfileInfo: info, Seq: seq}, priv, MaxProfileSize, "profile record")
}

// DecodeProfileRecord validates value as the profile record stored under
// key and returns it. It checks, in order: the key, the size, the envelope
// signature and payload type, that the signing key hashes to the address in
// the key, the seq (nonzero, at most MaxClockSkew after now), and every
// field's limits.
func DecodeProfileRecord(key string, value []byte, now time.Time) (*ProfileRecord, error) {
	a, err := ParseProfileKey(key)
	if err != nil {
		return nil, err
	}
	var p Profile
	signer, err := openRecord(a, value, &p, MaxProfileSize, ErrInvalidProfile)
	if err != nil {
		return nil, err
	}
	if err := checkSeq(p.Seq, now, ErrInvalidProfile); err != nil {
		return nil, err
	}
	if err := p.ProfileInfo.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, err)
	}
	return &ProfileRecord{Addr: a, PeerID: signer, Info: p.ProfileInfo, Seq: p.Seq}, nil
}
