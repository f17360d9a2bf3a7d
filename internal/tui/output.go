package tui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mksmt/workbench/internal/atomicfile"
	"github.com/mksmt/workbench/internal/store"
)

// checkOutput refuses an output path that is the runs database, one of its
// SQLite side files or inside its artifact directory (store.OutputGuard): a
// study or export named like the database (or a --db inside plots/ or
// experiments/) must not replace it.
func (b *backend) checkOutput(path string) error {
	g, err := store.NewOutputGuard(b.store.Path())
	if err == nil {
		err = g.Check(path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
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
