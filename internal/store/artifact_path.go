package store

import "path/filepath"

// File artifacts under the artifacts directory are recorded relative to
// it, so that workers on machines that mount the shared directory at
// different paths (or a study moved with its runs.db and runs.db.d) still
// find each other's checkpoints. Files elsewhere keep their absolute path.

// storedPath is how path is recorded: relative when it lies under the
// artifacts directory.
func (s *Store) storedPath(path string) string {
	if path == "" || !filepath.IsAbs(path) || !s.underArtifacts(path) {
		return path
	}
	dir, err := filepath.Abs(s.artifactDir)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return rel
}

// resolvedPath is the file a recorded path names on this machine.
func (s *Store) resolvedPath(stored string) string {
	if stored == "" || filepath.IsAbs(stored) || s.artifactDir == "" {
		return stored
	}
	return filepath.Join(s.artifactDir, stored)
}
