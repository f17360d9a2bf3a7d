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
	"github.com/mksmt/workbench/internal/store"
)

// storeGuard is store.OutputGuard with the CLI's empty-path check and
// errors that name the flag.
type storeGuard struct{ g store.OutputGuard }

func newStoreGuard(db string) (storeGuard, error) {
	g, err := store.NewOutputGuard(db)
	if err != nil {
		return storeGuard{}, fmt.Errorf("--db %w", err)
	}
	return storeGuard{g}, nil
}

// check refuses path, the value of flagName, when it names a file of the
// store (see store.OutputGuard).
func (g storeGuard) check(flagName, path string) error {
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("%s is empty: name a file or directory", flagName)
	}
	if err := g.g.Check(path); err != nil {
		return fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	return nil
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
