package reputation

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// attestationDomain separates attestation signatures from every other
// signature a key makes.
const attestationDomain = "pilot/polo/attestation/v1\x00"

// Attestation is Polo's unit of evidence: the requester (Issuer) states how
// a task done by the worker (Subject) went, and embeds the worker's Receipt
// of that task. TaskHash, Outcome and Cost repeat the receipt's, and must
// match it.
type Attestation struct {
	// Issuer is the requester, who signs the attestation.
	Issuer peer.ID
	// Subject is the worker the attestation is about.
	Subject peer.ID
	// TaskHash names the task; equal to Receipt.TaskHash.
	TaskHash [32]byte
	// Outcome is how the task went; equal to Receipt.Outcome.
	Outcome Outcome
	// Cost is the work spent in milliseconds; equal to Receipt.Cost.
	Cost uint64
	// IssuedAt is when the issuer signed; encoded with millisecond precision.
	IssuedAt time.Time
	// Expiry is when the attestation stops counting; millisecond precision.
	Expiry time.Time
	// Seq numbers the issuer's attestations about this subject, from 1 up;
	// Store.LastSeq tells an issuer the last one stored.
	Seq uint64
	// Receipt is the worker's signed receipt of the task.
	Receipt Receipt
	// Sig is the issuer's signature over every other field, including the
	// receipt's full encoding.
	Sig []byte
}

// NewAttestation returns an unsigned attestation by r's requester about r's
// worker, copying the task hash, outcome and cost from r.
func NewAttestation(r Receipt, issuedAt, expiry time.Time, seq uint64) Attestation {
	return Attestation{
		Issuer:   r.Requester,
		Subject:  r.Worker,
		TaskHash: r.TaskHash,
		Outcome:  r.Outcome,
		Cost:     r.Cost,
		IssuedAt: issuedAt,
		Expiry:   expiry,
		Seq:      seq,
		Receipt:  r,
	}
}

// SignAttestation returns a signed by priv, which must be the Ed25519 key of
// a.Issuer. It first checks that the embedded receipt is validly signed and
// matches the attestation, so an issuer never signs evidence every peer would
// reject. a.Sig is ignored and replaced.
func SignAttestation(priv crypto.PrivKey, a Attestation) (Attestation, error) {
	if err := checkSigner(priv, a.Issuer); err != nil {
		return Attestation{}, fmt.Errorf("reputation: sign attestation: %w", err)
	}
	if err := a.Receipt.Verify(); err != nil {
		return Attestation{}, fmt.Errorf("reputation: sign attestation: %w", err)
	}
	if err := a.checkBinding(); err != nil {
		return Attestation{}, fmt.Errorf("reputation: sign attestation: %w", err)
	}
	body, err := a.body()
	if err != nil {
		return Attestation{}, fmt.Errorf("reputation: sign attestation: %w", err)
	}
	sig, err := priv.Sign(signedMessage(attestationDomain, body))
	if err != nil {
		return Attestation{}, fmt.Errorf("reputation: sign attestation: %w", err)
	}
	a.Sig = sig
	return a, nil
}

// Verify checks the issuer's signature and the embedded receipt's signature.
// It does not check anything else; Rules.Check does.
func (a Attestation) Verify() error {
	body, err := a.body()
	if err != nil {
		return fmt.Errorf("reputation: verify attestation: %w", err)
	}
	if err := verifySig(a.Issuer, attestationDomain, body, a.Sig); err != nil {
		return fmt.Errorf("reputation: verify attestation by issuer %s: %w", a.Issuer, err)
	}
	return a.Receipt.Verify()
}

// ID returns the SHA-256 of the attestation's encoding: its name in the
// store and the anti-entropy sync key. It returns the zero ID if a cannot be
// encoded (see Marshal).
func (a Attestation) ID() [32]byte {
	raw, err := a.Marshal()
	if err != nil {
		return [32]byte{}
	}
	return IDOf(raw)
}

// IDOf returns the ID of an attestation from its encoding, without decoding
// it. For a valid encoding it equals the decoded attestation's ID, because
// the encoding is canonical.
func IDOf(raw []byte) [32]byte { return sha256.Sum256(raw) }

// checkBinding reports how a differs from its receipt, if it does: the
// receipt must be the subject's, for the issuer, about the same task,
// outcome and cost.
func (a Attestation) checkBinding() error {
	r := a.Receipt
	switch {
	case r.Worker != a.Subject:
		return fmt.Errorf("receipt worker %s is not subject %s", r.Worker, a.Subject)
	case r.Requester != a.Issuer:
		return fmt.Errorf("receipt requester %s is not issuer %s", r.Requester, a.Issuer)
	case r.TaskHash != a.TaskHash:
		return fmt.Errorf("receipt task hash %x differs from %x", r.TaskHash, a.TaskHash)
	case r.Outcome != a.Outcome:
		return fmt.Errorf("receipt outcome %s differs from %s", r.Outcome, a.Outcome)
	case r.Cost != a.Cost:
		return fmt.Errorf("receipt cost %d differs from %d", r.Cost, a.Cost)
	}
	return nil
}
