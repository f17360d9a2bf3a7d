// Package report turns the finished runs of a study into the paper-style
// comparison tables of the MKSMT workbench: per variant and metric the seed
// mean, sample standard deviation, n, 95 % confidence interval (Student's t),
// minimum and maximum; a paired comparison of every variant against the
// study's baseline over matching seeds; and a verdict for each of the paper's
// claims. Tables render as terminal text (lipgloss), Markdown, CSV, JSON and
// LaTeX (booktabs).
//
// The core works on plain values — a Spec describing the study and a list of
// RunResult — so that it can be tested and reused without a database. One
// thin adapter (store.go) loads those values through internal/store's query
// API.
//
// What report must not do: talk SQL, start or schedule runs, draw pictures
// (internal/plot does), or print a number that does not come from a stored
// run. Where a cell has no finished run it says so instead of guessing.
//
// # Verdicts
//
// A claim compares Metric of Variant against Baseline over the seeds both
// have finished (a paired comparison; the delta is Variant − Baseline) and
// expects it to be "higher", "lower" or "equal".
//
//   - higher / lower: reproduced when the 95 % CI of the mean delta excludes
//     zero on the claimed side; not reproduced when it excludes zero on the
//     other side; inconclusive when it includes zero.
//   - equal: reproduced when the whole CI lies within ±tolerance (an
//     equivalence check: the interval includes zero or comes close to it
//     and is narrow enough to rule out any difference that matters; a CI
//     that excludes zero but stays inside the tolerance also counts, so that a deterministic metric such as FLOPs that differs by a
//     hair is "about equal", as the paper says); not reproduced when the CI
//     excludes zero and reaches beyond the tolerance; inconclusive when it
//     includes zero but is wider than the tolerance.
//
// The tolerance of an equal claim is DefaultAccTolerance (1 percentage
// point) for accuracy metrics ("acc.*", "drop.*") and DefaultRelTolerance
// (1 %) of the baseline's mean for every other metric (parameters, FLOPs,
// seconds). The paper's own "equal" (single-step vs two-step, S3) is a
// difference below its rounding of 0.1, while it treats 0.4 points as a
// real difference; at the workbench's small scale a few seeds rarely give
// intervals narrower than a point, so a tighter tolerance would make every
// "equal" claim inconclusive.
//
// Fewer than two paired seeds give no confidence interval: the verdict is
// inconclusive and says why.
package report
