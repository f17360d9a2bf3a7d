package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mksmt/workbench/internal/atomicfile"
	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/launch"
	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "submit",
		Summary: "queue studies in a shared database and start workers on Slurm, Kubernetes or this machine",
		Run:     runSubmit,
	})
}

type submitOptions struct {
	db, artifacts, profile, seeds string
	force, yes, dryRun            bool
	slurm, k8s                    bool
	local                         int
	workers, parallel, cpus       int
	partition, time, image, out   string
	idleExit, grace               time.Duration
	checkpointEvery               int
}

func runSubmit(ctx context.Context, args []string, io IO) error {
	var o submitOptions
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", defaultDB(io), "the shared database: a postgres:// URL or an SQLite file ($"+envDB+")")
	fs.StringVar(&o.artifacts, "artifacts", artifactsDefault(io), "the artifacts directory (checkpoints, worker logs), the same path on every node")
	fs.StringVar(&o.profile, "profile", "", "smoke, quick or paper (default: the study's, else quick)")
	fs.StringVar(&o.seeds, "seeds", "", "comma-separated seeds (default: the study's)")
	fs.BoolVar(&o.force, "force", false, "queue again even when an identical finished run exists")
	fs.BoolVar(&o.yes, "yes", false, fmt.Sprintf("queue more than %d runs without asking", confirmAbove))
	fs.BoolVar(&o.slurm, "slurm", false, "start the workers as a Slurm job array (sbatch)")
	fs.BoolVar(&o.k8s, "k8s", false, "write a Kubernetes Indexed Job manifest of the workers")
	fs.IntVar(&o.local, "local", 0, "start this many workers on this machine and wait for them")
	fs.IntVar(&o.workers, "workers", 4, "workers (array tasks, Job completions)")
	fs.IntVar(&o.parallel, "parallel", 0, "at most this many workers at once (0: all)")
	fs.IntVar(&o.cpus, "cpus-per-task", 2, "CPUs per Slurm task")
	fs.StringVar(&o.partition, "partition", "", "Slurm partition (default: the cluster's)")
	fs.StringVar(&o.time, "time", "", "Slurm time limit per task, HH:MM:SS")
	fs.StringVar(&o.image, "image", "", "container image for --k8s (its entrypoint is the workbench binary)")
	fs.StringVar(&o.out, "out", "", "with --k8s: write the manifest here instead of standard output")
	fs.BoolVar(&o.dryRun, "dry-run", false, "with --slurm: print the script instead of submitting it")
	fs.DurationVar(&o.idleExit, "idle-exit", 30*time.Second, "workers stop when no run has been queued for this long")
	fs.IntVar(&o.checkpointEvery, "checkpoint-every", 50, "workers write a checkpoint every N batches")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "workers re-queue a run whose worker sent no heartbeat for this long")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench submit SPEC... --db URL --artifacts DIR [--profile P] [--seeds 1,2,3]")
		fmt.Fprintln(io.Err, "         [--slurm [--workers N] [--parallel P] [--partition P] [--time HH:MM:SS] [--cpus-per-task C] [--dry-run]")
		fmt.Fprintln(io.Err, "          | --k8s --image IMAGE [--out job.json] | --local N]")
		fmt.Fprintln(io.Err, "\nQueues the studies' runs in the shared database (finished identical runs are reused), then")
		fmt.Fprintln(io.Err, "starts identical `workbench worker` processes that claim them. Without a launcher the runs")
		fmt.Fprintln(io.Err, "wait for workers started any other way.")
		fs.PrintDefaults()
	}
	specs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		fs.Usage()
		return errors.New("submit: name at least one study")
	}
	if err := o.check(); err != nil {
		return err
	}
	seeds, err := parseSeeds("submit", o.seeds)
	if err != nil {
		return err
	}
	if err := checkProfile("submit", o.profile); err != nil {
		return err
	}
	version := runner.DetectVersion(".")
	studies, err := expandSpecs(specs, experiment.ExpandOptions{Profile: o.profile, Seeds: seeds,
		Fingerprint: datasetFingerprint, CodeVersion: version.Code})
	if err != nil {
		return err
	}
	if o.artifacts == "" {
		if store.IsURL(o.db) {
			return fmt.Errorf("submit: --artifacts DIR (or $%s) is required with a PostgreSQL --db: checkpoints and worker logs go there, on storage every node sees at the same path", envArtifacts)
		}
		o.artifacts = o.db + ".d"
	}
	if o.artifacts, err = filepath.Abs(o.artifacts); err != nil {
		return err
	}
	st, err := openShared(io, "submit", o.db, o.artifacts)
	if err != nil {
		return err
	}
	defer st.Close()
	all := make([][]experiment.RunSpec, len(studies))
	for i, s := range studies {
		all[i] = s.runs
	}
	n, err := toTrain(ctx, st, distinctRuns(all...), o.force)
	if err != nil {
		return err
	}
	if o.dryRun {
		fmt.Fprintf(io.Out, "# dry run: %d run(s) would be queued in %s; nothing was queued or submitted\n", n, st.Path())
	} else if err := confirmRuns(io, "submit", n, o.yes); err != nil {
		return err
	}
	var names []string
	var plan runner.Plan
	for _, s := range studies {
		names = append(names, s.study.Name)
		if o.dryRun {
			continue
		}
		p, err := runner.Enqueue(ctx, st, store.Study{Name: s.study.Name, Title: s.study.Title, Spec: string(s.study.Source), SpecHash: s.study.Hash},
			runner.JobsOf(s.runs), o.force)
		if err != nil {
			return err
		}
		plan.Queued = append(plan.Queued, p.Queued...)
		plan.Resumed = append(plan.Resumed, p.Resumed...)
		plan.Reused = append(plan.Reused, p.Reused...)
		plan.Busy = append(plan.Busy, p.Busy...)
	}
	if !o.dryRun {
		fmt.Fprintf(io.Out, "queued %d run(s) (%d continue from checkpoints), %d reused, %d already queued or running in %s\n",
			plan.Train(), len(plan.Resumed), len(plan.Reused), len(plan.Busy), st.Path())
	}

	bin, err := os.Executable()
	if err != nil {
		return err
	}
	wd, _ := os.Getwd()
	w := launch.Workers{Count: o.workers, Parallel: o.parallel, Binary: bin, Workdir: wd, Artifacts: o.artifacts,
		Studies: names, IdleExit: o.idleExit, Grace: o.grace, CheckpointEvery: o.checkpointEvery}
	switch {
	case o.slurm:
		s := launch.Slurm{Workers: w, JobName: "workbench-" + strings.Join(names, "-"), Partition: o.partition, Time: o.time, CPUsPerTask: o.cpus}
		if o.dryRun {
			text, err := s.Script()
			if err != nil {
				return err
			}
			fmt.Fprint(io.Out, text)
			return nil
		}
		id, script, err := s.Submit(ctx, o.db)
		if err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		fmt.Fprintf(io.Out, "submitted Slurm job %s: %d worker(s) (%s); logs in %s\n", id, o.workers, script, filepath.Join(o.artifacts, "slurm"))
	case o.k8s:
		k := launch.Kubernetes{Workers: w, Name: strings.ToLower("workbench-" + strings.Join(names, "-")), Image: o.image}
		k.Binary, k.Workdir = "", ""
		b, err := k.Manifest()
		if err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		if o.out == "" {
			_, err = io.Out.Write(b)
			return err
		}
		if !store.IsURL(o.db) {
			g, err := newStoreGuard(o.db)
			if err != nil {
				return err
			}
			if err := g.check("--out", o.out); err != nil {
				return fmt.Errorf("submit: %w", err)
			}
		}
		if err := atomicfile.WriteFile(o.out, b, 0o644); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		fmt.Fprintf(io.Out, "wrote %s: kubectl create secret generic workbench-db --from-literal=url=URL; kubectl apply -f %s\n", o.out, o.out)
	case o.local > 0:
		return startLocal(ctx, io, bin, o.local, o.db, w)
	default:
		fmt.Fprintln(io.Out, "no launcher given: start workers with `workbench worker --db … --artifacts …` anywhere")
	}
	return nil
}

func (o submitOptions) check() error {
	launchers := 0
	for _, on := range []bool{o.slurm, o.k8s, o.local > 0} {
		if on {
			launchers++
		}
	}
	switch {
	case launchers > 1:
		return errors.New("submit: give one launcher: --slurm, --k8s or --local N")
	case o.local < 0:
		return fmt.Errorf("submit: --local %d: want a number of workers", o.local)
	case o.workers < 1 || o.workers > 10000:
		return fmt.Errorf("submit: --workers %d is out of range (allowed: 1 to 10000)", o.workers)
	case o.parallel < 0:
		return fmt.Errorf("submit: --parallel %d: want 0 (all) or more", o.parallel)
	case o.cpus < 1:
		return fmt.Errorf("submit: --cpus-per-task %d: want 1 or more", o.cpus)
	case o.k8s && o.image == "":
		return errors.New("submit: --k8s needs --image: a container image whose entrypoint is the workbench binary")
	case o.dryRun && !o.slurm:
		return errors.New("submit: --dry-run goes with --slurm")
	case o.out != "" && !o.k8s:
		return errors.New("submit: --out goes with --k8s")
	}
	return nil
}

// startLocal runs n workers on this machine, as child processes, and
// waits for them; Ctrl-C reaches them too, and each gives its run back.
func startLocal(ctx context.Context, io IO, bin string, n int, db string, w launch.Workers) error {
	var wg sync.WaitGroup
	var started []*exec.Cmd
	errs := make([]error, n)
	for i := range n {
		args := []string{"worker", "--artifacts", w.Artifacts, "--idle-exit", w.IdleExit.String(),
			"--grace", w.Grace.String(), "--checkpoint-every", strconv.Itoa(w.CheckpointEvery)}
		for _, s := range w.Studies {
			args = append(args, "--study", s)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), envDB+"="+db)
		cmd.Stdout, cmd.Stderr = io.Out, io.Err
		if err := cmd.Start(); err != nil {
			// Stop the workers already started rather than orphan them.
			for _, c := range started {
				c.Process.Signal(os.Interrupt)
			}
			wg.Wait()
			return fmt.Errorf("submit: start worker %d: %w", i+1, err)
		}
		started = append(started, cmd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			go func() {
				select {
				case <-ctx.Done():
					cmd.Process.Signal(os.Interrupt)
				case <-done:
				}
			}()
			errs[i] = cmd.Wait()
			close(done)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
