package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Resolve finds a study's spec file: a path (anything with a '/' or a
// ".toml" ending) is checked and returned as it is (a bare "NAME.toml" that
// is not in the working directory is also looked for in dir); a name is looked up in
// dir, first as NAME.toml, then as the study whose name or table is NAME
// ("table9" -> "experiments/table9.toml", "fig3" -> the study with
// table = "fig3").
func Resolve(nameOrPath, dir string) (string, error) {
	isPath := strings.ContainsRune(nameOrPath, '/') || strings.ContainsRune(nameOrPath, filepath.Separator)
	if isPath || strings.HasSuffix(nameOrPath, ".toml") {
		_, err := os.Stat(nameOrPath)
		if err == nil {
			return nameOrPath, nil
		}
		if !isPath { // "table9.toml": also look in dir
			inDir := filepath.Join(dir, nameOrPath)
			if _, err2 := os.Stat(inDir); err2 == nil {
				return inDir, nil
			}
		}
		return "", fmt.Errorf("study spec: %w", err)
	}
	if err := ValidName(nameOrPath); err != nil {
		return "", fmt.Errorf("study: %w", err)
	}
	direct := filepath.Join(dir, nameOrPath+".toml")
	if _, err := os.Stat(direct); err == nil {
		return direct, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return "", fmt.Errorf("study %s: %w", nameOrPath, err)
	}
	slices.Sort(files)
	var byName, byTable, names []string
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			continue // a broken spec is reported when it is named itself
		}
		names = append(names, s.Name)
		if s.Name == nameOrPath {
			byName = append(byName, f)
		}
		if s.Table == nameOrPath {
			byTable = append(byTable, f)
		}
	}
	switch {
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) > 1:
		return "", fmt.Errorf("study %s: several specs in %s have that name: %s", nameOrPath, dir, strings.Join(byName, ", "))
	case len(byTable) == 1:
		return byTable[0], nil
	case len(byTable) > 1:
		return "", fmt.Errorf("study %s: several specs in %s render that table: %s", nameOrPath, dir, strings.Join(byTable, ", "))
	}
	msg := fmt.Sprintf("no study %q in %s", nameOrPath, dir) + didYouMean(nameOrPath, names)
	if len(names) > 0 {
		msg += " (available: " + strings.Join(names, ", ") + ")"
	}
	return "", fmt.Errorf("%s", msg)
}
