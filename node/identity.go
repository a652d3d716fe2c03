package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
)

// identityFile is the name of the key file inside Home.
const identityFile = "identity.key"

// maxIdentitySize bounds the key file; an Ed25519 key is 68 bytes.
const maxIdentitySize = 4096

// LoadOrCreateIdentity returns the Ed25519 key in home/identity.key,
// creating it (mode 0600, written atomically) on first use. A key file that
// other users can read, or that is not a valid Ed25519 key, is an error.
func LoadOrCreateIdentity(home string) (crypto.PrivKey, error) {
	path := filepath.Join(home, identityFile)
	b, err := readIdentityFile(path)
	switch {
	case err == nil:
		return DecodeIdentity(b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: generate identity: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("node: encode identity: %w", err)
	}
	if err := writeFileAtomic(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("node: save identity: %w", err)
	}
	return priv, nil
}

func readIdentityFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("node: identity %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("node: identity %s has mode %v: others can read the private key; run `chmod 600 %s`", path, st.Mode().Perm(), path)
	}
	if st.Size() > maxIdentitySize {
		return nil, fmt.Errorf("node: identity %s is %d bytes: not a key file", path, st.Size())
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("node: read identity %s: %w", path, err)
	}
	return b, nil
}

// DecodeIdentity parses a key file's bytes (crypto.MarshalPrivateKey form)
// and accepts only Ed25519 keys.
func DecodeIdentity(b []byte) (crypto.PrivKey, error) {
	if len(b) == 0 || len(b) > maxIdentitySize {
		return nil, fmt.Errorf("node: identity key: %d bytes is not a key", len(b))
	}
	priv, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("node: identity key: %w", err)
	}
	if priv.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("node: identity key is %v; Pilot uses Ed25519", priv.Type())
	}
	return priv, nil
}

// writeFileAtomic writes data to a temporary file, syncs it, renames it
// over path and syncs the folder, so a crash leaves the old file or the new
// one, never half of one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
