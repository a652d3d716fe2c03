package dht

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	"github.com/multiformats/go-varint"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
)

var testProfile = ProfileInfo{Hostname: "alice", Tags: []string{"gpu", "llm"}, Ports: []uint16{7, 1001}, Version: "pilot/0.1.0"}

// sealProfile seals p without SignProfile's checks, to build bad records.
func sealProfile(t testing.TB, priv crypto.PrivKey, p Profile) []byte {
	t.Helper()
	env, err := record.Seal(&p, priv)
	require.NoError(t, err)
	b, err := env.Marshal()
	require.NoError(t, err)
	return b
}

func TestProfileCodecIsPrivateUseVarint(t *testing.T) {
	n, _, err := varint.FromUvarint(ProfileCodec)
	require.NoError(t, err)
	require.Equal(t, uint64(0x300001), n)
}

func TestProfileRoundTrip(t *testing.T) {
	priv, a := newKey(t)
	seq := peer.TimestampSeq()
	val, err := SignProfile(priv, testProfile, seq)
	require.NoError(t, err)
	require.NoError(t, NewValidator().Validate(ProfileKey(a), val))
	rec, err := DecodeProfileRecord(ProfileKey(a), val, time.Now())
	require.NoError(t, err)
	id, _ := peer.IDFromPrivateKey(priv)
	require.Equal(t, &ProfileRecord{Addr: a, PeerID: id, Info: testProfile, Seq: seq}, rec)

	// A blank profile (withdrawing a hostname) is valid too.
	blank, err := SignProfile(priv, ProfileInfo{}, seq+1)
	require.NoError(t, err)
	require.NoError(t, NewValidator().Validate(ProfileKey(a), blank))

	// SignProfile refuses what the validator would reject.
	_, err = SignProfile(priv, ProfileInfo{Hostname: "-x"}, seq)
	require.ErrorIs(t, err, ErrInvalidName)
}

func TestProfileValidatorRejects(t *testing.T) {
	priv, a := newKey(t)
	other, otherAddr := newKey(t)
	now := time.Now()
	seq := uint64(now.UnixNano())
	good := func(mod func(*Profile)) []byte {
		p := Profile{ProfileInfo: testProfile, Seq: seq}
		mod(&p)
		return sealProfile(t, priv, p)
	}
	manyTags := make([]string, MaxTags+1)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("t%d", i)
	}
	manyPorts := make([]uint16, MaxProfilePorts+1)
	for i := range manyPorts {
		manyPorts[i] = uint16(i + 1)
	}
	tampered := good(func(*Profile) {})
	tampered[len(tampered)-1] ^= 0xff
	addrRecord := signed(t, priv, seq) // a valid address record, wrong type here
	// A huge version makes the envelope oversized before any other check.
	oversized := good(func(p *Profile) { p.Version = strings.Repeat("v", MaxProfileSize) })

	tests := []struct {
		name  string
		key   string
		value []byte
		want  string
	}{
		{"signed by another key", ProfileKey(a), sealProfile(t, other, Profile{ProfileInfo: testProfile, Seq: seq}), "signed by the key of"},
		{"key of another address", ProfileKey(otherAddr), good(func(*Profile) {}), "signed by the key of"},
		{"uppercase key", "/pilot/profile/" + strings.ToUpper(a.Hex()), good(func(*Profile) {}), "lowercase"},
		{"dotted key", "/pilot/profile/" + a.String(), good(func(*Profile) {}), "lowercase"},
		{"bad hostname", ProfileKey(a), good(func(p *Profile) { p.Hostname = "Alice" }), "use lower case"},
		{"hostname ends in dash", ProfileKey(a), good(func(p *Profile) { p.Hostname = "alice-" }), "start or end"},
		{"hostname too long", ProfileKey(a), good(func(p *Profile) { p.Hostname = strings.Repeat("a", 64) }), "over the 63 limit"},
		{"hostname reads as an address", ProfileKey(a), good(func(p *Profile) { p.Hostname = "3f2a91c07d14" }), "Pilot address"},
		{"bad tag", ProfileKey(a), good(func(p *Profile) { p.Tags = []string{"gpu", "a_b"} }), "not allowed"},
		{"empty tag", ProfileKey(a), good(func(p *Profile) { p.Tags = []string{""} }), "tag is empty"},
		{"duplicate tag", ProfileKey(a), good(func(p *Profile) { p.Tags = []string{"gpu", "gpu"} }), "listed twice"},
		{"too many tags", ProfileKey(a), good(func(p *Profile) { p.Tags = manyTags }), "tags, over"},
		{"too many ports", ProfileKey(a), good(func(p *Profile) { p.Ports = manyPorts }), "ports, over"},
		{"port zero", ProfileKey(a), good(func(p *Profile) { p.Ports = []uint16{0} }), "port 0"},
		{"duplicate port", ProfileKey(a), good(func(p *Profile) { p.Ports = []uint16{7, 7} }), "listed twice"},
		{"version not printable", ProfileKey(a), good(func(p *Profile) { p.Version = "v1\n" }), "printable"},
		{"version too long", ProfileKey(a), good(func(p *Profile) { p.Version = strings.Repeat("1", 33) }), "over the 32 limit"},
		{"oversized", ProfileKey(a), oversized, "over the 4096 limit"},
		{"zero seq", ProfileKey(a), good(func(p *Profile) { p.Seq = 0 }), "seq is zero"},
		{"future seq", ProfileKey(a), good(func(p *Profile) { p.Seq = uint64(now.Add(2 * MaxClockSkew).UnixNano()) }), "in the future"},
		{"tampered", ProfileKey(a), tampered, "invalid profile record"},
		{"address record under a profile key", ProfileKey(a), addrRecord, "invalid profile record"},
		{"garbage", ProfileKey(a), []byte("not an envelope"), "invalid profile record"},
		{"empty", ProfileKey(a), nil, "invalid profile record"},
	}
	v := &Validator{Now: func() time.Time { return now }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate(tt.key, tt.value)
			require.ErrorIs(t, err, ErrInvalidProfile)
			require.ErrorIs(t, err, ErrInvalidRecord)
			require.Contains(t, err.Error(), tt.want)
			_, err = v.Select(tt.key, [][]byte{tt.value})
			require.ErrorIs(t, err, ErrInvalidRecord)
		})
	}
}

func TestProfileSelect(t *testing.T) {
	priv, a := newKey(t)
	v := NewValidator()
	key := ProfileKey(a)
	base := peer.TimestampSeq()
	low := sealProfile(t, priv, Profile{ProfileInfo: testProfile, Seq: base})
	high := sealProfile(t, priv, Profile{ProfileInfo: ProfileInfo{Hostname: "bob"}, Seq: base + 1})
	i, err := v.Select(key, [][]byte{low, high, []byte("junk")})
	require.NoError(t, err)
	require.Equal(t, 1, i)

	tie := sealProfile(t, priv, Profile{ProfileInfo: ProfileInfo{Hostname: "carol"}, Seq: base + 1})
	first, err := v.Select(key, [][]byte{high, tie})
	require.NoError(t, err)
	second, err := v.Select(key, [][]byte{tie, high})
	require.NoError(t, err)
	require.Equal(t, [][]byte{high, tie}[first], [][]byte{tie, high}[second], "ties must pick the same value whatever the order")
}

func TestValidNames(t *testing.T) {
	tests := []struct {
		s        string
		host, tg bool
	}{
		{"alice", true, true},
		{"a", true, true},
		{"web-01", true, true},
		{"0", true, true},
		{strings.Repeat("a", 32), true, true},
		{strings.Repeat("a", 33), true, false},
		{strings.Repeat("a", 63), true, false},
		{strings.Repeat("a", 64), false, false},
		{"", false, false},
		{"-a", false, false},
		{"a-", false, false},
		{"Alice", false, false},
		{"a.b", false, false},
		{"a_b", false, false},
		{"a b", false, false},
		{"é", false, false},
		{"3f2a91c07d14", false, true}, // reads as an address
		{"deadbeefcafe", false, true},
	}
	for _, tt := range tests {
		err := ValidHostname(tt.s)
		require.Equal(t, tt.host, err == nil, "hostname %q: %v", tt.s, err)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidName)
		}
		err = ValidTag(tt.s)
		require.Equal(t, tt.tg, err == nil, "tag %q: %v", tt.s, err)
	}
}

func TestNormalize(t *testing.T) {
	p := ProfileInfo{Tags: []string{"b", "a", "b"}, Ports: []uint16{1001, 7, 1001}}.Normalize()
	require.Equal(t, []string{"a", "b"}, p.Tags)
	require.Equal(t, []uint16{7, 1001}, p.Ports)
	require.Nil(t, ProfileInfo{}.Normalize().Tags)
}

func TestNameCIDs(t *testing.T) {
	c := NameCID("alice")
	require.Equal(t, uint64(1), c.Version())
	require.Equal(t, uint64(0x55), c.Type(), "raw codec")
	require.NotEqual(t, c, TagCID("alice"), "names and tags live apart")
	require.Equal(t, c, NameCID("alice"))
}

type testRanker struct {
	trusted map[peer.ID]bool
	score   map[peer.ID]float64
}

func (r testRanker) Trusted(id peer.ID) bool  { return r.trusted[id] }
func (r testRanker) Score(id peer.ID) float64 { return r.score[id] }

func TestResolveNameAndSort(t *testing.T) {
	mk := func(addr string, id string, trusted, pinned bool, score float64) Claimant {
		return Claimant{Addr: addressing.MustParse(addr), PeerID: peer.ID(id), Hostname: "alice", Trusted: trusted, Pinned: pinned, Score: score}
	}
	a := mk("000000000001", "a", false, false, 0)
	b := mk("000000000002", "b", false, false, 5)
	ta := mk("000000000003", "c", true, false, 0)
	pb := mk("000000000004", "d", false, true, 0)

	tests := []struct {
		name string
		in   []Claimant
		want Claimant
		err  error
	}{
		{"none", nil, Claimant{}, ErrNotFound},
		{"one unranked", []Claimant{a}, a, nil},
		{"two unranked", []Claimant{a, b}, Claimant{}, ErrAmbiguous},
		{"one trusted among unranked", []Claimant{a, ta, b}, ta, nil},
		{"one pinned among unranked", []Claimant{b, pb}, pb, nil},
		{"trusted and pinned", []Claimant{ta, pb, a}, Claimant{}, ErrAmbiguous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveName(tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				if tt.err == ErrAmbiguous {
					require.ErrorIs(t, err, ErrAmbiguousName)
					require.Contains(t, err.Error(), tt.in[0].Addr.String(), "the error lists the claimants")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	cs := []Claimant{a, b, pb, ta}
	SortClaimants(cs)
	require.Equal(t, []Claimant{ta, pb, b, a}, cs, "ranked first by address, then by score")
}
