package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Summary describes a data set without decoding its images.
type Summary struct {
	Spec    string   `json:"spec"`
	Kind    string   `json:"kind"`
	Source  string   `json:"source"`
	Classes int      `json:"classes"`
	Train   int      `json:"train"`
	Test    int      `json:"test"`
	Notes   []string `json:"notes,omitempty"`
}

// Summarize reads a data set's lists (or, for synthetic, its parameters)
// and counts classes and images without decoding any image. It reports
// the same list errors as Open; broken image files show only at Open.
func Summarize(spec string) (Summary, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Spec: spec, Kind: sp.Kind}
	switch sp.Kind {
	case KindSynthetic:
		p := syntheticParams(sp, 0)
		s.Source = fmt.Sprintf("generated in memory (seed %d, difficulty %g)", p.Seed, p.Difficulty)
		s.Classes, s.Train, s.Test = p.Classes, p.Classes*p.TrainPerClass, p.Classes*p.TestPerClass
	case KindFashionMNIST:
		s.Source = "Fashion-MNIST IDX files in " + sp.Path
		s.Classes = len(FashionMNISTClasses)
		caps := sp.caps()
		for i, names := range fashionFiles {
			p, err := findIDX(sp.Path, names[1])
			if err != nil {
				return s, fmt.Errorf("data set %s: %w", spec, err)
			}
			x, err := readIDXFile(p, io.Discard)
			if err != nil {
				return s, fmt.Errorf("data set %s: %w", spec, err)
			}
			count := make([]int, s.Classes)
			n := 0
			for _, l := range x.Data {
				if int(l) < s.Classes && (caps[i] == 0 || count[l] < caps[i]) {
					count[l]++
					n++
				}
			}
			if i == 0 {
				s.Train = n
			} else {
				s.Test = n
			}
		}
	default:
		if fi, err := os.Stat(sp.Path); err != nil || !fi.IsDir() {
			return s, fmt.Errorf("data set %s: root %s is not a directory", spec, sp.Path)
		}
		l, err := listSpec(sp)
		if err != nil {
			return s, fmt.Errorf("data set %s: %w", spec, err)
		}
		items, notes := capPerClass(l.items, len(l.classes), sp.caps())
		s.Source, s.Classes, s.Notes = l.source, len(l.classes), append(l.notes, notes...)
		for _, it := range items {
			if it.split == Train {
				s.Train++
			} else {
				s.Test++
			}
		}
	}
	return s, nil
}

// EnvDataDir names the environment variable with the directories (a
// list, separated like PATH) that Detect searches for data sets on disk.
const EnvDataDir = "WORKBENCH_DATA_DIR"

// Detect returns the specs of the data sets that are available: always
// "synthetic"; "fashion-mnist" when Debian's package is installed; and the
// data sets found one level below each directory of $WORKBENCH_DATA_DIR
// (default ./data), recognised by their layout: CUB-200-2011 and NABirds
// by images.txt and train_test_split.txt, Stanford Dogs by Images/ with
// train_list.txt, Fashion-MNIST by its four IDX files, and an ImageFolder
// by subdirectories holding .jpg or .png files.
func Detect() []string {
	specs := []string{KindSynthetic}
	if FashionMNISTPresent(DefaultFashionMNISTPath) {
		specs = append(specs, KindFashionMNIST)
	}
	dirs := filepath.SplitList(os.Getenv(EnvDataDir))
	if len(dirs) == 0 {
		dirs = []string{"data"}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if spec := detectOne(filepath.Join(dir, e.Name())); spec != "" {
				specs = append(specs, spec)
			}
		}
	}
	return specs
}

func detectOne(root string) string {
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(root, rel))
		return err == nil
	}
	switch {
	case exists("images.txt") && exists("train_test_split.txt"):
		if exists("hierarchy.txt") || strings.Contains(strings.ToLower(filepath.Base(root)), "nabirds") {
			return KindNABirds + ":" + root
		}
		return KindCUB + ":" + root
	case exists("CUB_200_2011/images.txt"):
		return KindCUB + ":" + filepath.Join(root, "CUB_200_2011")
	case exists("Images") && (exists("train_list.txt") || exists("lists/train_list.txt")):
		return KindDogs + ":" + root
	case FashionMNISTPresent(root):
		return KindFashionMNIST + ":" + root
	}
	// An ImageFolder: at least two subdirectories with an image in them.
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	classes := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, f := range files {
			if imageExts[strings.ToLower(filepath.Ext(f.Name()))] {
				classes++
				break
			}
		}
	}
	if classes >= 2 {
		return KindImageFolder + ":" + root
	}
	return ""
}
