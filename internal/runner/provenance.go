package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

// ModulePath is the workbench's Go module, used to find its source tree.
const ModulePath = "github.com/mksmt/workbench"

// TrainingSources are the paths, relative to the module root, whose content
// decides what a run computes. The code version in config hashes is a hash
// of their non-test sources, so that editing the TUI, a report or a test
// does not make finished runs count as stale, while any change to the
// trainer, the networks, the kernels or the data does.
var TrainingSources = []string{"go.mod", "go.sum", "internal/train", "internal/nets", "internal/ops", "internal/data"}

// EnvCodeVersion, when set, replaces the detected code version (for builds
// that run away from their source tree and carry no version control
// information, or to pin the version on purpose).
const EnvCodeVersion = "WORKBENCH_CODE_VERSION"

// Version describes the workbench build that is running.
type Version struct {
	GoVersion string
	GitCommit string // "" when unknown
	GitDirty  bool
	// Code identifies the training code for config hashes (see
	// DetectVersion): "src." + a hash of the TrainingSources, "exe." + a
	// hash of the executable, or the value of $WORKBENCH_CODE_VERSION.
	Code string
}

// DetectVersion finds the running build's version. The commit and dirty
// flag come from the binary's version control stamp (debug.ReadBuildInfo)
// or, without one (go run, go test, -buildvcs=false), from git in dir. The
// code version hashes the TrainingSources of the module source tree that
// contains dir; run away from any source tree, it hashes the executable.
func DetectVersion(dir string) Version {
	v := Version{GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.GitCommit = s.Value
			case "vcs.modified":
				v.GitDirty = s.Value == "true"
			}
		}
	}
	if v.GitCommit == "" {
		if out, err := git(dir, "rev-parse", "HEAD"); err == nil {
			v.GitCommit = strings.TrimSpace(string(out))
			if st, err := git(dir, "status", "--porcelain", "--untracked-files=no"); err == nil {
				v.GitDirty = len(bytes.TrimSpace(st)) > 0
			}
		}
	}
	switch {
	case os.Getenv(EnvCodeVersion) != "":
		v.Code = os.Getenv(EnvCodeVersion)
	default:
		if root := moduleRoot(dir); root != "" {
			if h, err := SourceHash(root); err == nil {
				v.Code = "src." + h
				break
			}
		}
		if exe, err := os.Executable(); err == nil {
			if h, err := fileHash(exe); err == nil {
				v.Code = "exe." + h
				break
			}
		}
		v.Code = "unknown"
	}
	return v
}

// SourceHash hashes the non-test Go (and cgo) sources of the
// TrainingSources under the module root: file names and contents, in a
// fixed order; test files, testdata and `package main` helpers (which are
// not part of the library build) are left out. It returns 12 hex digits.
func SourceHash(root string) (string, error) {
	h := sha256.New()
	add := func(rel string, b []byte) {
		io.WriteString(h, filepath.ToSlash(rel)+"\x00")
		h.Write(b)
		h.Write([]byte{0})
	}
	for _, p := range TrainingSources {
		full := filepath.Join(root, p)
		info, err := os.Stat(full)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return "", err
		}
		if !info.IsDir() {
			b, err := os.ReadFile(full)
			if err != nil {
				return "", err
			}
			add(p, b)
			continue
		}
		err = filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != full && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !isBuildSource(d.Name()) {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if isMainOrIgnored(path, b) {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			add(rel, b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// isBuildSource reports whether a file name is one compiled into a
// package's non-test build.
func isBuildSource(name string) bool {
	if strings.HasSuffix(name, "_test.go") {
		return false
	}
	for _, ext := range []string{".go", ".s", ".c", ".h"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// isMainOrIgnored reports whether a .go file is a command (package main)
// or excluded from builds (//go:build ignore): neither is linked into the
// workbench's training packages. src is the file's content.
func isMainOrIgnored(path string, src []byte) bool {
	if !strings.HasSuffix(path, ".go") {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "//go:build ignore":
			return true
		case strings.HasPrefix(line, "package "):
			return strings.TrimSpace(strings.TrimPrefix(line, "package ")) == "main"
		}
	}
	return false
}

// moduleRoot finds the directory at or above dir whose go.mod declares
// ModulePath; "" when there is none.
func moduleRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(abs, "go.mod"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(first), "module")) == ModulePath {
				return abs
			}
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
	}
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func git(dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	return cmd.Output()
}

// DetectProvenance is the provenance of runs computed by this process:
// host, pid, Go version, git commit and dirty flag, code version.
func DetectProvenance(dir string) store.Provenance {
	return DetectVersion(dir).Provenance()
}

// Provenance is this process's provenance with code version v, for a
// caller that has detected the version already (it walks the sources).
func (v Version) Provenance() store.Provenance {
	host, _ := os.Hostname()
	return store.Provenance{
		Host:        host,
		PID:         os.Getpid(),
		GoVersion:   v.GoVersion,
		GitCommit:   v.GitCommit,
		GitDirty:    v.GitDirty,
		CodeVersion: v.Code,
	}
}
