package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/atomicfile"
)

// Slurm is a job array of workers.
type Slurm struct {
	Workers
	JobName     string
	Partition   string // "" : the cluster's default
	Time        string // HH:MM:SS, "" : the partition's default
	CPUsPerTask int    // 0: 2 (the trainer's kernels use two cores)
	// SignalLead is how long before the time limit Slurm sends SIGUSR1 to
	// a worker, which then checkpoints and gives its run back (default
	// 120 s).
	SignalLead time.Duration
}

// Script is the sbatch script: one array task per worker, at most Parallel
// at once, each exec'ing `workbench worker` (so that the batch shell's
// signal reaches the worker itself). The database URL comes from
// $WORKBENCH_DB in the submitting environment, which sbatch exports.
func (s Slurm) Script() (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if s.Time != "" && !validTime(s.Time) {
		return "", fmt.Errorf("--time %q: want [D-]HH:MM:SS, e.g. 04:00:00", s.Time)
	}
	cpus := s.CPUsPerTask
	if cpus <= 0 {
		cpus = 2
	}
	lead := s.SignalLead
	if lead <= 0 {
		lead = 120 * time.Second
	}
	array := fmt.Sprintf("0-%d", s.Count-1)
	if s.Parallel > 0 {
		array += fmt.Sprintf("%%%d", s.Parallel)
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", s.JobName)
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", cpus)
	fmt.Fprintf(&b, "#SBATCH --signal=B:USR1@%d\n", int(lead.Seconds()))
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(s.Artifacts, "slurm", "%x-%A_%a.out"))
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", s.Workdir)
	if s.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
	}
	if s.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", s.Time)
	}
	b.WriteString("#\n# Every task is an identical workbench worker: it claims queued runs from the\n")
	b.WriteString("# database in $" + EnvDB + " until none is left. SIGUSR1 (the time limit is near)\n")
	b.WriteString("# or SIGTERM (scancel, preemption) makes it checkpoint and give its run back.\n")
	b.WriteString(": \"${" + EnvDB + ":?set " + EnvDB + " to the database URL before sbatch}\"\n")
	args := append([]string{shellQuote(s.Binary)}, quoteAll(s.args())...)
	b.WriteString("exec " + strings.Join(args, " ") + "\n")
	return b.String(), nil
}

func quoteAll(a []string) []string {
	out := make([]string, len(a))
	for i, s := range a {
		out[i] = shellQuote(s)
	}
	return out
}

func validTime(t string) bool {
	if d, rest, ok := strings.Cut(t, "-"); ok {
		if _, err := strconv.Atoi(d); err != nil {
			return false
		}
		t = rest
	}
	parts := strings.Split(t, ":")
	if len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 {
			return false
		}
	}
	return true
}

// Submit writes the script into Artifacts/slurm and submits it with
// sbatch, passing dbURL in the environment. It returns the job id and the
// script's path. A missing or failing sbatch is a clear error; the runs
// stay queued for a later submit or worker.
func (s Slurm) Submit(ctx context.Context, dbURL string) (jobID, script string, err error) {
	text, err := s.Script()
	if err != nil {
		return "", "", err
	}
	sbatch, err := exec.LookPath("sbatch")
	if err != nil {
		return "", "", errors.New("sbatch not found: is this a Slurm login node? (the runs stay queued: run workbench worker, or submit again where sbatch works)")
	}
	dir := filepath.Join(s.Artifacts, "slurm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	script = filepath.Join(dir, s.JobName+".sbatch")
	if err := atomicfile.WriteFile(script, []byte(text), 0o755); err != nil {
		return "", "", err
	}
	cmd := exec.CommandContext(ctx, sbatch, "--parsable", script)
	cmd.Env = append(os.Environ(), EnvDB+"="+dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", script, fmt.Errorf("sbatch %s: %v: %s (the runs stay queued: fix the cluster and submit again)", script, err, strings.TrimSpace(string(out)))
	}
	jobID, _, _ = strings.Cut(strings.TrimSpace(string(out)), ";")
	return jobID, script, nil
}
