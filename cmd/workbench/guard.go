package main

// Output paths: no file a verb writes may replace the runs database, its
// SQLite side files or its artifact directory, and every output file is
// written whole or not at all (internal/atomicfile).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mksmt/workbench/internal/atomicfile"
	"github.com/mksmt/workbench/internal/plot"
)

// storeGuard knows the files of one runs database.
type storeGuard struct {
	db    string // the --db value, for messages
	files []protectedPath
	dir   protectedPath // the artifact directory (checkpoints): nothing may be written in it
}

type protectedPath struct {
	what     string
	abs      string // cleaned absolute path
	resolved string // abs with the symlinks of its existing part resolved
}

// newStoreGuard describes the database at db (which need not exist yet).
func newStoreGuard(db string) (storeGuard, error) {
	abs, err := filepath.Abs(db)
	if err != nil {
		return storeGuard{}, fmt.Errorf("--db %s: %w", db, err)
	}
	g := storeGuard{db: db}
	for _, f := range []struct{ suffix, what string }{
		{"", "the runs database"},
		{"-wal", "the runs database's write-ahead log"},
		{"-shm", "the runs database's shared-memory index"},
		{"-journal", "the runs database's rollback journal"},
	} {
		p := abs + f.suffix
		g.files = append(g.files, protectedPath{what: f.what, abs: p, resolved: resolvePath(p)})
	}
	d := abs + ".d"
	g.dir = protectedPath{what: "the runs database's artifact directory (checkpoints)", abs: d, resolved: resolvePath(d)}
	return g, nil
}

// check refuses path, the value of flagName, when it names a file of the
// store, or the artifact directory or anything inside it. It compares
// cleaned absolute paths with and without symlinks, and file identity
// (os.SameFile), which also catches hard links and bind mounts.
func (g storeGuard) check(flagName, path string) error {
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("%s is empty: name a file or directory", flagName)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	refuse := func(what string) error {
		return fmt.Errorf("%s %s: refusing to write over %s (--db %s); choose another path", flagName, path, what, g.db)
	}
	resolved := resolvePath(abs)
	for _, f := range g.files {
		if abs == f.abs || abs == f.resolved || resolved == f.abs || resolved == f.resolved {
			return refuse(f.what)
		}
	}
	for _, p := range []string{abs, resolved} {
		for _, d := range []string{g.dir.abs, g.dir.resolved} {
			if p == d || strings.HasPrefix(p, d+string(filepath.Separator)) {
				return refuse(g.dir.what)
			}
		}
	}
	// Identity: a hard link to runs.db, or a path that reaches the
	// artifact directory through a mount or a link resolvePath missed.
	if fi, err := os.Stat(abs); err == nil {
		for _, f := range g.files {
			if pfi, err := os.Stat(f.abs); err == nil && os.SameFile(fi, pfi) {
				return refuse(f.what)
			}
		}
	}
	if dfi, err := os.Stat(g.dir.abs); err == nil {
		for p := abs; ; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil && os.SameFile(fi, dfi) {
				return refuse(g.dir.what)
			}
			if filepath.Dir(p) == p {
				break
			}
		}
	}
	return nil
}

// resolvePath resolves the symlinks of the longest existing prefix of the
// absolute path p and appends the rest unchanged.
func resolvePath(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// writeOutput writes the file path (the value of flagName) via a temporary
// file in its directory: a failure leaves any old file as it was.
func writeOutput(g storeGuard, flagName, path string, fill func(io.Writer) error) error {
	if err := g.check(flagName, path); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a directory; name a file", flagName, path)
	}
	return atomicfile.Write(path, 0o644, fill)
}

// prepareOutDir checks an output directory and creates it.
func prepareOutDir(g storeGuard, flagName, dir string) error {
	if err := g.check(flagName, dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s %s: %v", flagName, dir, pe.Err)
		}
		return fmt.Errorf("%s %s: %w", flagName, dir, err)
	}
	return nil
}

// saveFigure writes f to dir/NAME.FORMAT, as plot.Figure.Save names it,
// after checking that path too (a study could be named like the store).
func saveFigure(g storeGuard, flagName string, f *plot.Figure, dir string, format plot.Format) (string, error) {
	if err := prepareOutDir(g, flagName, dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, f.Name+"."+string(format))
	err := writeOutput(g, flagName, path, func(w io.Writer) error { return f.Encode(w, format) })
	if err != nil {
		return "", err
	}
	return path, nil
}
