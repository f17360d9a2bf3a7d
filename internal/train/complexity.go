package train

import "github.com/mksmt/workbench/internal/nets"

// Complexity is the parameter and FLOP count of c's network for a data set
// with numClasses classes (the paper's Table 7), without training.
func Complexity(c Config, numClasses int) (nets.Complexity, error) {
	if err := c.Validate(); err != nil {
		return nets.Complexity{}, err
	}
	return nets.ComplexityOf(c.Arch(numClasses), c.TrainedHeads())
}
