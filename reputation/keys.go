package reputation

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrBadSignature is wrapped by every signature verification failure.
var ErrBadSignature = errors.New("bad signature")

// signedMessage is what a signature covers: the domain prefix, then the
// encoding of every field but the signature.
func signedMessage(domain string, body []byte) []byte {
	msg := make([]byte, 0, len(domain)+len(body))
	msg = append(msg, domain...)
	return append(msg, body...)
}

// publicKey extracts the Ed25519 key inlined in id. It accepts only the
// canonical peer ID of that key, so one key cannot appear under two IDs
// (which would defeat the issuer ≠ subject rule).
func publicKey(id peer.ID) (crypto.PubKey, error) {
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("extract public key: %w", err)
	}
	if pub.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("key type %s is not Ed25519", pub.Type())
	}
	canon, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("derive peer ID: %w", err)
	}
	if canon != id {
		return nil, errors.New("peer ID is not the canonical ID of its key")
	}
	return pub, nil
}

// verifySig checks sig by signer over domain||body.
func verifySig(signer peer.ID, domain string, body, sig []byte) error {
	pub, err := publicKey(signer)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	ok, err := pub.Verify(signedMessage(domain, body), sig)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// checkSigner verifies that priv is an Ed25519 key whose peer ID is want.
func checkSigner(priv crypto.PrivKey, want peer.ID) error {
	if priv == nil {
		return errors.New("nil private key")
	}
	if priv.Type() != crypto.Ed25519 {
		return fmt.Errorf("key type %s is not Ed25519", priv.Type())
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return fmt.Errorf("derive peer ID: %w", err)
	}
	if id != want {
		return fmt.Errorf("key of %s cannot sign for %s", id, want)
	}
	return nil
}
