package swarmkey

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads and parses the key file at path. It refuses anything but a
// regular file, a file over 1 KiB (before reading it) and the all-zero key.
// Errors about the file's contents wrap ErrInvalid, and all errors name
// path.
func Load(path string) (Key, error) {
	fi, err := os.Stat(path) // not Open: opening a FIFO would block
	if err != nil {
		return Key{}, fmt.Errorf("swarmkey: %w", err)
	}
	if fi.IsDir() {
		return Key{}, &invalidError{path, "is a directory, want a key file"}
	}
	if !fi.Mode().IsRegular() {
		return Key{}, &invalidError{path, "is not a regular file"}
	}
	if fi.Size() > maxFileSize {
		return Key{}, &invalidError{path, fmt.Sprintf("file is %d bytes, more than the %d a key file may have", fi.Size(), maxFileSize)}
	}
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("swarmkey: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1)) // it may have grown
	defer clear(b)
	if err != nil {
		return Key{}, fmt.Errorf("swarmkey: %w", err)
	}
	k, err := Parse(b)
	if err != nil {
		if bad, ok := errors.AsType[*invalidError](err); ok {
			return Key{}, &invalidError{path, bad.msg}
		}
		return Key{}, err
	}
	if k.isZero() {
		return Key{}, &invalidError{path, "key is all zeros, not a usable secret"}
	}
	return k, nil
}

// Write writes k.Encode() to a new file at path with mode 0600 (less if the
// umask says so). It never overwrites: if path exists it returns an error
// wrapping os.ErrExist. The write is atomic: a temporary file in the same
// directory is written and fsynced, then moved to path without replacing
// anything (a hard link; a rename after a last check where the file system
// has no hard links), then the directory is fsynced (best effort). Write
// refuses the all-zero key, which Load would refuse.
func Write(path string, k Key) error {
	if k.isZero() {
		return &invalidError{path, "refusing to write the all-zero key"}
	}
	if err := checkAbsent(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".swarmkey-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("swarmkey: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed

	b := k.Encode()
	defer clear(b)
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("swarmkey: write %s: %w", path, err)
	}

	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return exists(path)
		}
		if err := checkAbsent(path); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("swarmkey: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// checkAbsent returns nil if nothing exists at path.
func checkAbsent(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return exists(path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("swarmkey: %w", err)
	}
}

func exists(path string) error {
	return fmt.Errorf("swarmkey: refusing to overwrite %s: %w", path, os.ErrExist)
}
