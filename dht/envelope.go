package dht

import (
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"

	"github.com/pilot-agents/pilot/addressing"
)

// The checks every signed Pilot record shares, whatever its payload: the
// key names an address in canonical form, the envelope fits its limit and
// its signer hashes to that address, and its seq is a sane timestamp.
// invalid is the sentinel error each failure wraps.

// parseHexKey reads the address after prefix in key; only the canonical
// form (12 lowercase hex digits, no dots) is accepted.
func parseHexKey(key, prefix string, invalid error) (addressing.Addr, error) {
	hexPart, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return addressing.Addr{}, fmt.Errorf("%w: key %q is not under %s", invalid, key, prefix)
	}
	a, err := addressing.Parse(hexPart)
	if err != nil || a.Hex() != hexPart {
		return addressing.Addr{}, fmt.Errorf("%w: key %q does not end in 12 lowercase hex digits", invalid, key)
	}
	return a, nil
}

// sealRecord signs rec with priv into a marshalled envelope of at most
// limit bytes.
func sealRecord(rec record.Record, priv crypto.PrivKey, limit int, what string) ([]byte, error) {
	env, err := record.Seal(rec, priv)
	if err != nil {
		return nil, fmt.Errorf("dht: seal %s: %w", what, err)
	}
	b, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("dht: marshal %s: %w", what, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("dht: %s is %d bytes, over the %d limit", what, len(b), limit)
	}
	return b, nil
}

// openRecord checks value's size, verifies its envelope into rec, and that
// the signing key hashes to a; it returns the signer.
func openRecord(a addressing.Addr, value []byte, rec record.Record, limit int, invalid error) (peer.ID, error) {
	if len(value) > limit {
		return "", fmt.Errorf("%w: %d bytes, over the %d limit", invalid, len(value), limit)
	}
	env, err := record.ConsumeTypedEnvelope(value, rec)
	if err != nil {
		return "", fmt.Errorf("%w: %v", invalid, err)
	}
	if !a.Matches(env.PublicKey) {
		got, _ := addressing.FromPublicKey(env.PublicKey)
		return "", fmt.Errorf("%w: signed by the key of %s, not of %s", invalid, got, a)
	}
	signer, err := peer.IDFromPublicKey(env.PublicKey)
	if err != nil {
		return "", fmt.Errorf("%w: signer: %v", invalid, err)
	}
	return signer, nil
}

// checkSeq rejects a zero seq and one more than MaxClockSkew after now (so
// one record cannot out-rank every later one forever).
func checkSeq(seq uint64, now time.Time, invalid error) error {
	if seq == 0 {
		return fmt.Errorf("%w: seq is zero", invalid)
	}
	if limit := uint64(now.Add(MaxClockSkew).UnixNano()); seq > limit {
		return fmt.Errorf("%w: seq %d lies more than %s in the future", invalid, seq, MaxClockSkew)
	}
	return nil
}
