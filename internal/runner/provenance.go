package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

// TrainingSources are the paths of the repository whose content decides what
// a run computes. A dirty working tree changes the code version (and so the
// config hashes) only through changes under these paths, so that editing
// the TUI or a report does not invalidate finished runs.
var TrainingSources = []string{"go.mod", "go.sum", "internal/train", "internal/nets", "internal/ops", "internal/data"}

// Version describes the workbench build that is running.
type Version struct {
	GoVersion string
	GitCommit string // "" when unknown
	GitDirty  bool
	// Code identifies the training code for config hashes: the commit, and
	// when TrainingSources have uncommitted changes, "+dirty." and a hash of
	// those changes; "unknown" without version control information.
	Code string
}

// DetectVersion reads the version control information of the build
// (debug.ReadBuildInfo) or, when the binary carries none (go run, go test,
// -buildvcs=false), asks git in dir, the working tree the workbench runs in.
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
	head := ""
	if out, err := git(dir, "rev-parse", "HEAD"); err == nil {
		head = strings.TrimSpace(string(out))
	}
	if v.GitCommit == "" && head != "" {
		v.GitCommit = head
		if st, err := git(dir, "status", "--porcelain", "--untracked-files=no"); err == nil {
			v.GitDirty = len(bytes.TrimSpace(st)) > 0
		}
	}
	// The working tree is the build's source: its changes can be hashed.
	inspectable := head != "" && head == v.GitCommit
	dirtyHash := ""
	if inspectable {
		dirtyHash = trainingDiffHash(dir)
	}
	switch {
	case v.GitCommit == "":
		v.Code = "unknown"
	case dirtyHash != "":
		v.Code = shortCommit(v.GitCommit) + "+dirty." + dirtyHash
	case v.GitDirty && !inspectable:
		v.Code = shortCommit(v.GitCommit) + "+dirty" // built from a dirty tree we cannot see
	default:
		v.Code = shortCommit(v.GitCommit)
	}
	return v
}

// trainingDiffHash hashes the uncommitted changes (tracked and untracked)
// under TrainingSources; "" when there are none.
func trainingDiffHash(dir string) string {
	args := append([]string{"diff", "HEAD", "--"}, TrainingSources...)
	diff, err := git(dir, args...)
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write(diff)
	args = append([]string{"ls-files", "--others", "--exclude-standard", "--"}, TrainingSources...)
	untracked, err := git(dir, args...)
	if err != nil {
		return ""
	}
	names := strings.Fields(string(untracked))
	for _, name := range names {
		if !strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".s") && !strings.HasSuffix(name, ".c") {
			continue
		}
		b, err := os.ReadFile(dirJoin(dir, name))
		if err != nil {
			continue
		}
		h.Write([]byte("\x00" + name + "\x00"))
		h.Write(b)
	}
	if len(diff) == 0 && len(names) == 0 {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

func dirJoin(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + string(os.PathSeparator) + name
}

func git(dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stderr = nil
	return cmd.Output()
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// DetectProvenance is the provenance of runs computed by this process:
// host, pid, Go version, git commit and dirty flag, code version.
func DetectProvenance(dir string) store.Provenance {
	host, _ := os.Hostname()
	v := DetectVersion(dir)
	return store.Provenance{
		Host:        host,
		PID:         os.Getpid(),
		GoVersion:   v.GoVersion,
		GitCommit:   v.GitCommit,
		GitDirty:    v.GitDirty,
		CodeVersion: v.Code,
	}
}
