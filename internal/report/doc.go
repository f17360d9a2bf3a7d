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
// The rules live here and in docs/verdicts.md (the same text, longer). A
// claim compares Metric of Variant with Metric of Baseline (VersusMetric of
// Baseline, when set) over the seeds both have finished: a paired
// comparison, Δ = Variant − Baseline per seed, and expects Δ "higher"
// (> 0), "lower" (< 0) or "equal" (within ±tolerance). α = 0.05.
//
// An interaction claim (Variant2 and Baseline2 set) compares two gains: per
// seed that all four variants finished, Δ = (Variant − Baseline) −
// (Variant2 − Baseline2), e.g. "the two-step gain under recipe A equals
// its gain under recipe B". Δ is then judged by the same rules as a plain
// claim's (TOST for "equal", default tolerance included; for a relative
// default the scale is Baseline's level, not a gain). Its Holm identity is
// its four runs per seed, with the gains in either order.
//
//   - Deterministic claims (params.*, flops.*: the same for every seed) are
//     checked on every paired seed, exactly: "holds exactly" or "fails".
//     "equal" means Δ = 0 unless the claim sets a tolerance. They have no
//     p-value, are not in Holm's family and are not counted among
//     reproductions: a count that is true by construction reproduces
//     nothing.
//   - Degenerate data: fewer than two paired seeds, or no spread (every
//     seed gives the same Δ, as happens with few seeds on a small test set)
//     → "inconclusive (no spread: add seeds)". No CI and no p-value are
//     reported; never a zero-width CI or p = 0.
//   - higher / lower: the two-sided paired t-test. "reproduced" when the
//     Holm-adjusted p < α and Δ̄ lies on the claimed side; "not reproduced"
//     when the adjusted p < α on the other side; else "inconclusive". For
//     a single claim this is "the 95 % CI excludes 0".
//   - equal: equivalence by TOST (two one-sided t-tests at α each).
//     "reproduced" when the Holm-adjusted TOST p < α (for a single claim:
//     the 90 % CI lies inside ±tolerance); "not reproduced" when the 95 %
//     CI lies wholly beyond +tolerance or wholly beyond −tolerance; else
//     "inconclusive". A CI that excludes 0 but stays inside the tolerance
//     is equivalent; one that includes 0 but is wide is not.
//   - Tolerance: the claim's `tolerance`, else DefaultAccTolerance (0.5
//     points) for accuracies (acc.*, drop.*), exact (0) for deterministic
//     counts, and DefaultRelTolerance (1 %) of the baseline's mean for any
//     other metric. 0.5 points is the size of the smallest effects the
//     paper reports as real (0.3, 0.4), so "equal" reads "no difference as
//     large as the paper's real ones"; a claim that means less (the paper's
//     own "equal" is below its 0.1 rounding) sets a smaller tolerance and
//     needs many more seeds.
//   - Magnitude: a claim with the paper's effect (`delta`) also says where
//     that effect lies against the runs' 95 % CI: "magnitude consistent"
//     (inside it), "smaller" (the CI lies wholly nearer zero than the
//     paper's Δ, or on the other side) or "larger" (wholly beyond it).
//     Degenerate data get none. The paper's Δ is on CUB with Swin-L; at the
//     workbench's scale a magnitude is context, not part of the verdict.
//   - Resolution: an accuracy moves in steps of 100/N_test points, N_test
//     the run's test set (from its data set spec); the tables print it
//     beside Δ and say when it is coarser than an equal claim's tolerance.
//   - Multiple comparisons: the stochastic claims of the tables shown
//     together (every table of `workbench reproduce`, or the one table of
//     `workbench table`) form one family; each claim's raw p (paired t or
//     TOST) is adjusted by Holm's step-down method, and the verdict uses the
//     adjusted p. Claims that test the same runs with the same test (the
//     same comparison in two studies that share their runs, found by run
//     id) are one hypothesis, counted once. A claim without a p-value counts
//     as p = 1, so the family does not shrink when data are missing. The
//     "not reproduced" of an equal claim uses the unadjusted 95 % CI.
//   - Seeds needed: for every inconclusive stochastic claim, the paired
//     seeds that give 80 % power at the observed std of Δ, at level α/m
//     (Holm's strictest step, m the family size, so the plan holds whatever
//     the other claims do): to detect the paper's Δ (else the observed Δ)
//     with the paired t-test — exact power from the noncentral t
//     distribution (gonum's distuv.NoncentralT) — or, for an equal claim,
//     to show equivalence within the tolerance when Δ is truly 0 — TOST's
//     exact power, a normal–χ² integral by Gauss–Legendre quadrature.
//     Searched up to MaxSeedsNeeded (1,000, a spec's seed limit). Unknown
//     (no spread) when the std is 0 or undefined.
package report
