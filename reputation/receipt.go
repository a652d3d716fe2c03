package reputation

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Outcome is how a task ended, as the worker reports it in its Receipt and
// the requester repeats it in its Attestation. Only Success and Failure are
// valid; the zero value is not.
type Outcome uint8

const (
	// Success means the task was done to the requester's satisfaction.
	Success Outcome = 1
	// Failure means the task was not done, or done badly.
	Failure Outcome = 2
)

// Valid reports whether o is Success or Failure.
func (o Outcome) Valid() bool { return o == Success || o == Failure }

// String returns "success", "failure" or "invalid(<n>)".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	default:
		return fmt.Sprintf("invalid(%d)", uint8(o))
	}
}

// receiptDomain separates receipt signatures from every other signature a
// key makes.
const receiptDomain = "pilot/polo/receipt/v1\x00"

// Receipt is the worker's signed statement that a task ended. The requester
// embeds it in the Attestation it issues, which binds every attestation to a
// real exchange between the two peers.
type Receipt struct {
	// Worker did the task and signs the receipt.
	Worker peer.ID
	// Requester asked for the task.
	Requester peer.ID
	// TaskHash names the task (a hash the two peers agreed on).
	TaskHash [32]byte
	// ResultHash is a hash of the result the worker delivered.
	ResultHash [32]byte
	// Outcome is how the task ended.
	Outcome Outcome
	// Cost is the work spent, in milliseconds.
	Cost uint64
	// EndedAt is when the task ended; encoded with millisecond precision.
	EndedAt time.Time
	// Sig is the worker's signature over every other field.
	Sig []byte
}

// SignReceipt returns r signed by priv, which must be the Ed25519 key of
// r.Worker. r.Sig is ignored and replaced.
func SignReceipt(priv crypto.PrivKey, r Receipt) (Receipt, error) {
	if err := checkSigner(priv, r.Worker); err != nil {
		return Receipt{}, fmt.Errorf("reputation: sign receipt: %w", err)
	}
	body, err := r.body()
	if err != nil {
		return Receipt{}, fmt.Errorf("reputation: sign receipt: %w", err)
	}
	sig, err := priv.Sign(signedMessage(receiptDomain, body))
	if err != nil {
		return Receipt{}, fmt.Errorf("reputation: sign receipt: %w", err)
	}
	r.Sig = sig
	return r, nil
}

// Verify checks r.Sig against the public key inside r.Worker, which must be
// an Ed25519 peer ID.
func (r Receipt) Verify() error {
	body, err := r.body()
	if err != nil {
		return fmt.Errorf("reputation: verify receipt: %w", err)
	}
	if err := verifySig(r.Worker, receiptDomain, body, r.Sig); err != nil {
		return fmt.Errorf("reputation: verify receipt of worker %s: %w", r.Worker, err)
	}
	return nil
}
