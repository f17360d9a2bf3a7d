package runner

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/store"
)

// Queue adapts a Runner to the TUI's (internal/tui.Runner): it expands a study spec
// as `workbench run` does and submits the runs, so that a study started in
// the TUI reuses, resumes and records runs exactly like one started on the
// command line.
type Queue struct {
	Runner *Runner
	Store  *store.Store
	// Fingerprint identifies a data set's content for the run hashes (the
	// CLI's opens the data set); nil uses the spec text.
	Fingerprint func(datasetSpec string) (string, error)
	// CodeVersion is the training code's version (DetectVersion).
	CodeVersion string
}

// Enqueue expands the spec at path with profile ("" = the study's) and
// submits its runs.
func (q *Queue) Enqueue(ctx context.Context, specPath, profile string) (Plan, error) {
	study, err := experiment.Load(specPath)
	if err != nil {
		return Plan{}, err
	}
	specs, err := study.Expand(experiment.ExpandOptions{Profile: profile, Fingerprint: q.Fingerprint, CodeVersion: q.CodeVersion})
	if err != nil {
		return Plan{}, err
	}
	return q.Runner.SubmitStudy(ctx, study, specs, false)
}

// Cancel stops a run of this process's runner. A run that another
// workbench process on this machine is training is stopped by asking that
// process to stop (SIGINT): it checkpoints its runs and marks them
// interrupted, so the error says that all of its runs stop.
func (q *Queue) Cancel(id int64) error {
	err := q.Runner.Cancel(id)
	if err == nil {
		return nil
	}
	r, lerr := q.Store.Run(context.Background(), id)
	if lerr != nil {
		return err
	}
	host, _ := os.Hostname()
	if (r.Status != store.Running && r.Status != store.Queued) || r.Host != host || r.PID == os.Getpid() || !store.ProcessAlive(r.PID) {
		return err
	}
	if kerr := syscall.Kill(r.PID, syscall.SIGINT); kerr != nil {
		return fmt.Errorf("run %d belongs to workbench process %d, which could not be asked to stop: %w", id, r.PID, kerr)
	}
	return nil
}

// Resume queues interrupted or failed runs to continue from their
// checkpoints.
func (q *Queue) Resume(ctx context.Context, ids ...int64) (Plan, error) {
	return q.Runner.Resume(ctx, ids...)
}

// Active is the number of runs queued or running in this process.
func (q *Queue) Active() int { return q.Runner.Active() }
