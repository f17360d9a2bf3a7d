package nets

import (
	"fmt"

	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
)

// resnetStage builds stage i of DESIGN §2's resnet on x: S1 starts with the
// stem (conv3×3 stride 1 → norm → ReLU); then Depths[i-1] basic blocks,
// the first of S2..S4 with stride 2 and a 1×1 conv + norm projection
// shortcut.
func (b *builder) resnetStage(x *G.Node, i int) *G.Node {
	if i == 1 {
		x = b.batchNorm(b.conv(x, "stem.conv", 1, 1, true), "stem.bn", true)
	}
	for blk := 0; blk < b.m.Arch.Depths[i-1]; blk++ {
		pre := fmt.Sprintf("s%d.b%d", i, blk)
		stride := 1
		if blk == 0 && i > 1 {
			stride = 2
		}
		h := b.batchNorm(b.conv(x, pre+".conv1", stride, 1, false), pre+".bn1", true)
		h = b.batchNorm(b.conv(h, pre+".conv2", 1, 1, false), pre+".bn2", false)
		shortcut := x
		if _, ok := b.m.norms[pre+".projbn"]; ok {
			shortcut = b.batchNorm(b.conv(x, pre+".proj", stride, 0, false), pre+".projbn", false)
		}
		x = b.do(ops.AddReLU(h, shortcut))
	}
	return x
}
