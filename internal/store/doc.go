// Package store keeps every run of the workbench in one SQLite file
// (runs.db): studies, runs with their status and provenance, params,
// append-only metrics, final summaries and artifacts such as checkpoints.
//
// Writers are the runner (one process per `workbench run`, several workers)
// and, through a [MetricWriter], the trainer's progress events. Readers are
// the CLI listings, internal/report, internal/plot and the TUI, which use the
// query methods of [Store] (Studies, Runs, Params, Summaries, Artifacts,
// Pivot, Series, Live) and never SQL of their own.
//
// The database runs in WAL mode with foreign keys on and a busy timeout, so
// any number of readers can work beside one writer. The schema is created
// and upgraded by numbered SQL migrations embedded in the binary; the
// applied version is recorded in the file.
//
// The store does not train, schedule or render anything, and it does not
// interpret configs: a run's config is opaque canonical JSON with its hash.
package store
