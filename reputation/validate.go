package reputation

import (
	"errors"
	"fmt"
	"time"
)

// Rule defaults, used for every zero field of Rules.
const (
	// DefaultMaxAge is the default of Rules.MaxAge.
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultMaxSkew is the default of Rules.MaxSkew.
	DefaultMaxSkew = 5 * time.Minute
	// DefaultMaxLifetime is the default of Rules.MaxLifetime.
	DefaultMaxLifetime = 90 * 24 * time.Hour
	// DefaultIssuerRate is the default of Rules.IssuerRate.
	DefaultIssuerRate = 60
	// DefaultIssuerWindow is the default of Rules.IssuerWindow.
	DefaultIssuerWindow = time.Hour
)

// Rules are the time and rate limits an attestation must meet. The zero
// value means every default.
type Rules struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxAge is how old IssuedAt may be. Default 30 days.
	MaxAge time.Duration
	// MaxSkew is how far IssuedAt may lie in the future, and how far the
	// receipt's EndedAt may lie after IssuedAt. Default 5 minutes.
	MaxSkew time.Duration
	// MaxLifetime bounds Expiry-IssuedAt. Default 90 days.
	MaxLifetime time.Duration
	// IssuerRate is how many attestations one issuer may have stored per
	// IssuerWindow, counted by IssuedAt in fixed windows aligned to the Unix
	// epoch (so a late joiner catching up on history is not throttled).
	// Default 60; negative disables the limit.
	IssuerRate int
	// IssuerWindow is the rate window. Default 1 hour.
	IssuerWindow time.Duration
}

// withDefaults returns r with every zero field set to its default.
func (r Rules) withDefaults() Rules {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultMaxAge
	}
	if r.MaxSkew <= 0 {
		r.MaxSkew = DefaultMaxSkew
	}
	if r.MaxLifetime <= 0 {
		r.MaxLifetime = DefaultMaxLifetime
	}
	if r.IssuerRate == 0 {
		r.IssuerRate = DefaultIssuerRate
	}
	if r.IssuerWindow <= 0 {
		r.IssuerWindow = DefaultIssuerWindow
	}
	return r
}

// Check runs every check that needs no stored state, in order: decode,
// signature, self, mismatch, expired, future, lifetime. It returns the
// decoded attestation, or a *RejectError. A gossip validator can call it
// before Store.Add to reject cheaply; Store.Add runs it again.
func (r Rules) Check(raw []byte) (Attestation, error) {
	a, err := checkStatic(raw)
	if err != nil {
		return Attestation{}, err
	}
	r = r.withDefaults()
	if err := r.checkTime(a, r.Now()); err != nil {
		return Attestation{}, err
	}
	return a, nil
}

// checkStatic runs the checks that depend on the bytes alone: decode,
// signature, self, mismatch.
func checkStatic(raw []byte) (Attestation, error) {
	a, err := UnmarshalAttestation(raw)
	if err != nil {
		return Attestation{}, reject(ReasonDecode, err)
	}
	if err := a.Verify(); err != nil {
		return Attestation{}, reject(ReasonSignature, err)
	}
	if a.Issuer == a.Subject {
		return Attestation{}, reject(ReasonSelf, fmt.Errorf("issuer %s attests itself", a.Issuer))
	}
	if err := a.checkBinding(); err != nil {
		return Attestation{}, reject(ReasonMismatch, err)
	}
	return a, nil
}

// checkTime runs the clock checks: expired, future, lifetime. r must have
// its defaults applied.
func (r Rules) checkTime(a Attestation, now time.Time) error {
	switch {
	case now.After(a.Expiry):
		return reject(ReasonExpired, fmt.Errorf("expired at %s", a.Expiry.Format(time.RFC3339Nano)))
	case a.IssuedAt.Before(now.Add(-r.MaxAge)):
		return reject(ReasonExpired, fmt.Errorf("issued at %s, more than %s ago", a.IssuedAt.Format(time.RFC3339Nano), r.MaxAge))
	case a.IssuedAt.After(now.Add(r.MaxSkew)):
		return reject(ReasonFuture, fmt.Errorf("issued at %s, more than %s ahead", a.IssuedAt.Format(time.RFC3339Nano), r.MaxSkew))
	case a.Receipt.EndedAt.After(a.IssuedAt.Add(r.MaxSkew)):
		return reject(ReasonFuture, fmt.Errorf("task ended at %s, more than %s after issue", a.Receipt.EndedAt.Format(time.RFC3339Nano), r.MaxSkew))
	}
	if life := a.Expiry.Sub(a.IssuedAt); life <= 0 || life > r.MaxLifetime {
		return reject(ReasonLifetime, fmt.Errorf("lifetime %s outside (0, %s]", life, r.MaxLifetime))
	}
	return nil
}

// Reason says why an attestation was rejected, or names another Stats
// counter. Its values are stable strings, fit for metrics labels.
type Reason string

// Rejection reasons, in the order Store.Add checks them; then the other
// Stats keys.
const (
	// ReasonDecode means the bytes do not parse.
	ReasonDecode Reason = "decode"
	// ReasonSignature means the issuer's or the receipt's signature is bad,
	// or a peer ID is not a canonical Ed25519 peer ID.
	ReasonSignature Reason = "signature"
	// ReasonSelf means issuer and subject are the same peer.
	ReasonSelf Reason = "self"
	// ReasonMismatch means the receipt is not the subject's, for the
	// issuer, or its task hash, outcome or cost differ from the
	// attestation's.
	ReasonMismatch Reason = "mismatch"
	// ReasonExpired means now is past Expiry, or IssuedAt is older than
	// MaxAge.
	ReasonExpired Reason = "expired"
	// ReasonFuture means IssuedAt is beyond now+MaxSkew, or the task ended
	// more than MaxSkew after IssuedAt.
	ReasonFuture Reason = "future"
	// ReasonLifetime means Expiry-IssuedAt is not in (0, MaxLifetime].
	ReasonLifetime Reason = "lifetime"
	// ReasonDuplicate means this exact attestation (same ID) is already
	// stored. Gossip should ignore it, not penalise the sender.
	ReasonDuplicate Reason = "duplicate"
	// ReasonSequence means Seq is not above the last one stored for
	// (issuer, subject).
	ReasonSequence Reason = "sequence"
	// ReasonTaskReplay means the issuer already attested this task for this
	// subject under another attestation.
	ReasonTaskReplay Reason = "task_replay"
	// ReasonRate means the issuer is over its rate in the window.
	ReasonRate Reason = "rate"
	// ReasonCorrupt counts stored entries that failed to decode or verify
	// when read back; they are skipped, never returned.
	ReasonCorrupt Reason = "corrupt"
	// Accepted counts attestations Store.Add stored.
	Accepted Reason = "accepted"
)

// ErrDuplicate is matched by errors.Is for an attestation that is already
// stored.
var ErrDuplicate = errors.New("duplicate attestation")

// RejectError is the error for an attestation that failed a check.
type RejectError struct {
	// Reason is the check that failed.
	Reason Reason
	// Err says what exactly was wrong.
	Err error
}

// Error implements error.
func (e *RejectError) Error() string {
	return fmt.Sprintf("reputation: attestation rejected (%s): %v", e.Reason, e.Err)
}

// Unwrap returns Err.
func (e *RejectError) Unwrap() error { return e.Err }

// Ignore reports whether gossip should ignore the message rather than
// penalise its sender: true for duplicates.
func (e *RejectError) Ignore() bool { return e.Reason == ReasonDuplicate }

// ReasonOf returns the Reason of a *RejectError in err's chain.
func ReasonOf(err error) (Reason, bool) {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return "", false
}

func reject(reason Reason, err error) *RejectError {
	return &RejectError{Reason: reason, Err: err}
}
