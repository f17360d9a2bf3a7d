// Package runner computes the runs of studies: it turns jobs (expanded
// study variants × seeds) into runs in the store, reuses identical finished
// runs by config hash, trains the rest on a queue of parallel workers, and
// records every outcome — finished with its summaries, failed with the
// error, diverged with the step, interrupted with a checkpoint to resume.
//
// While a run trains, its progress events become metric points through the
// store's batched MetricWriter (the trainer never waits on the disk), a
// heartbeat with the run's progress is written every few seconds, and a
// progress display shows a bar with rate and ETA per run on a terminal, or
// plain lines otherwise.
//
// Cancelling the runner's context (SIGINT, SIGTERM) makes running runs
// checkpoint and end interrupted; Resume continues them from their
// checkpoints. Runs of a process that died are found by store.Open.
//
// The runner does not parse study specs (internal/experiment does), compute
// anything of the training itself (internal/train does, through the injected
// TrainFunc), or read results for display (reports read the store).
package runner
