// Package atomicfile writes files so that a reader, a crash or a full disk
// never leaves a half-written file in place: the bytes go to a temporary file
// in the destination's directory, are synced, and only then renamed over the
// destination. Until Commit the destination is untouched; a failed or
// abandoned write leaves it as it was and removes the temporary file.
//
// It must not decide where files go: callers check their paths (for
// example, that an output path is not the runs database) before writing.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a pending replacement of a file. Write to it, then Commit, or
// Abort to leave the destination unchanged. Abort after Commit is a no-op,
// so `defer f.Abort()` is the usual pattern.
type File struct {
	path string
	perm os.FileMode
	tmp  *os.File
	w    *bufio.Writer
	err  error // first write error
	done bool
}

// Create starts a replacement of path with the given permissions. The
// directory must exist.
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{path: path, perm: perm, tmp: tmp, w: bufio.NewWriterSize(tmp, 256<<10)}, nil
}

// Write buffers p; errors are sticky and reported again by Commit.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, errors.New("atomicfile: write after commit or abort")
	}
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(p)
	if err != nil {
		f.err = err
	}
	return n, err
}

// Path is the destination.
func (f *File) Path() string { return f.path }

// Commit flushes, syncs and renames the temporary file over the
// destination. On any error the destination is unchanged.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	err := f.err
	if err == nil {
		err = f.w.Flush()
	}
	if err == nil {
		err = f.tmp.Chmod(f.perm)
	}
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	f.done = true
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	syncDir(filepath.Dir(f.path))
	return nil
}

// Abort drops the replacement; the destination is unchanged.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// WriteFile replaces path with data, atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces path with what fill writes, atomically; when fill fails
// the destination is unchanged and fill's error is returned.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer f.Abort()
	if err := fill(f); err != nil {
		return err
	}
	return f.Commit()
}

// syncDir makes a rename in dir durable; failure is not reported (some file
// systems cannot sync directories, and the rename itself has succeeded).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
