// Package tui is the workbench's terminal UI (bubbletea): define an
// ablation, start it, watch it train, and read the paper-style comparison
// without leaving one screen.
//
// Five screens, chosen with the number keys or tab (which work on every
// screen unless a text input is being typed into): 1 Studies (spec files
// and recorded studies with their progress), 2 Builder (a form that defines
// a study, validates it with the spec parser, saves experiments/NAME.toml
// and enqueues it), 3 Runs (filter with the language of
// runs --where, sort, select, details with curves, a side-by-side diff
// of selected runs, cancel, resume, archive, remove), 4 Live (progress
// from the metric stream, ETA and charts of the running runs, or of any
// run opened from Runs), 5 Compare (the
// table `workbench table` prints, exported with e). One keymap table
// (keys.go) drives both the key dispatch and the ? help.
//
// Layers, k9s style: screens (one file each) read runs.db only through the
// Store interface, a subset of internal/store's query API, and start or
// stop training only through the Runner interface (internal/runner's
// queue, adapted by the tui verb). Tables come from internal/report and
// figures from internal/plot, exactly as the CLI verbs make them.
//
// What tui must not do: talk SQL, train in its own goroutines, compute a
// number that is not read from the store, or block the UI on I/O (every
// load runs as a tea.Cmd and arrives as a message).
package tui
