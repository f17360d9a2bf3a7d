package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	workbench "github.com/mksmt/workbench"
	"github.com/mksmt/workbench/internal/ops"
	"github.com/mksmt/workbench/internal/store"
)

// ModulePath is the workbench's Go module, used to find its source tree.
const ModulePath = "github.com/mksmt/workbench"

// TrainingSources are the paths, relative to the module root, whose content
// decides what a run computes. The code version in config hashes is a hash
// of their non-test sources, so that editing the TUI, a report or a test
// does not make finished runs count as stale, while any change to the
// trainer, the networks, the kernels or the data does. The go:embed
// patterns in the module root's sources.go must cover the same files
// (TestEmbeddedSourcesMatchTree checks it).
var TrainingSources = []string{"go.mod", "go.sum", "internal/train", "internal/nets", "internal/ops", "internal/data"}

// EnvCodeVersion, when set, replaces the code version embedded in the
// binary (to pin the version on purpose).
const EnvCodeVersion = "WORKBENCH_CODE_VERSION"

// Version describes the workbench build that is running.
type Version struct {
	GoVersion string
	GitCommit string // "" when unknown
	GitDirty  bool
	// Code identifies the training code for config hashes: "src." + the
	// hash of the TrainingSources embedded in this binary at build time
	// (the same from any working directory), or $WORKBENCH_CODE_VERSION.
	Code string
}

// embeddedCode is the SourceHash of the training sources this binary was
// built from (workbench.TrainingSources), computed once per process.
var embeddedCode = sync.OnceValues(func() (string, error) {
	return hashSources(workbench.TrainingSources)
})

// DetectVersion finds the running build's version. The commit and dirty
// flag come from the binary's version control stamp (debug.ReadBuildInfo)
// or, without one (go run, go test, -buildvcs=false), from git in the
// workbench source tree that contains dir, if any, run so that it executes
// nothing the repository configures (see git). The
// code version does not depend on dir: it hashes the sources embedded in
// the binary.
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
	// Only the workbench's own checkout describes this code: another
	// repository the command happens to run in is not asked.
	if root := moduleRoot(dir); v.GitCommit == "" && root != "" {
		if out, err := git(root, nil, "rev-parse", "--verify", "HEAD"); err == nil {
			v.GitCommit = strings.TrimSpace(string(out))
			v.GitDirty = gitDirty(root)
		}
	}
	if env := os.Getenv(EnvCodeVersion); env != "" {
		v.Code = env
	} else if h, err := embeddedCode(); err == nil {
		v.Code = "src." + h
	} else {
		v.Code = "unknown"
	}
	return v
}

// SourceHash hashes the non-test Go (and cgo) sources of the
// TrainingSources under the module root: file names and contents, in a
// fixed order; test files, testdata and `package main` helpers (which are
// not part of the library build) are left out. It returns 12 hex digits.
func SourceHash(root string) (string, error) {
	return hashSources(os.DirFS(root))
}

// hashSources is SourceHash over a file system rooted at the module root:
// the source tree on disk or the copy embedded in the binary.
func hashSources(fsys fs.FS) (string, error) {
	h := sha256.New()
	add := func(rel string, b []byte) {
		io.WriteString(h, rel+"\x00")
		h.Write(b)
		h.Write([]byte{0})
	}
	for _, p := range TrainingSources {
		info, err := fs.Stat(fsys, p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return "", err
		}
		if !info.IsDir() {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return "", err
			}
			add(p, b)
			continue
		}
		err = fs.WalkDir(fsys, p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); path != p && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
					return fs.SkipDir
				}
				return nil
			}
			if !isBuildSource(d.Name()) {
				return nil
			}
			b, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			if isMainOrIgnored(path, b) {
				return nil
			}
			add(path, b)
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

// gitSafeArgs switch off the ways a repository's configuration makes the
// read-only commands below run a program or write: the file system monitor
// hook, hooks (post-index-change), the untracked cache and optional index
// writes. External diffs and textconv are switched off per command, clean
// filters in gitDirty.
var gitSafeArgs = []string{
	"--no-optional-locks",
	"-c", "core.fsmonitor=false",
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.untrackedCache=false",
}

// git runs a read-only git command in dir with gitSafeArgs and the extra
// -c settings in config, without the system configuration and without
// the caller's GIT_* variables (which could point git at another
// repository, an external diff or more configuration).
func git(dir string, config []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	full := append(append(slices.Clone(gitSafeArgs), config...), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = dir
	env := []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd.Output()
}

// gitDirty reports whether tracked files differ from HEAD (a failure
// counts as dirty). Comparing a file whose timestamps changed reads it
// through the clean filter that .gitattributes names, a command from the
// configuration, so every configured filter driver is emptied first; a
// driver name that cannot be overridden on the command line counts as
// dirty rather than run.
func gitDirty(dir string) bool {
	out, err := git(dir, nil, "config", "-z", "--name-only", "--get-regexp", `^filter\.`)
	if err != nil && len(out) > 0 {
		return true
	}
	var config []string
	seen := map[string]bool{}
	for _, name := range strings.Split(string(out), "\x00") {
		driver, ok := strings.CutPrefix(name, "filter.")
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(driver, '.'); i >= 0 {
			driver = driver[:i]
		}
		if driver == "" || strings.ContainsAny(driver, "=\n") {
			return true
		}
		if !seen[driver] {
			seen[driver] = true
			for _, kv := range []string{"clean=", "smudge=", "process=", "required=false"} {
				config = append(config, "-c", "filter."+driver+"."+kv)
			}
		}
	}
	// status (unlike diff-index) compares the contents of files whose
	// timestamps changed, so a touched file is not dirty; with
	// --no-optional-locks it does not write the refreshed index.
	st, err := git(dir, append(config, "-c", "status.submoduleSummary=false"),
		"status", "--porcelain", "--untracked-files=no", "--ignore-submodules=all")
	return err != nil || len(bytes.TrimSpace(st)) > 0
}

// DetectProvenance is the provenance of runs computed by this process:
// host, pid, Go version, git commit and dirty flag, code version, OpenBLAS
// kernels.
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
		BLAS:        ops.BLASCore,
	}
}
