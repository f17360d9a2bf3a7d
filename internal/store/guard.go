package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// OutputGuard knows the files of one runs database, so that nothing the
// workbench writes (exports, plots, specs, contact sheets) can replace
// them: the database, its -wal, -shm and -journal files, and its artifact
// directory (checkpoints) with everything in it.
type OutputGuard struct {
	db    string // as given, for messages
	files []guarded
	dir   guarded
}

type guarded struct {
	what     string
	abs      string // cleaned absolute path
	resolved string // abs with the symlinks of its existing part resolved
}

// NewOutputGuard describes the database at db (which need not exist yet).
func NewOutputGuard(db string) (OutputGuard, error) {
	abs, err := filepath.Abs(db)
	if err != nil {
		return OutputGuard{}, fmt.Errorf("%s: %w", db, err)
	}
	g := OutputGuard{db: db}
	for _, f := range []struct{ suffix, what string }{
		{"", "the runs database"},
		{"-wal", "the runs database's write-ahead log"},
		{"-shm", "the runs database's shared-memory index"},
		{"-journal", "the runs database's rollback journal"},
	} {
		p := abs + f.suffix
		g.files = append(g.files, guarded{what: f.what, abs: p, resolved: resolvePath(p)})
	}
	d := abs + ".d"
	g.dir = guarded{what: "the runs database's artifact directory (checkpoints)", abs: d, resolved: resolvePath(d)}
	return g, nil
}

// Check refuses path when it names a file of the database, or the
// artifact directory or anything inside it. It compares cleaned absolute
// paths with and without symlinks, and file identity (os.SameFile), which
// also catches hard links and bind mounts.
func (g OutputGuard) Check(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	refuse := func(what string) error {
		return fmt.Errorf("refusing to write over %s (%s); choose another path", what, g.db)
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
