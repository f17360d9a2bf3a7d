// Package experiment turns study specs (experiments/*.toml) into run configs.
//
// A study is one TOML file: a name and title, the paper table it renders,
// defaults (data set, backbone, profile), a [base] of train.Config overrides,
// named [[variant]] overrides and/or [grid] axes, seeds, the metrics to
// tabulate, and the paper's figures and claims (DESIGN §1) for side-by-side
// display and verdicts. Parse validates a spec completely and reports every
// problem as "file:line: field: message (allowed: ...)". Expand applies a
// profile (smoke, quick, paper) and yields one RunSpec per variant and seed,
// each with the effective train.Config and a hash that identifies an
// identical run across studies.
//
// The effective config of a run is built in this order, later wins:
//
//	train.DefaultConfig() ← backbone defaults ← profile ← study defaults
//	  ← [base] ← variant ← seed
//
// then settings that DESIGN §1–2 give no effect are canonicalised (see
// Canonical), so that the same training run hashes the same wherever it is
// written down.
//
// Inputs are bounded (see the Max* constants): Load reads a spec only from
// a regular file of at most MaxSpecBytes (1 MiB), through a limited reader,
// so /dev/zero, a FIFO or a huge file fails at once with the file and the
// limit named; Parse refuses text over 1 MiB and text whose brackets and
// braces nest deeper than MaxSpecDepth (8; "file:line: nesting deeper than
// 8") before the TOML decoder sees it. A study has at most MaxSeeds (1,000)
// seeds, none negative, MaxVariants (1,000) variants and MaxRuns (10,000)
// runs; Expand applies the same limits to the overrides it is given
// (ExpandOptions.Seeds and Grid, the CLI's --seeds and --grid) and refuses a
// synthetic data set that cannot fit in the machine's memory
// (data.CheckMemory).
//
// This package only reads and writes spec text and computes configs: it must
// not open data sets (the caller passes a fingerprint function), train, touch
// runs.db or print. Every number it holds about the paper comes from the
// shipped spec files, never from code.
package experiment
