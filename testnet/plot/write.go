package plot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// checkPath reports whether a figure can be written to path: path names a
// file, not a directory, in a directory that exists.
func checkPath(path string) error {
	if path == "" {
		return errors.New("plot: empty output path")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("plot: output directory of %s: %w", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("plot: output directory of %s: %s is not a directory", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("plot: output path %s is a directory", path)
	}
	return nil
}

// writeAtomic writes w to a temporary file beside path and renames it over
// path, so readers see either the old file or the complete new one.
func writeAtomic(path string, w io.WriterTo) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = w.WriteTo(f); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
