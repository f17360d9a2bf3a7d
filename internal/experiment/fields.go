package experiment

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/runspec"
)

// The settable fields of runspec.Config, found by reflection so that a field the
// trainer adds is known here at once, under its toml name.

type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindBool
	kindIntList
)

func (k valueKind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindInt:
		return "an integer"
	case kindFloat:
		return "a number"
	case kindBool:
		return "true or false"
	case kindIntList:
		return "an array of integers"
	}
	return "?"
}

type configField struct {
	name      string // toml name
	index     int    // field index in runspec.Config
	kind      valueKind
	omitEmpty bool // its json tag has omitempty: Params leaves it out when zero
	isSwitch  bool // a runspec.Switch: true/false in specs, unset = switchDefaults
}

var (
	configFields   []configField          // in struct order
	configFieldMap map[string]configField // by toml name
)

func init() {
	configFieldMap = map[string]configField{}
	t := reflect.TypeOf(runspec.Config{})
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		var k valueKind
		switch sf.Type.Kind() {
		case reflect.String:
			k = kindString
		case reflect.Int, reflect.Int64, reflect.Int32:
			k = kindInt
		case reflect.Float64, reflect.Float32:
			k = kindFloat
		case reflect.Bool:
			k = kindBool
		case reflect.Uint8:
			if sf.Type != reflect.TypeOf(runspec.Switch(0)) {
				continue
			}
			k = kindBool
		case reflect.Slice:
			switch sf.Type.Elem().Kind() {
			case reflect.Int, reflect.Int64, reflect.Int32:
				k = kindIntList
			default:
				continue // not settable from a spec
			}
		default:
			continue
		}
		f := configField{name: name, index: i, kind: k, omitEmpty: strings.Contains(sf.Tag.Get("json"), "omitempty"),
			isSwitch: sf.Type == reflect.TypeOf(runspec.Switch(0))}
		configFields = append(configFields, f)
		configFieldMap[name] = f
	}
}

// Keys that name a runspec.Config field but are set elsewhere in a spec.
var reservedKeys = map[string]string{
	"dataset": "the data set is a study default: set dataset at the top of the spec (or pass --dataset)",
	"seed":    "set seeds = [...] at the top of the spec",
}

// overrideKeys are the keys a [base], [[variant]], [grid] or profile may set.
func overrideKeys() []string {
	var keys []string
	for _, f := range configFields {
		if _, r := reservedKeys[f.name]; !r {
			keys = append(keys, f.name)
		}
	}
	return keys
}

// rule checks the range of one normalised value; it returns "" when the value
// is fine, else what is wrong.
type rule struct {
	check   func(v any) string
	allowed []string
}

func oneOf(values ...string) rule {
	return rule{
		check: func(v any) string {
			s := v.(string)
			if slices.Contains(values, s) {
				return ""
			}
			return fmt.Sprintf("%q is not allowed", s) + didYouMean(s, values)
		},
		allowed: values,
	}
}

func intAtLeast(lo int) rule {
	return rule{check: func(v any) string {
		if n := v.(int); n < lo {
			return fmt.Sprintf("%d is too small: must be at least %d", n, lo)
		}
		return ""
	}}
}

func intIn(lo, hi int) rule {
	var allowed []string
	if hi-lo < 8 {
		for i := lo; i <= hi; i++ {
			allowed = append(allowed, strconv.Itoa(i))
		}
	}
	return rule{check: func(v any) string {
		if n := v.(int); n < lo || n > hi {
			return fmt.Sprintf("%d is outside %d–%d", n, lo, hi)
		}
		return ""
	}, allowed: allowed}
}

func floatAbove(lo float64, inclusive bool) rule {
	return rule{check: func(v any) string {
		x := v.(float64)
		if inclusive && x < lo {
			return fmt.Sprintf("%s must be >= %s", fmtFloat(x), fmtFloat(lo))
		}
		if !inclusive && x <= lo {
			return fmt.Sprintf("%s must be > %s", fmtFloat(x), fmtFloat(lo))
		}
		return ""
	}}
}

func floatBelow(hi float64) rule {
	return rule{check: func(v any) string {
		if x := v.(float64); x < 0 || x >= hi {
			return fmt.Sprintf("%s must be in [0, %s)", fmtFloat(x), fmtFloat(hi))
		}
		return ""
	}}
}

func stageList(lo int) rule {
	return rule{check: func(v any) string {
		l := v.([]int)
		if len(l) != 4 {
			return fmt.Sprintf("has %d entries; want one per stage S1..S4 (4)", len(l))
		}
		for i, n := range l {
			if n < lo {
				return fmt.Sprintf("stage S%d is %d; must be at least %d", i+1, n, lo)
			}
		}
		return ""
	}}
}

// rules range-check the fields a spec may set. A runspec.Config field without
// a rule is type-checked only.
var rules = map[string]rule{
	"backbone":        oneOf(runspec.Backbones...),
	"image_size":      intIn(8, 4096),
	"widths":          stageList(1),
	"depths":          stageList(1),
	"embed_dim":       intAtLeast(1),
	"heads":           stageList(1),
	"window":          intAtLeast(2),
	"patch_size":      intAtLeast(1),
	"mlp_ratio":       floatAbove(0, false),
	"head_dim":        intAtLeast(1),
	"steps":           intIn(0, 3),
	"mode":            oneOf(runspec.Modes...),
	"distill":         oneOf(runspec.Distills...),
	"temperature":     floatAbove(0, false),
	"lambda1":         floatAbove(0, true),
	"lambda2":         floatAbove(0, true),
	"epochs":          intAtLeast(1),
	"batch_size":      intAtLeast(2),
	"lr":              floatAbove(0, false),
	"weight_decay":    floatAbove(0, true),
	"warmup_epochs":   floatAbove(0, true),
	"clip_norm":       floatAbove(0, true),
	"label_smoothing": floatBelow(1),
	"eval_every":      intAtLeast(0), // 0 = only after the last epoch
	"log_every":       intAtLeast(1),
	// Issue 12's controls and ablations; unset (0, "") is the default.
	"updates":          unsetOr(intIn(1, 3)),
	"three_step_pairs": unsetOr(oneOf(runspec.ThreeStepPairsOptions...)),
	"async_order":      unsetOr(oneOf(runspec.AsyncOrders...)),
	"optimizer":        unsetOr(oneOf(runspec.Optimizers...)),
	"lr_schedule":      unsetOr(oneOf(runspec.LRSchedules...)),
	"resize":           unsetOr(intIn(8, 4096)), // and [image_size, 4·image_size]: runspec.Validate
}

// unsetOr accepts a field's zero value, which runspec.Config reads as the
// field's default, besides what r accepts.
func unsetOr(r rule) rule {
	return rule{check: func(v any) string {
		if reflect.ValueOf(v).IsZero() {
			return ""
		}
		return r.check(v)
	}, allowed: r.allowed}
}

// AblationDefaults are the defaults of the issue-12 settings, which a
// runspec.Config holds as unset (zero) values and the canonical JSON leaves
// out; resize's default depends on image_size (image_size + image_size/8).
var AblationDefaults = map[string]any{
	"updates":          1,
	"kd_scale_t2":      true,
	"kd_detach":        true,
	"three_step_pairs": runspec.ThreeStepPairsOptions[0],
	"async_order":      runspec.AsyncOrders[0],
	"optimizer":        runspec.Optimizers[0],
	"decay_norms":      false,
	"lr_schedule":      runspec.LRSchedules[0],
}

// switchDefaults are the defaults of the runspec.Switch fields.
var switchDefaults = map[string]bool{"kd_scale_t2": true, "kd_detach": true}

// canonicalAblations unsets the issue-12 settings where they are at their
// default or have no effect, so that, as for the settings before them, the
// same training run has one config and one hash (and runs recorded before
// these settings existed keep theirs):
//
//   - updates = 1 is the default; updates applies to the baseline only
//     (crossCheck refuses it elsewhere);
//   - kd_scale_t2 acts on decision KD at T ≠ 1 only (T² = 1);
//   - kd_detach acts only where there is KD (steps ≥ 1, distill ≠ none);
//   - three_step_pairs acts on three-step with KD only;
//   - async_order acts on async with KD only;
//   - optimizer = pytorch-shared differs from skip-unreached only when some
//     update of a batch leaves parameters out: steps ≥ 2, or single-step
//     async with KD;
//   - decay_norms has no effect without weight decay;
//   - lr_schedule = onecycle has its own warm-up: warmup_epochs resets;
//   - resize = image_size + image_size/8 is the default.
func canonicalAblations(cfg *runspec.Config) {
	def := runspec.DefaultConfig()
	kd := cfg.Steps >= 1 && cfg.Distill != "none"
	if cfg.Updates == 1 {
		cfg.Updates = 0
	}
	if cfg.KDScaleT2.Or(true) || !kd || cfg.Distill != "decision" || cfg.Temperature == 1 {
		cfg.KDScaleT2 = runspec.Unset
	}
	if cfg.KDDetach.Or(true) || !kd {
		cfg.KDDetach = runspec.Unset
	}
	if cfg.ThreeStepPairs == runspec.ThreeStepPairsOptions[0] || cfg.Steps != 3 || !kd {
		cfg.ThreeStepPairs = ""
	}
	if cfg.AsyncOrder == runspec.AsyncOrders[0] || cfg.Mode != "async" || !kd {
		cfg.AsyncOrder = ""
	}
	partial := cfg.Steps >= 2 || cfg.Steps == 1 && cfg.Mode == "async" && kd
	if cfg.Optimizer == runspec.Optimizers[0] || !partial {
		cfg.Optimizer = ""
	}
	if cfg.WeightDecay == 0 {
		cfg.DecayNorms = false
	}
	switch cfg.LRSchedule {
	case runspec.LRSchedules[0]:
		cfg.LRSchedule = ""
	case "onecycle":
		cfg.WarmupEpochs = def.WarmupEpochs
	}
	if cfg.Resize == data.StoredSide(cfg.ImageSize) {
		cfg.Resize = 0
	}
}

// tomlType names the type of a decoded TOML value for messages.
func tomlType(v any) string {
	switch x := v.(type) {
	case string:
		return "a string"
	case int64, int, int32:
		return "an integer"
	case float64, float32:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any, []int, []int64, []float64, []string:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	default:
		_ = x
		return "a " + reflect.TypeOf(v).String()
	}
}

// normalize converts a decoded TOML value (or one set through the API) to the
// Go type of field f: string, int, float64, bool or []int. It returns a
// message when the type is wrong.
func normalize(f configField, v any) (any, string) {
	wrong := func() (any, string) {
		return nil, fmt.Sprintf("expected %s, got %s", f.kind, describe(v))
	}
	switch f.kind {
	case kindString:
		if s, ok := v.(string); ok {
			return s, ""
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, ""
		}
	case kindInt:
		if n, ok := toInt(v); ok {
			return n, ""
		}
		if x, ok := v.(float64); ok && x == math.Trunc(x) && !math.IsInf(x, 0) {
			return nil, fmt.Sprintf("expected an integer, got the float %s (write %d)", fmtFloat(x), int64(x))
		}
	case kindFloat:
		var x float64
		switch n := v.(type) {
		case float64:
			x = n
		case float32:
			x = float64(n)
		default:
			i, ok := toInt(v)
			if !ok {
				return wrong()
			}
			x = float64(i)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Sprintf("%s is not a finite number", fmtFloat(x))
		}
		return x, ""
	case kindIntList:
		var items []any
		switch l := v.(type) {
		case []any:
			items = l
		case []int:
			return slices.Clone(l), ""
		case []int64:
			for _, n := range l {
				items = append(items, n)
			}
		default:
			return wrong()
		}
		out := make([]int, len(items))
		for i, it := range items {
			n, ok := toInt(it)
			if !ok {
				return nil, fmt.Sprintf("entry %d: expected an integer, got %s", i+1, describe(it))
			}
			out[i] = n
		}
		return out, ""
	}
	return wrong()
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		if int64(int(n)) != n {
			return 0, false
		}
		return int(n), true
	case int32:
		return int(n), true
	}
	return 0, false
}

// describe names a value and its type, e.g. `the string "2"`.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return fmt.Sprintf("the string %q", x)
	case int64, int:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return "the float " + fmtFloat(x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	}
	return tomlType(v)
}

// checkOverride validates one key = value of a [base], [[variant]], [grid]
// entry or profile. It returns the normalised value, or a message and the
// allowed values.
func checkOverride(key string, v any) (any, string, []string) {
	if why, ok := reservedKeys[key]; ok {
		return nil, "cannot be set here: " + why, nil
	}
	f, ok := configFieldMap[key]
	if !ok {
		return nil, "unknown setting" + didYouMean(key, overrideKeys()), nil
	}
	nv, msg := normalize(f, v)
	if msg != "" {
		return nil, msg, nil
	}
	if r, ok := rules[key]; ok {
		if msg := r.check(nv); msg != "" {
			return nil, msg, r.allowed
		}
	}
	return nv, "", nil
}

// setField writes a normalised value into cfg.
func setField(cfg *runspec.Config, key string, v any) {
	f := configFieldMap[key]
	fv := reflect.ValueOf(cfg).Elem().Field(f.index)
	switch f.kind {
	case kindString:
		fv.SetString(v.(string))
	case kindBool:
		if f.isSwitch {
			fv.SetUint(uint64(runspec.SwitchOf(v.(bool))))
		} else {
			fv.SetBool(v.(bool))
		}
	case kindInt:
		fv.SetInt(int64(v.(int)))
	case kindFloat:
		fv.SetFloat(v.(float64))
	case kindIntList:
		l := v.([]int)
		s := reflect.MakeSlice(fv.Type(), len(l), len(l))
		for i, n := range l {
			s.Index(i).SetInt(int64(n))
		}
		fv.Set(s)
	}
}

// crossProblem is a rule that spans fields of one effective config.
type crossProblem struct {
	field, msg string
	allowed    []string
	related    []string // the keys that together make the problem, most specific first
}

// crossCheck finds combinations that DESIGN §1–2 rule out.
func crossCheck(cfg runspec.Config) []crossProblem {
	var out []crossProblem
	if cfg.Mode == "async" && cfg.Steps < 2 {
		out = append(out, crossProblem{"mode",
			fmt.Sprintf(`mode = "async" splits the last update of a multi-step schedule and needs steps >= 2, but steps = %d`, cfg.Steps),
			[]string{`"sync" with steps 0 or 1`}, []string{"mode", "steps"}})
	}
	if cfg.Updates > 1 && cfg.Steps != 0 {
		out = append(out, crossProblem{"updates",
			fmt.Sprintf("updates = %d repeats the baseline's CE(z4) update (the update-count control) and needs steps = 0, but steps = %d", cfg.Updates, cfg.Steps),
			[]string{"1 with steps 1..3"}, []string{"updates", "steps"}})
	}
	if cfg.Backbone == "swin" && len(cfg.Heads) == 4 && cfg.EmbedDim > 0 {
		for i, h := range cfg.Heads {
			dim := cfg.EmbedDim << i
			if h > 0 && dim%h != 0 {
				out = append(out, crossProblem{"heads",
					fmt.Sprintf("stage S%d has dimension %d (embed_dim %d × %d), which %d heads do not divide", i+1, dim, cfg.EmbedDim, 1<<i, h),
					nil, []string{"heads", "embed_dim"}})
				break
			}
		}
	}
	if len(out) == 0 {
		// Whatever else the trainer cannot run (warmup longer than the run,
		// an image size the backbone cannot halve, ...), in its words.
		if err := cfg.Validate(); err != nil {
			msg := err.Error()
			field, _, _ := strings.Cut(msg, " =")
			if _, ok := configFieldMap[field]; !ok {
				field = ""
			}
			out = append(out, crossProblem{field, "the trainer cannot run it: " + msg, nil, []string{field}})
		}
	}
	return out
}

// fmtFloat formats x the shortest way that reads back exactly.
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// joinInts writes integers in decimal, separated by sep.
func joinInts[T ~int | ~int64](xs []T, sep string) string {
	parts := make([]string, len(xs))
	for i, n := range xs {
		parts[i] = strconv.FormatInt(int64(n), 10)
	}
	return strings.Join(parts, sep)
}
