package runner

import (
	"context"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/store"
)

// JobsOf turns a study's expanded run specs into jobs.
func JobsOf(rs []experiment.RunSpec) []Job {
	out := make([]Job, len(rs))
	for i, r := range rs {
		out[i] = Job{Study: r.Study, Variant: r.Variant, Seed: r.Seed, Profile: r.Profile,
			Config: r.Config, ConfigJSON: r.ConfigJSON, Hash: r.Hash, Params: r.Params,
			DataFingerprint: r.DataFingerprint, CodeVersion: r.CodeVersion}
	}
	return out
}

// SubmitStudy records the study (its spec text and hash) and submits its
// expanded runs: the one way the CLI and the TUI queue a study.
func (r *Runner) SubmitStudy(ctx context.Context, s *experiment.Study, rs []experiment.RunSpec, force bool) (Plan, error) {
	rec := store.Study{Name: s.Name, Title: s.Title, Spec: string(s.Source), SpecHash: s.Hash}
	return r.Submit(ctx, rec, JobsOf(rs), force)
}
