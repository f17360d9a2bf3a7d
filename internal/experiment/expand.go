package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/runspec"
)

// ExpandOptions choose how a study is expanded into runs.
type ExpandOptions struct {
	Profile string // "" = the study's, else DefaultProfile
	// Seeds replace the study's (nil: the study's); the CLI's --seeds.
	// They meet the spec's limits: at most MaxSeeds, none negative or
	// repeated, and at most MaxRuns runs with the variants.
	Seeds []int64
	// Grid axes replace the study's axis of the same key or are added to
	// its grid (crossed with its named variants), checked like a spec's
	// [grid]: known settings, valid values, at most MaxVariants variants
	// and MaxRuns runs. ParseAxis reads one from "key=v1,v2,...".
	Grid    []Axis
	Dataset string // "" = the study's; replaces it for every variant
	// Fingerprint identifies the data set's content for the run hash (the
	// CLI passes one that opens the data set). nil uses the spec text itself,
	// which is right only for data sets generated from their spec.
	Fingerprint func(datasetSpec string) (string, error)
	CodeVersion string // git commit (+dirty) of the workbench
}

// RunSpec is one run of a study: a variant at a seed.
type RunSpec struct {
	Study, Variant string
	Seed           int64
	Profile        string
	// Config is the effective config: runspec.DefaultConfig() ← backbone
	// defaults ← profile ← study defaults ← [base] ← variant ← seed, then
	// Canonical.
	Config          runspec.Config
	ConfigJSON      string            // canonical JSON of Config, as hashed
	Params          map[string]string // Config flattened by toml name, for runs.params
	DataFingerprint string
	CodeVersion     string
	// Hash is the sha256 (hex) of the canonical JSON of Config, the data
	// fingerprint and the code version: equal hashes are the same run,
	// whichever study or label it came from.
	Hash string
}

// Expand yields one RunSpec per variant and seed, variants outermost, in
// the study's order.
func (s *Study) Expand(o ExpandOptions) ([]RunSpec, error) {
	profName := o.Profile
	if profName == "" {
		profName = s.Profile
	}
	if profName == "" {
		profName = DefaultProfile
	}
	prof, err := LookupProfile(profName)
	if err != nil {
		return nil, fmt.Errorf("study %s: %w", s.Name, err)
	}
	seeds, seedsFrom := s.Seeds, "seeds"
	if o.Seeds != nil {
		seeds, seedsFrom = o.Seeds, "--seeds"
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("study %s: no seeds to run", s.Name)
	}
	if err := checkSeeds(seedsFrom, seeds); err != nil {
		return nil, fmt.Errorf("study %s: %w", s.Name, err)
	}
	variants, hint := s.Variants, ""
	if o.Grid != nil {
		if variants, err = s.variantsWithGrid(o.Grid); err != nil {
			return nil, fmt.Errorf("study %s: %w", s.Name, err)
		}
		hint = "; give fewer --grid values"
	}
	if len(variants) == 0 {
		return nil, fmt.Errorf("study %s: no variants", s.Name)
	}
	if o.Seeds != nil {
		hint += "; give fewer --seeds"
	}
	if err := checkRuns(len(variants), len(seeds), hint); err != nil {
		return nil, fmt.Errorf("study %s: %w", s.Name, err)
	}
	dataset := o.Dataset
	if dataset == "" {
		dataset = s.Dataset
	}
	if dataset == "" {
		dataset = runspec.DefaultConfig().Dataset
	}
	if err := checkDatasetSpec(dataset); err != nil {
		return nil, fmt.Errorf("study %s: %w", s.Name, err) // "data set spec ...: ..."
	}
	if dataset, err = withProfileData(dataset, prof); err != nil {
		return nil, fmt.Errorf("study %s: %w", s.Name, err)
	}
	fingerprint := "spec:" + dataset
	if o.Fingerprint != nil {
		if fingerprint, err = o.Fingerprint(dataset); err != nil {
			return nil, fmt.Errorf("study %s: %w", s.Name, dataErr(dataset, err))
		}
	}
	memChecked := map[int]bool{} // image sizes whose memory need is checked

	var out []RunSpec
	for _, v := range variants {
		cfg := buildConfig(prof, s.Backbone, dataset, s.Base, v.Overrides)
		if err := validateConfig(cfg); err != nil {
			return nil, fmt.Errorf("study %s, variant %q, profile %s: %w", s.Name, v.Label, prof.Name, err)
		}
		if !memChecked[cfg.ImageSize] {
			memChecked[cfg.ImageSize] = true
			if err := data.CheckMemory(dataset, cfg.ImageSize); err != nil {
				return nil, fmt.Errorf("study %s, variant %q: %w", s.Name, v.Label, err)
			}
		}
		cfg = Canonical(cfg)
		for _, seed := range seeds {
			c := cloneConfig(cfg)
			c.Seed = seed
			cj, hash, err := hashRun(c, fingerprint, o.CodeVersion)
			if err != nil {
				return nil, fmt.Errorf("study %s, variant %q: %w", s.Name, v.Label, err)
			}
			out = append(out, RunSpec{
				Study: s.Name, Variant: v.Label, Seed: seed, Profile: prof.Name,
				Config: c, ConfigJSON: cj, Params: Params(c),
				DataFingerprint: fingerprint, CodeVersion: o.CodeVersion, Hash: hash,
			})
		}
	}
	return out, nil
}

// buildConfig applies the layers below the seed: defaults, the backbone's
// defaults, the profile, the study's backbone and data set, [base], variant.
func buildConfig(prof Profile, backbone, dataset string, base, over map[string]any) runspec.Config {
	cfg := runspec.DefaultConfig()
	bb := cfg.Backbone
	if backbone != "" {
		bb = backbone
	}
	if b, ok := base["backbone"].(string); ok {
		bb = b
	}
	if b, ok := over["backbone"].(string); ok {
		bb = b
	}
	for _, layer := range []map[string]any{backboneDefaults[bb], prof.Overrides} {
		for k, v := range layer {
			setField(&cfg, k, v)
		}
	}
	cfg.Backbone = bb
	if dataset != "" {
		cfg.Dataset = dataset
	}
	for _, layer := range []map[string]any{base, over} {
		for k, v := range layer {
			setField(&cfg, k, v)
		}
	}
	return cfg
}

// validateConfig range-checks every field of an effective config and the
// rules that span fields.
func validateConfig(cfg runspec.Config) error {
	rv := reflect.ValueOf(cfg)
	var msgs []string
	for _, f := range configFields {
		r, ok := rules[f.name]
		if !ok {
			continue
		}
		if msg := r.check(fieldValue(rv.Field(f.index), f)); msg != "" {
			msgs = append(msgs, f.name+": "+msg+allowedNote(r.allowed))
		}
	}
	if len(msgs) == 0 {
		for _, p := range crossCheck(cfg) {
			if p.field != "" {
				p.msg = p.field + ": " + p.msg
			}
			msgs = append(msgs, p.msg)
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// fieldValue reads config field f as its normalised spec value; an unset
// runspec.Switch reads as its default.
func fieldValue(v reflect.Value, f configField) any {
	switch f.kind {
	case kindString:
		return v.String()
	case kindInt:
		return int(v.Int())
	case kindFloat:
		return v.Float()
	case kindBool:
		if f.isSwitch {
			return runspec.Switch(v.Uint()).Or(switchDefaults[f.name])
		}
		return v.Bool()
	case kindIntList:
		out := make([]int, v.Len())
		for i := range out {
			out[i] = int(v.Index(i).Int())
		}
		return out
	}
	return nil
}

// Canonical resets settings that have no effect on training (DESIGN §1–2) to
// fixed values, so that the same training run has the same config and hash
// however it was written:
//
//   - steps 0 (baseline) has no distillation: distill = "none";
//   - λ1 weighs CE(z4) only in the last update of 2- and 3-step schedules:
//     steps < 2 resets lambda1 to its default;
//   - distill = "none" has no KD term: temperature and lambda2 reset to
//     their defaults; distill = "feature" (MSE) has no temperature;
//   - a resnet has no swin settings (embed_dim, heads, window, patch_size,
//     mlp_ratio are zeroed) and a swin no resnet widths;
//   - the ablation settings of issue 12 are unset at their defaults and
//     where they have no effect (see canonicalAblations).
func Canonical(cfg runspec.Config) runspec.Config {
	def := runspec.DefaultConfig()
	cfg = cloneConfig(cfg)
	if cfg.Steps == 0 {
		cfg.Distill = "none"
	}
	if cfg.Steps < 2 {
		cfg.Lambda1 = def.Lambda1
	}
	switch cfg.Distill {
	case "none":
		cfg.Temperature, cfg.Lambda2 = def.Temperature, def.Lambda2
	case "feature":
		cfg.Temperature = def.Temperature
	}
	switch cfg.Backbone {
	case "resnet":
		cfg.EmbedDim, cfg.Heads, cfg.Window, cfg.PatchSize, cfg.MLPRatio = 0, nil, 0, 0, 0
	case "swin":
		cfg.Widths = nil
	}
	canonicalAblations(&cfg)
	return cfg
}

func cloneConfig(c runspec.Config) runspec.Config {
	c.Widths = slices.Clone(c.Widths)
	c.Depths = slices.Clone(c.Depths)
	c.Heads = slices.Clone(c.Heads)
	return c
}

// hashRun returns the config's canonical JSON and the run hash.
func hashRun(cfg runspec.Config, fingerprint, code string) (string, string, error) {
	cj, err := json.Marshal(cfg)
	if err != nil {
		return "", "", fmt.Errorf("config to JSON: %w", err)
	}
	in, err := json.Marshal(struct {
		Config      json.RawMessage `json:"config"`
		Data        string          `json:"data_fingerprint"`
		CodeVersion string          `json:"code_version"`
	}{cj, fingerprint, code})
	if err != nil {
		return "", "", fmt.Errorf("run hash: %w", err)
	}
	sum := sha256.Sum256(in)
	return string(cj), hex.EncodeToString(sum[:]), nil
}

// Params flattens a config by toml name for filtering: numbers as Go writes
// them shortest, lists comma-separated ("16,32,64,128"). Fields left empty
// by Canonical are omitted.
func Params(cfg runspec.Config) map[string]string {
	rv := reflect.ValueOf(cfg)
	out := map[string]string{}
	for _, f := range configFields {
		fv := rv.Field(f.index)
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		switch x := fieldValue(fv, f).(type) {
		case string:
			out[f.name] = x
		case int:
			out[f.name] = strconv.Itoa(x)
		case float64:
			out[f.name] = fmtFloat(x)
		case bool:
			out[f.name] = strconv.FormatBool(x)
		case []int:
			out[f.name] = joinInts(x, ",")
		}
	}
	return out
}

// dataErr names the data set spec in err unless err already does: the data
// package's errors (*data.OpenError) start with "data set SPEC: ", and
// naming it again printed it twice.
func dataErr(spec string, err error) error {
	var oe *data.OpenError
	if errors.As(err, &oe) {
		return err
	}
	return fmt.Errorf("data set %s: %w", spec, err)
}
