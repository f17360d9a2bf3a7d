package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

func init() {
	register(&command{
		Name:    "run",
		Summary: "run studies: train every variant × seed not already in runs.db",
		Run:     runRun,
	})
}

// runOptions are the flags of `workbench run`.
type runOptions struct {
	db      string
	profile string
	seeds   string
	dataset string
	force   bool
	yes     bool
	grid    []experiment.Axis
	trainFlags
}

func runRun(ctx context.Context, args []string, io IO) error {
	var o runOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB) (created if missing)")
	fs.StringVar(&o.profile, "profile", "", "run length and sizes: smoke, quick or paper (default: the study's, else quick)")
	fs.StringVar(&o.seeds, "seeds", "", "comma-separated seeds, e.g. 1,2,3 (default: the study's)")
	o.trainFlags.register(fs)
	fs.StringVar(&o.dataset, "dataset", "", "data set spec for every run, e.g. synthetic or cub:/data/CUB_200_2011 (default: the study's)")
	fs.BoolVar(&o.force, "force", false, "train again even when an identical finished run exists")
	fs.BoolVar(&o.yes, "yes", false, fmt.Sprintf("train more than %d runs without asking", confirmAbove))
	var grid []string // parsed after the flags, so an error does not echo a long value
	fs.Func("grid", "a grid axis, KEY=V1,V2,... (repeatable): replaces the study's axis of that key or is crossed with its variants, within a spec's limits", func(v string) error {
		grid = append(grid, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench run SPEC... [--profile smoke|quick|paper] [--seeds 1,2,3] [--grid KEY=V1,V2] [--jobs N] [--dataset SPEC] [--db runs.db] [--force] [--yes]")
		fmt.Fprintln(io.Err, "\nSPEC is a study file (experiments/table9.toml) or a study name in experiments/ (table9).")
		fmt.Fprintln(io.Err, "Runs identical to a finished one (same config, data and code) are reused, not trained;")
		fmt.Fprintln(io.Err, "interrupted ones continue from their checkpoints. Ctrl-C stops training after a checkpoint.")
		fs.PrintDefaults()
	}
	specs, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		fs.Usage()
		return errors.New("run: name at least one study (e.g. workbench run experiments/table9.toml --profile smoke)")
	}
	if err := checkDBFlag("run", o.db); err != nil {
		return err
	}
	seeds, err := parseSeeds("run", o.seeds)
	if err != nil {
		return err
	}
	for _, g := range grid {
		a, err := experiment.ParseAxis(g)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		o.grid = append(o.grid, a)
	}
	if err := o.validate("run"); err != nil {
		return err
	}
	if err := checkProfile("run", o.profile); err != nil {
		return err
	}
	if o.dataset != "" && strings.TrimSpace(o.dataset) == "" {
		return errors.New("run: --dataset is blank: give a data set spec, e.g. --dataset synthetic")
	}

	// Expand every study before touching the database, so a typo in the
	// second spec does not leave the first one half queued.
	version := runner.DetectVersion(".") // walks the training sources: once per command
	prov := version.Provenance()
	studies, err := expandSpecs(specs, experiment.ExpandOptions{Profile: o.profile, Seeds: seeds, Grid: o.grid, Dataset: o.dataset,
		Fingerprint: datasetFingerprint, CodeVersion: version.Code})
	if err != nil {
		return err
	}

	// Many runs ask first, before anything is queued or recorded. Without
	// a database yet every run counts; with one, finished runs are reused.
	all := make([][]experiment.RunSpec, len(studies))
	for i, s := range studies {
		all[i] = s.runs
	}
	hashes := distinctRuns(all...)
	dbExisted := fileExists(o.db)
	if !dbExisted {
		if err := confirmRuns(io, "run", len(hashes), o.yes); err != nil {
			return err
		}
	}
	st, err := openForWrite(io, o.db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if dbExisted {
		n, err := toTrain(ctx, st, hashes, o.force)
		if err != nil {
			return err
		}
		if err := confirmRuns(io, "run", n, o.yes); err != nil {
			return err
		}
	}
	r, err := runner.New(ctx, st, runner.Options{Jobs: o.jobs, Provenance: &prov, Progress: io.Out, TTY: io.IsTTY, Width: termWidth(io),
		CheckpointEvery: o.checkpointEvery, DropFinishedCheckpoints: o.dropCheckpoints})
	if err != nil {
		return err
	}
	var plan runner.Plan
	var submitErr error
	for _, s := range studies {
		p, err := r.SubmitStudy(ctx, s.study, s.runs, o.force)
		if err != nil {
			submitErr = err
			break
		}
		plan.Queued = append(plan.Queued, p.Queued...)
		plan.Resumed = append(plan.Resumed, p.Resumed...)
		plan.Reused = append(plan.Reused, p.Reused...)
		plan.Busy = append(plan.Busy, p.Busy...)
	}
	if submitErr == nil {
		r.Wait()
	}
	outcomes, closeErr := r.Close()
	if submitErr != nil {
		// Stopped while queueing: the runs queued so far are reported too.
		fmt.Fprint(io.Err, runner.NotFinished(outcomes))
		return errors.Join(submitErr, closeErr)
	}
	err = reportOutcomes(io, outcomes, fmt.Sprintf(", %d reused", len(plan.Reused)), len(plan.Busy))
	return errors.Join(err, closeErr)
}

// reportOutcomes prints the tally of a run or resume and returns an error
// when runs failed or were interrupted.
func reportOutcomes(io IO, outcomes []runner.Outcome, extra string, busy int) error {
	count := map[store.Status]int{}
	var failed []string
	for _, o := range outcomes {
		count[o.Status]++
		if o.Status == store.Failed {
			failed = append(failed, strconv.FormatInt(o.RunID, 10))
		}
	}
	line := fmt.Sprintf("trained %d run(s)%s", count[store.Finished]+count[store.Diverged], extra)
	if n := count[store.Diverged]; n > 0 {
		line += fmt.Sprintf(", %d diverged", n)
	}
	if n := count[store.Failed]; n > 0 {
		line += fmt.Sprintf(", %d failed", n)
	}
	if n := count[store.Interrupted]; n > 0 {
		line += fmt.Sprintf(", %d interrupted", n)
	}
	if busy > 0 {
		line += fmt.Sprintf(", %d left to another workbench process already running them", busy)
	}
	fmt.Fprintln(io.Out, line)
	fmt.Fprint(io.Err, runner.NotFinished(outcomes))
	var errs []error
	if n := count[store.Queued]; n > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) could not be started or recorded", n))
	}
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) failed (%s): see workbench show RUN", len(failed), strings.Join(failed, ", ")))
	}
	if n := count[store.Interrupted]; n > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) interrupted: continue them with workbench resume", n))
	}
	return errors.Join(errs...)
}

// parseSeeds reads "1,2,3"; "" is nil (the study's seeds). Seeds obey a
// spec's limits: 0 or more, each once, at most maxSeedsFlag of them.
func parseSeeds(verb, s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	fields := strings.Split(s, ",")
	if len(fields) > maxSeedsFlag {
		return nil, fmt.Errorf("%s: --seeds has %d seeds (allowed: at most %d, as in a study spec)", verb, len(fields), maxSeedsFlag)
	}
	var out []int64
	seen := map[int64]bool{}
	for _, f := range fields {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: --seeds: %q is not an integer (want e.g. 1,2,3)", verb, strings.TrimSpace(f))
		}
		if v < 0 {
			return nil, fmt.Errorf("%s: --seeds: seed %d is negative (allowed: 0 or more)", verb, v)
		}
		if seen[v] {
			return nil, fmt.Errorf("%s: --seeds: seed %d is given twice", verb, v)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// datasetFingerprint opens a data set (data.Open keeps it for training) at
// the reference input size to fingerprint its content for the run hashes.
// Its error is data.Open's, which names the data set: experiment.Expand
// does not name it again.
func datasetFingerprint(spec string) (string, error) {
	ds, err := data.Open(spec, train.DefaultConfig().ImageSize)
	if err != nil {
		return "", err
	}
	return ds.Fingerprint(), nil
}

// expanded is a study with its runs.
type expanded struct {
	study *experiment.Study
	runs  []experiment.RunSpec
}

// expandSpecs loads and expands every study named (a file or a name in
// experiments/) before anything touches the database, so that a typo in
// the second spec does not leave the first one half queued.
func expandSpecs(specs []string, opt experiment.ExpandOptions) ([]expanded, error) {
	var out []expanded
	for _, arg := range specs {
		path, err := experiment.Resolve(arg, "experiments")
		if err != nil {
			return nil, err
		}
		study, err := experiment.Load(path)
		if err != nil {
			return nil, err
		}
		rs, err := study.Expand(opt)
		if err != nil {
			return nil, err
		}
		out = append(out, expanded{study, rs})
	}
	return out, nil
}
