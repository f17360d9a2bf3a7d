package data

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kinds of data set a spec can name.
const (
	KindSynthetic    = "synthetic"
	KindImageFolder  = "imagefolder"
	KindCUB          = "cub"
	KindNABirds      = "nabirds"
	KindDogs         = "dogs"
	KindFashionMNIST = "fashion-mnist"
)

// DefaultFashionMNISTPath is where Debian's dataset-fashion-mnist package
// installs the gzip'd IDX files.
const DefaultFashionMNISTPath = "/usr/share/datasets/fashion-mnist"

// Spec is a parsed data set spec. The textual form is used the same way in
// the CLI, the study files and the TUI:
//
//	synthetic[:key=value,...]        keys: seed, classes, train, test, difficulty
//	imagefolder:PATH[,key=value...]  keys: test, split_seed, train_per_class, test_per_class
//	cub:PATH[,key=value...]          keys: bbox, train_per_class, test_per_class
//	nabirds:PATH[,key=value...]      keys: bbox, train_per_class, test_per_class
//	dogs:PATH[,key=value...]         keys: train_per_class, test_per_class
//	fashion-mnist[:PATH][,key=value...] keys: train_per_class, test_per_class
//
// For the kinds that take a PATH, options are the trailing comma-separated
// key=value words whose key the kind knows; everything before them is the
// path (so a path may itself contain commas).
type Spec struct {
	Kind    string
	Path    string            // root directory; empty for synthetic
	Options map[string]string // validated keys of the kind
}

// optionKeys lists the keys each kind accepts.
var optionKeys = map[string][]string{
	KindSynthetic:    {"seed", "classes", "train", "test", "difficulty"},
	KindImageFolder:  {"test", "split_seed", "train_per_class", "test_per_class"},
	KindCUB:          {"bbox", "train_per_class", "test_per_class"},
	KindNABirds:      {"bbox", "train_per_class", "test_per_class"},
	KindDogs:         {"train_per_class", "test_per_class"},
	KindFashionMNIST: {"train_per_class", "test_per_class"},
}

// Kinds returns the spec kinds, sorted.
func Kinds() []string {
	ks := make([]string, 0, len(optionKeys))
	for k := range optionKeys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func knownKey(kind, key string) bool {
	for _, k := range optionKeys[kind] {
		if k == key {
			return true
		}
	}
	return false
}

// ParseSpec parses a data set spec (see Spec). It checks the syntax and the
// option keys and values; it does not touch the file system.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Spec{}, fmt.Errorf("data set spec is empty (want one of %s)", strings.Join(Kinds(), ", "))
	}
	kind, rest, hasRest := strings.Cut(s, ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	if _, ok := optionKeys[kind]; !ok {
		return Spec{}, fmt.Errorf("data set spec %q: unknown kind %q (want one of %s)", s, kind, strings.Join(Kinds(), ", "))
	}
	sp := Spec{Kind: kind, Options: map[string]string{}}
	var words []string
	if hasRest && rest != "" {
		words = strings.Split(rest, ",")
	}
	if kind == KindSynthetic {
		for _, w := range words {
			if err := sp.addOption(w); err != nil {
				return Spec{}, fmt.Errorf("data set spec %q: %w", s, err)
			}
		}
	} else {
		// Pop trailing key=value words with a known key; the rest is the path.
		n := len(words)
		for n > 0 {
			k, _, ok := strings.Cut(words[n-1], "=")
			if !ok || !knownKey(kind, strings.TrimSpace(k)) {
				break
			}
			n--
		}
		for _, w := range words[n:] {
			if err := sp.addOption(w); err != nil {
				return Spec{}, fmt.Errorf("data set spec %q: %w", s, err)
			}
		}
		sp.Path = strings.TrimSpace(strings.Join(words[:n], ","))
		if sp.Path == "" {
			if kind != KindFashionMNIST {
				return Spec{}, fmt.Errorf("data set spec %q: %s needs a root directory, as in %s:PATH", s, kind, kind)
			}
			sp.Path = DefaultFashionMNISTPath
		}
	}
	if err := sp.validate(); err != nil {
		return Spec{}, fmt.Errorf("data set spec %q: %w", s, err)
	}
	return sp, nil
}

func (sp *Spec) addOption(w string) error {
	k, v, ok := strings.Cut(w, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" {
		return fmt.Errorf("option %q is not key=value (keys for %s: %s)", w, sp.Kind, strings.Join(optionKeys[sp.Kind], ", "))
	}
	if !knownKey(sp.Kind, k) {
		return fmt.Errorf("unknown option %q for %s (keys: %s)", k, sp.Kind, strings.Join(optionKeys[sp.Kind], ", "))
	}
	if _, dup := sp.Options[k]; dup {
		return fmt.Errorf("option %q given twice", k)
	}
	sp.Options[k] = v
	return nil
}

// validate checks the option values by type.
func (sp *Spec) validate() error {
	for k, v := range sp.Options {
		var err error
		switch k {
		case "seed", "split_seed":
			_, err = strconv.ParseInt(v, 10, 64)
		case "classes":
			var n int
			n, err = strconv.Atoi(v)
			if err == nil && (n < 2 || n > maxSyntheticClasses) {
				err = fmt.Errorf("must be in [2, %d]", maxSyntheticClasses)
			}
		case "train", "test":
			if sp.Kind == KindImageFolder { // the test fraction
				var f float64
				f, err = strconv.ParseFloat(v, 64)
				if err == nil && !(f >= 0 && f < 1) {
					err = fmt.Errorf("test fraction must be in [0, 1)")
				}
				break
			}
			var n int
			n, err = strconv.Atoi(v)
			if err == nil && (n < 1 || n > 100000) {
				err = fmt.Errorf("images per class must be in [1, 100000]")
			}
		case "train_per_class", "test_per_class":
			var n int
			n, err = strconv.Atoi(v)
			if err == nil && n < 1 {
				err = fmt.Errorf("must be at least 1")
			}
		case "difficulty":
			var f float64
			f, err = strconv.ParseFloat(v, 64)
			if err == nil && !(f >= 0 && f <= 1) {
				err = fmt.Errorf("must be in [0, 1]")
			}
		case "bbox":
			_, err = strconv.ParseBool(v)
		}
		if err != nil {
			return fmt.Errorf("option %s=%q: %w", k, v, unwrapNum(err))
		}
	}
	return nil
}

// unwrapNum strips strconv's noisy prefix.
func unwrapNum(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

func (sp Spec) intOpt(key string, def int) int {
	if v, ok := sp.Options[key]; ok {
		n, _ := strconv.Atoi(v) // validated
		return n
	}
	return def
}

func (sp Spec) int64Opt(key string, def int64) int64 {
	if v, ok := sp.Options[key]; ok {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return def
}

func (sp Spec) floatOpt(key string, def float64) float64 {
	if v, ok := sp.Options[key]; ok {
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	return def
}

func (sp Spec) boolOpt(key string, def bool) bool {
	if v, ok := sp.Options[key]; ok {
		b, _ := strconv.ParseBool(v)
		return b
	}
	return def
}

// caps gives the train_per_class and test_per_class options, indexed by
// SplitKind; 0 means no cap.
func (sp Spec) caps() [2]int {
	return [2]int{sp.intOpt("train_per_class", 0), sp.intOpt("test_per_class", 0)}
}

// String is the canonical form: kind, path, then the options sorted by key.
func (sp Spec) String() string {
	var b strings.Builder
	b.WriteString(sp.Kind)
	sep := ":"
	if sp.Path != "" {
		b.WriteString(sep + sp.Path)
		sep = ","
	}
	keys := make([]string, 0, len(sp.Options))
	for k := range sp.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(sep + k + "=" + sp.Options[k])
		sep = ","
	}
	return b.String()
}

// optionString is the canonical form without the path (for fingerprints:
// the same files in another directory are the same data set).
func (sp Spec) optionString() string {
	c := sp
	c.Path = ""
	return c.String()
}
