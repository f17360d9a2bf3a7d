package tui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mksmt/workbench/internal/atomicfile"
)

// checkOutput refuses an output path that is the runs database, one of its
// SQLite side files or inside its artifact directory: a study or export
// named like the database (or a --db inside plots/ or experiments/) must
// not replace it. Paths are compared cleaned and absolute, and by file
// identity, which also catches symlinks and hard links.
func (b *backend) checkOutput(path string) error {
	db := b.store.Path()
	if db == "" || db == ":memory:" || strings.HasPrefix(db, "file:") {
		return nil
	}
	dbAbs, err1 := filepath.Abs(db)
	out, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("write %s: cannot resolve the path", path)
	}
	outInfo, outErr := os.Stat(out)
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		p := dbAbs + suffix
		same := p == out
		if !same && outErr == nil {
			if info, err := os.Stat(p); err == nil {
				same = os.SameFile(info, outInfo)
			}
		}
		if same {
			return fmt.Errorf("write %s: refused, it is the runs database %s%s", path, db, suffix)
		}
	}
	if rel, err := filepath.Rel(dbAbs+".d", out); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("write %s: refused, it is inside the runs database's artifact directory %s.d", path, db)
	}
	return nil
}

// writeFile replaces path with data, whole or not at all (the directory
// is created), after checkOutput.
func (b *backend) writeFile(path string, data []byte) error {
	return b.writeWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeWith is writeFile for content that fill streams.
func (b *backend) writeWith(path string, fill func(io.Writer) error) error {
	if err := b.checkOutput(path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, fill)
}
