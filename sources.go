// Package workbench holds what the workbench's binaries must carry from the
// module's source tree. It lives at the module root because go:embed cannot
// reach a parent directory.
package workbench

import "embed"

// TrainingSources are the files whose content decides what a run computes
// (runner.TrainingSources lists the same paths), embedded at build time so
// that the code version is the hash of the code this binary was built from,
// whatever directory it runs in. The patterns take test files too (go:embed
// cannot exclude them); the hash leaves them out. A test in internal/runner
// checks that this set hashes the same as a walk of the source tree, so a
// new subdirectory or file kind in a training package cannot be missed.
//
//go:embed go.mod go.sum
//go:embed internal/train/*.go
//go:embed internal/nets/*.go internal/nets/nettest/*.go
//go:embed internal/ops/*.go internal/ops/*.c internal/ops/*.h internal/ops/vec/*.go internal/ops/vec/*.s
//go:embed internal/data/*.go
var TrainingSources embed.FS
