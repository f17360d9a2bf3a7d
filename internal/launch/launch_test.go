package launch

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n%s", name, got)
	}
}

var workers = Workers{Count: 4, Parallel: 2, Binary: "/opt/workbench/bin/workbench", Workdir: "/home/ana/mksmt",
	Artifacts: "/shared/mksmt/artifacts", Studies: []string{"table9", "table10"}, IdleExit: 30 * time.Second}

func TestSlurmScript(t *testing.T) {
	s := Slurm{Workers: workers, JobName: "workbench-table9", Partition: "cpu", Time: "04:00:00", CPUsPerTask: 2}
	text, err := s.Script()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "table9.sbatch", []byte(text))
	for _, want := range []string{"#SBATCH --array=0-3%2\n", "#SBATCH --signal=B:USR1@120\n", "exec /opt/workbench/bin/workbench worker"} {
		if !strings.Contains(text, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(text, "postgres://") {
		t.Error("the script carries the database URL")
	}
	for _, bad := range []Slurm{
		{Workers: Workers{Count: 0, Artifacts: "/a"}},
		{Workers: Workers{Count: 2}},
		{Workers: Workers{Count: 2, Artifacts: "/a"}, Time: "four hours"},
	} {
		if _, err := bad.Script(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestKubernetesManifest(t *testing.T) {
	k := Kubernetes{Workers: workers, Name: "workbench-table9", Image: "registry.example/mksmt/workbench:1"}
	k.Workdir = "/work"
	b, err := k.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "table9-job.json", b)
	// Parsed back strictly: every field is one this package means to write.
	var job k8sJob
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&job); err != nil {
		t.Fatal(err)
	}
	s := job.Spec
	c := s.Template.Spec.Containers[0]
	if job.Kind != "Job" || job.APIVersion != "batch/v1" || s.CompletionMode != "Indexed" || s.Completions != 4 || s.Parallelism != 2 ||
		s.BackoffLimitPerIndex != 3 || s.Template.Spec.RestartPolicy != "Never" || c.Env[0].Name != EnvDB ||
		c.Env[0].ValueFrom.SecretKeyRef.Name != "workbench-db" || c.VolumeMounts[0].MountPath != workers.Artifacts ||
		strings.Join(c.Args, " ") != "worker --artifacts /shared/mksmt/artifacts --study table9 --study table10 --idle-exit 30s" {
		t.Fatalf("parsed back: %+v", job)
	}
	if _, err := (Kubernetes{Workers: workers}).Manifest(); err == nil {
		t.Error("a manifest without an image")
	}
	if _, err := (Kubernetes{Workers: workers, Image: "x", Name: "Bad_Name"}).Manifest(); err == nil {
		t.Error("a manifest with an invalid name")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"plain/path-1.0": "plain/path-1.0", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
