// Package arch describes a network's shape (backbone, sizes, classes) and
// checks it, without building anything: the leaf that configs and reports
// share with the graph code in internal/nets.
package arch

import "fmt"

// Backbone names.
const (
	ResNet = "resnet"
	Swin   = "swin"
)

// Arch is the shape of a network: backbone, sizes and the number of classes.
// Defaults are DESIGN §2's reference backbones (DefaultArch).
type Arch struct {
	Backbone   string // ResNet or Swin
	InChannels int    // image channels (3)
	ImageSize  int    // square input side (32)
	Classes    int    // output-layer width

	// Depths is the number of blocks per stage (both backbones).
	Depths []int
	// resnet: channel width per stage.
	Widths []int
	// swin: embed dim of S1 (stage i has EmbedDim·2^(i-1) channels),
	// attention heads per stage, window side, patch side, MLP ratio.
	EmbedDim  int
	Heads     []int
	Window    int
	PatchSize int
	MLPRatio  float64

	// HeadDim is K, the OPM output dimension.
	HeadDim int
}

// DefaultArch returns DESIGN §2's reference sizes for backbone and classes.
func DefaultArch(backbone string, classes int) Arch {
	a := Arch{Backbone: backbone, InChannels: 3, ImageSize: 32, Classes: classes, HeadDim: 128}
	switch backbone {
	case Swin:
		a.Depths = []int{2, 2, 6, 2}
		a.EmbedDim, a.Heads, a.Window, a.PatchSize, a.MLPRatio = 32, []int{1, 2, 4, 8}, 4, 2, 4
	default:
		a.Depths = []int{1, 1, 3, 1}
		a.Widths = []int{16, 32, 64, 128}
	}
	return a
}

// StageChannels is the channel count of stage i's feature map (1-based).
func (a Arch) StageChannels(i int) int {
	if a.Backbone == Swin {
		return a.EmbedDim << (i - 1)
	}
	return a.Widths[i-1]
}

// StageSide is the spatial side (height = width) of stage i's feature map.
func (a Arch) StageSide(i int) int {
	if a.Backbone == Swin {
		return a.ImageSize / a.PatchSize >> (i - 1)
	}
	return a.ImageSize >> (i - 1)
}

// StageWindow is the attention window of swin stage i and whether its
// odd-numbered blocks shift: as in Swin, a window as large as the stage's
// resolution is clamped to it and then nothing is shifted.
func (a Arch) StageWindow(i int) (win int, shift bool) {
	side := a.StageSide(i)
	if side <= a.Window {
		return side, false
	}
	return a.Window, true
}

// Validate reports the first field that cannot build a network, naming the
// field, its value and what is allowed.
func (a Arch) Validate() error {
	pos := func(name string, v int) error {
		if v <= 0 {
			return fmt.Errorf("%s = %d: must be > 0", name, v)
		}
		return nil
	}
	four := func(name string, v []int) error {
		if len(v) != 4 {
			return fmt.Errorf("%s = %v: need 4 values, one per stage S1..S4", name, v)
		}
		for _, x := range v {
			if x <= 0 {
				return fmt.Errorf("%s = %v: every value must be > 0", name, v)
			}
		}
		return nil
	}
	for _, e := range []error{
		pos("in_channels", a.InChannels), pos("image_size", a.ImageSize),
		pos("head_dim", a.HeadDim), four("depths", a.Depths),
	} {
		if e != nil {
			return e
		}
	}
	if a.Classes < 2 {
		return fmt.Errorf("classes = %d: need at least 2", a.Classes)
	}
	switch a.Backbone {
	case ResNet:
		if err := four("widths", a.Widths); err != nil {
			return err
		}
		if a.ImageSize%8 != 0 {
			return fmt.Errorf("image_size = %d: resnet halves the side three times, so it must be a multiple of 8", a.ImageSize)
		}
	case Swin:
		for _, e := range []error{
			pos("embed_dim", a.EmbedDim),
			pos("patch_size", a.PatchSize), four("heads", a.Heads),
		} {
			if e != nil {
				return e
			}
		}
		if a.MLPRatio <= 0 || a.MLPRatio*float64(a.EmbedDim) != float64(int(a.MLPRatio*float64(a.EmbedDim))) {
			return fmt.Errorf("mlp_ratio = %g: must be > 0 and give a whole hidden width for embed_dim %d", a.MLPRatio, a.EmbedDim)
		}
		if a.ImageSize%(a.PatchSize*8) != 0 {
			return fmt.Errorf("image_size = %d, patch_size = %d: the token grid (image_size/patch_size) is halved three times, so image_size must be a multiple of 8·patch_size", a.ImageSize, a.PatchSize)
		}
		if a.StageSide(4) < 2 {
			return fmt.Errorf("image_size = %d, patch_size = %d: S4 would have %d×%d tokens; need image_size/patch_size ≥ 16 so that S4 has at least 2×2", a.ImageSize, a.PatchSize, a.StageSide(4), a.StageSide(4))
		}
		if a.Window < 2 {
			return fmt.Errorf("window = %d: must be ≥ 2", a.Window)
		}
		for i := 1; i <= 4; i++ {
			c, h := a.StageChannels(i), a.Heads[i-1]
			if c%h != 0 {
				return fmt.Errorf("heads = %v: stage S%d has %d channels, not divisible by %d heads", a.Heads, i, c, h)
			}
			win, _ := a.StageWindow(i)
			if a.StageSide(i)%win != 0 {
				return fmt.Errorf("window = %d: stage S%d's %d×%d tokens do not split into %d×%d windows", a.Window, i, a.StageSide(i), a.StageSide(i), win, win)
			}
		}
	default:
		return fmt.Errorf("backbone = %q: want %q or %q", a.Backbone, ResNet, Swin)
	}
	return nil
}
