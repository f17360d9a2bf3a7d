package experiment

import (
	"fmt"
	"slices"
	"strings"
)

// DatasetKinds are the data set spec kinds of internal/data (DESIGN §3):
// "synthetic[:key=value,...]", "imagefolder:PATH", "cub:PATH",
// "nabirds:PATH", "dogs:PATH", "fashion-mnist[:PATH]".
var DatasetKinds = []string{"synthetic", "imagefolder", "cub", "nabirds", "dogs", "fashion-mnist"}

// checkDatasetSpec checks the form of a data set spec; whether the data set
// exists is the data package's business.
func checkDatasetSpec(spec string) error {
	kind, rest, hasRest := strings.Cut(spec, ":")
	if !slices.Contains(DatasetKinds, kind) {
		msg := fmt.Sprintf("unknown data set kind %q in %q", kind, spec)
		if m := suggest(kind, DatasetKinds); m != "" {
			msg += fmt.Sprintf("; did you mean %q?", m)
		}
		return fmt.Errorf("%s", msg)
	}
	switch kind {
	case "synthetic":
		if !hasRest {
			return nil
		}
		_, err := parseSynthetic(rest)
		return err
	case "fashion-mnist":
		if hasRest && rest == "" {
			return fmt.Errorf("%q: empty path after ':'", spec)
		}
	default:
		if rest == "" {
			return fmt.Errorf("%q needs a path: %s:PATH", spec, kind)
		}
	}
	return nil
}

// parseSynthetic reads "key=value,key=value" options of a synthetic spec.
func parseSynthetic(opts string) (map[string]string, error) {
	out := map[string]string{}
	if opts == "" {
		return nil, fmt.Errorf(`synthetic spec has ':' but no options (write "synthetic" or "synthetic:key=value,...")`)
	}
	for _, kv := range strings.Split(opts, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("synthetic option %q: want key=value", kv)
		}
		for _, c := range []byte(k) {
			if !isBareKeyChar(c) {
				return nil, fmt.Errorf("synthetic option %q: key may hold letters, digits, '-' and '_' only", kv)
			}
		}
		if strings.ContainsAny(v, ":= \t\n") {
			return nil, fmt.Errorf("synthetic option %q: value may not contain ':', '=' or spaces", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("synthetic option %q is set twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// withProfileData merges a profile's data keys into a synthetic spec (the
// spec's own keys win) and writes the keys sorted, so one data set has one
// spec. Other kinds are returned unchanged.
func withProfileData(spec string, data map[string]string) (string, error) {
	kind, rest, hasRest := strings.Cut(spec, ":")
	if kind != "synthetic" {
		return spec, nil
	}
	opts := map[string]string{}
	if hasRest {
		var err error
		if opts, err = parseSynthetic(rest); err != nil {
			return "", fmt.Errorf("data set %q: %w", spec, err)
		}
	}
	for k, v := range data {
		if _, set := opts[k]; !set {
			opts[k] = v
		}
	}
	if len(opts) == 0 {
		return "synthetic", nil
	}
	var parts []string
	for _, k := range sortedKeys(opts) {
		parts = append(parts, k+"="+opts[k])
	}
	return "synthetic:" + strings.Join(parts, ","), nil
}
