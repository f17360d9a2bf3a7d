package experiment

import (
	"fmt"
	"maps"

	"github.com/mksmt/workbench/internal/data"
)

// DatasetKinds are the data set spec kinds internal/data reads (DESIGN §3):
// "synthetic[:key=value,...]", "imagefolder:PATH", "cub:PATH", ...
func DatasetKinds() []string { return data.Kinds() }

// checkDatasetSpec checks the form and options of a data set spec with the
// data package's own parser; whether the files exist is checked when the
// data set is opened.
func checkDatasetSpec(spec string) error {
	_, err := data.ParseSpec(spec)
	return err
}

// withProfileData merges a profile's size keys into a data set spec (the
// spec's own keys win): Data into a synthetic spec, Real into the others
// (only keys the kind accepts). It returns the data package's canonical
// form of the spec, so one data set has one spec text.
func withProfileData(spec string, prof Profile) (string, error) {
	sp, err := data.ParseSpec(spec)
	if err != nil {
		return "", err
	}
	extra := prof.Real
	if sp.Kind == data.KindSynthetic {
		extra = prof.Data
	}
	for _, k := range sortedKeys(extra) {
		if _, set := sp.Options[k]; set {
			continue
		}
		try := sp
		try.Options = maps.Clone(sp.Options)
		try.Options[k] = extra[k]
		// A path kind reads only trailing keys it knows as options; check
		// the key survives as one rather than becoming part of the path.
		got, err := data.ParseSpec(try.String())
		if err != nil {
			return "", fmt.Errorf("profile %s adds %s=%s: %w", prof.Name, k, extra[k], err) // err names the spec
		}
		if _, ok := got.Options[k]; ok && got.Path == sp.Path {
			sp = got
		}
	}
	return sp.String(), nil
}
