package runner

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	workbench "github.com/mksmt/workbench"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSourceHash: the source hash follows the training sources and
// nothing else.
func TestSourceHash(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module "+ModulePath+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(root, "internal/train/run.go"), "package train\n\nfunc Run() {}\n")
	writeFile(t, filepath.Join(root, "internal/ops/blas.c"), "int x;\n")
	writeFile(t, filepath.Join(root, "internal/tui/tui.go"), "package tui\n")

	prev, err := SourceHash(root)
	if err != nil || len(prev) != 12 {
		t.Fatalf("SourceHash = %q, %v; want 12 hex digits", prev, err)
	}
	tests := []struct {
		name    string
		path    string
		text    string
		changes bool
	}{
		{"a test file", "internal/train/run_test.go", "package train\n", false},
		{"test data", "internal/data/testdata/x.go", "package x\n", false},
		{"a command beside the package", "internal/data/calib/main.go", "// tool\npackage main\n", false},
		{"an ignored file", "internal/nets/gen.go", "//go:build ignore\n\npackage main\n", false},
		{"another package", "internal/tui/tui.go", "package tui\n\nvar x = 1\n", false},
		{"the trainer", "internal/train/run.go", "package train\n\nfunc Run() { println() }\n", true},
		{"a new kernel file", "internal/ops/gemm.go", "package ops\n", true},
		{"cgo source", "internal/ops/blas.c", "int y;\n", true},
		{"go.sum", "go.sum", "example.com/x v1.0.0 h1:abc\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, filepath.Join(root, tt.path), tt.text)
			got, err := SourceHash(root)
			if err != nil {
				t.Fatal(err)
			}
			if (got != prev) != tt.changes {
				t.Fatalf("source hash %s -> %s; want changed = %v", prev, got, tt.changes)
			}
			prev = got
		})
	}
}

// TestCodeVersionSameFromAnyDirectory: the code version is the hash of the
// sources embedded in the binary, so the same binary gives the same
// version (and reuses the same runs) wherever it is started, even inside
// another copy of the module.
func TestCodeVersionSameFromAnyDirectory(t *testing.T) {
	t.Setenv(EnvCodeVersion, "")
	root := repoRoot(t)
	want, err := SourceHash(root)
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir() // a different module tree: must not be hashed
	writeFile(t, filepath.Join(other, "go.mod"), "module "+ModulePath+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(other, "internal/train/run.go"), "package train\n")
	for _, dir := range []string{root, filepath.Join(root, "internal", "tui"), t.TempDir(), other} {
		if got := DetectVersion(dir).Code; got != "src."+want {
			t.Errorf("code version from %s = %q, want src.%s (the source tree's hash)", dir, got, want)
		}
	}
	t.Setenv(EnvCodeVersion, "pinned-1")
	if got := DetectVersion(root).Code; got != "pinned-1" {
		t.Fatalf("with $%s set: %q", EnvCodeVersion, got)
	}
}

// TestEmbeddedSourcesMatchTree: the go:embed patterns of the root package
// cover exactly the files a walk of TrainingSources hashes, so adding a
// subdirectory or a .c file to a training package without embedding it
// fails here instead of leaving it out of the code version.
func TestEmbeddedSourcesMatchTree(t *testing.T) {
	tree, embedded := hashedFiles(t, os.DirFS(repoRoot(t))), hashedFiles(t, workbench.TrainingSources)
	if !slices.Equal(tree, embedded) {
		for _, f := range tree {
			if !slices.Contains(embedded, f) {
				t.Errorf("%s is a training source but not embedded: add it to the go:embed lines of sources.go", f)
			}
		}
		for _, f := range embedded {
			if !slices.Contains(tree, f) {
				t.Errorf("%s is embedded but not a training source on disk", f)
			}
		}
	}
	if a, b := must(hashSources(os.DirFS(repoRoot(t)))), must(embeddedCode()); a != b {
		t.Fatalf("tree hash %s, embedded hash %s", a, b)
	}
}

// hashedFiles lists the files of fsys that hashSources reads.
func hashedFiles(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var files []string
	for _, p := range TrainingSources {
		if _, err := fs.Stat(fsys, p); err != nil {
			t.Fatalf("training source %s: %v", p, err)
		}
		err := fs.WalkDir(fsys, p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				if err == nil && path != p && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
					return fs.SkipDir
				}
				return err
			}
			if isBuildSource(d.Name()) || path == p {
				if b, err := fs.ReadFile(fsys, path); err != nil {
					return err
				} else if !isMainOrIgnored(path, b) {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// repoRoot is this module's source tree (tests run in the package's
// directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.HasPrefix(string(b), "module "+ModulePath+"\n") {
		t.Fatalf("%s is not the module root: %v", root, err)
	}
	return root
}

// TestGitRunsNothingTheRepositoryConfigures: provenance runs git inside
// whatever directory the workbench is started in; a crafted repository
// must not get its fsmonitor hook, its hooks or its clean filter run.
func TestGitRunsNothingTheRepositoryConfigures(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo, marks := t.TempDir(), t.TempDir()
	gitT := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = []string{"GIT_CONFIG_NOSYSTEM=1"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GIT_") { // the test's own GIT_DIR below
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitT("init", "-q")
	// A workbench checkout (provenance asks no other repository), crafted.
	writeFile(t, filepath.Join(repo, "go.mod"), "module "+ModulePath+"\n")
	writeFile(t, filepath.Join(repo, "a.txt"), "hello\n")
	writeFile(t, filepath.Join(repo, ".gitattributes"), "* filter=evil\n")
	gitT("add", ".")
	gitT("commit", "-q", "-m", "one")
	commit := gitT("rev-parse", "HEAD")

	script := func(name string) string {
		path := filepath.Join(marks, name+".sh")
		text := "#!/bin/sh\ntouch '" + filepath.Join(marks, name+".ran") + "'\ncat >/dev/null\n"
		if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gitT("config", "core.fsmonitor", script("fsmonitor"))
	gitT("config", "filter.evil.clean", script("clean"))
	gitT("config", "filter.evil.required", "true")
	hooks := filepath.Join(repo, ".git", "hooks")
	for _, h := range []string{"post-index-change", "pre-commit", "post-checkout"} {
		if err := os.Symlink(script("hook-"+h), filepath.Join(hooks, h)); err != nil {
			t.Fatal(err)
		}
	}
	// Same content, new timestamps: git must compare the content, through
	// the clean filter, to tell whether it changed.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(repo, "a.txt"), future, future); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_DIR", t.TempDir()) // the caller's git environment must not redirect git

	v := DetectVersion(filepath.Join(repo, "sub"))
	if v.GitCommit != commit {
		t.Fatalf("commit %q, want %q (provenance did not ask git)", v.GitCommit, commit)
	}
	if ran, _ := filepath.Glob(filepath.Join(marks, "*.ran")); len(ran) > 0 {
		t.Fatalf("provenance ran the repository's commands: %v", ran)
	}
	if v.GitDirty {
		t.Error("a touched but unchanged file is reported dirty")
	}

	// Another repository the command runs in is not asked at all.
	other := t.TempDir()
	for _, args := range [][]string{{"init", "-q", other}, {"-C", other, "commit", "-q", "--allow-empty", "-m", "x"}} {
		gitT(args...)
	}
	if v := DetectVersion(other); v.GitCommit != "" {
		t.Errorf("commit %q from a repository that is not the workbench's", v.GitCommit)
	}

	writeFile(t, filepath.Join(repo, "a.txt"), "changed\n")
	if v := DetectVersion(repo); !v.GitDirty {
		t.Error("a changed tracked file is not reported dirty")
	}
	if ran, _ := filepath.Glob(filepath.Join(marks, "*.ran")); len(ran) > 0 {
		t.Fatalf("provenance ran the repository's commands: %v", ran)
	}
}

func TestDetectProvenance(t *testing.T) {
	p := DetectProvenance(".")
	if p.Host == "" || p.PID != os.Getpid() || !strings.HasPrefix(p.GoVersion, "go") || p.CodeVersion == "" {
		t.Fatalf("provenance %+v", p)
	}
}
