// Package launch starts `workbench worker` processes through the engines a
// researcher already has: a Slurm job array (sbatch), a Kubernetes Indexed
// Job (a manifest to apply), or plain processes on this machine. Every
// task is an identical worker that claims runs from the shared store, so
// the engine decides nothing about which run goes where: uneven run
// lengths balance themselves, and retries are the store's (leases and
// attempts), not the engine's.
//
// It must not talk to the store or train: it only writes scripts and
// manifests and runs the engine's client.
package launch

import (
	"fmt"
	"strings"
	"time"
)

// Workers is what every launched worker runs with.
type Workers struct {
	Count     int           // workers (array tasks, Job completions)
	Parallel  int           // at most this many at once (0: all)
	Binary    string        // the workbench executable, as the nodes see it
	Workdir   string        // the directory the workers start in
	Artifacts string        // the shared artifacts directory, as the nodes see it
	Studies   []string      // claim only these studies' runs
	IdleExit  time.Duration // 0: workers never exit for want of runs
	// Grace: a run without a heartbeat for this long is re-queued (0: the
	// worker's default).
	Grace time.Duration
	// CheckpointEvery is passed to the workers (0: their default).
	CheckpointEvery int
}

// EnvDB is the environment variable that carries the database URL to the
// workers, so that its password is never written into a script or a
// manifest.
const EnvDB = "WORKBENCH_DB"

// args are the worker's arguments after the binary.
func (w Workers) args() []string {
	a := []string{"worker", "--artifacts", w.Artifacts}
	for _, s := range w.Studies {
		a = append(a, "--study", s)
	}
	a = append(a, "--idle-exit", w.IdleExit.String()) // 0s: never
	if w.Grace > 0 {
		a = append(a, "--grace", w.Grace.String())
	}
	if w.CheckpointEvery > 0 {
		a = append(a, "--checkpoint-every", fmt.Sprint(w.CheckpointEvery))
	}
	return a
}

func (w Workers) check() error {
	switch {
	case w.Count < 1:
		return fmt.Errorf("--workers %d: want at least 1", w.Count)
	case w.Parallel < 0:
		return fmt.Errorf("--parallel %d: want 0 (all) or more", w.Parallel)
	case w.Artifacts == "":
		return fmt.Errorf("--artifacts is required: a directory every node sees at the same path")
	}
	return nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
