package experiment

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/train"
)

// TestProfileTiming trains the paper studies' runs under a profile and
// reports how long they take, to calibrate the profiles (profile.go). It
// trains for real, so it runs only when asked:
//
//	MKSMT_PROFILE_TIMING=smoke go test ./internal/experiment -run ProfileTiming -v
//	MKSMT_PROFILE_TIMING=quick MKSMT_TIMING_VARIANTS=two-step,three-step go test ...
//
// smoke trains every distinct run of the six paper studies and fails when
// they take a minute or more; quick trains the named variants (default
// two-step) at seed 1 and logs seconds and images/s per run.
func TestProfileTiming(t *testing.T) {
	prof := os.Getenv("MKSMT_PROFILE_TIMING")
	if prof == "" {
		t.Skip("set MKSMT_PROFILE_TIMING=smoke|quick|paper to train and time the paper studies")
	}
	only := map[string]bool{}
	if v := os.Getenv("MKSMT_TIMING_VARIANTS"); v != "" {
		for _, l := range strings.Split(v, ",") {
			only[l] = true
		}
	} else if prof != "smoke" {
		only["two-step"] = true
	}
	seen := map[string]bool{}
	var todo []RunSpec
	for _, s := range loadShipped(t) {
		runs, err := s.Expand(ExpandOptions{Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if seen[r.Hash] || len(only) > 0 && (!only[r.Variant] || r.Seed != s.Seeds[0]) {
				continue
			}
			seen[r.Hash] = true
			todo = append(todo, r)
		}
	}
	start := time.Now()
	for _, r := range todo {
		t0 := time.Now()
		ds, err := data.Open(r.Config.Dataset, r.Config.ImageSize)
		if err != nil {
			t.Fatal(err)
		}
		res, err := train.Run(context.Background(), r.Config, ds, train.Options{})
		if err != nil {
			t.Fatalf("%s/%s seed %d: %v", r.Study, r.Variant, r.Seed, err)
		}
		t.Logf("%-16s %-14s seed %d: %5.1f s wall, %5.1f s training, %4.0f images/s, acc.S4 %.1f",
			r.Study, r.Variant, r.Seed, time.Since(t0).Seconds(), res.Summaries[train.KeyTrainSeconds],
			res.Summaries[train.KeyImagesPerSec], res.Summaries[train.KeyAccS4])
	}
	total := time.Since(start)
	t.Logf("profile %s: %d distinct runs in %.1f s", prof, len(todo), total.Seconds())
	if prof == "smoke" && total >= time.Minute {
		t.Errorf("smoke: the paper studies took %v; the profile promises well under a minute", total)
	}
}
