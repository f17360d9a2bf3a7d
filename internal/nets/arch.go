package nets

import "github.com/mksmt/workbench/internal/arch"

// The network's shape lives in internal/arch (pure Go), so packages that
// only describe runs (configs, the store, tables, the TUI) do not link the
// graph code and OpenBLAS.
type Arch = arch.Arch

// Backbone names.
const (
	ResNet = arch.ResNet
	Swin   = arch.Swin
)

// DefaultArch returns DESIGN §2's reference sizes for backbone and classes.
func DefaultArch(backbone string, classes int) Arch { return arch.DefaultArch(backbone, classes) }
