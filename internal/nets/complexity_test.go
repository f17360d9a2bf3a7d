package nets

import (
	"testing"
)

// The reference resnet with 10 classes, counted by hand from DESIGN §2.
func TestComplexityResNetByHand(t *testing.T) {
	const (
		stem     = 16*3*9 + 2*16
		s1       = 2*16*16*9 + 2*2*16
		s2       = 32*16*9 + 32*32*9 + 32*16 + 3*2*32
		s3first  = 64*32*9 + 64*64*9 + 64*32 + 3*2*64
		s3rest   = 2 * (2*64*64*9 + 2*2*64)
		s4       = 128*64*9 + 128*128*9 + 128*64 + 3*2*128
		backbone = stem + s1 + s2 + s3first + s3rest + s4
		head4    = 2*128 + 128*128 + 128 + 128*10 + 10
		head3    = 2*64 + 64*128 + 128 + 128*10 + 10
		head2    = 2*32 + 32*128 + 128 + 128*10 + 10

		// multiply-adds per image: output pixels × out channels × in channels × k²
		macsBackbone = 32*32*16*27 + 2*32*32*16*144 +
			16*16*32*(144+288+16) +
			8*8*64*(288+576+32) + 4*8*8*64*576 +
			4*4*128*(576+1152+64)
	)
	macsHead := func(c int) int64 { return int64(c*128 + 128*10) }
	if backbone != 455504 {
		t.Fatalf("hand count drifted: %d", backbone)
	}
	a := DefaultArch(ResNet, 10)
	for _, tc := range []struct {
		heads              []int
		extraP, extraFLOPs int64
	}{
		{[]int{4}, 0, 0},
		{[]int{3, 4}, head3, 2 * macsHead(64)},
		{[]int{2, 3, 4}, head2 + head3, 2 * (macsHead(32) + macsHead(64))},
	} {
		c, err := ComplexityOf(a, tc.heads)
		if err != nil {
			t.Fatal(err)
		}
		want := Complexity{
			ParamsInference: backbone + head4, ParamsExtra: tc.extraP,
			FLOPsInference: 2*macsBackbone + 2*macsHead(128), FLOPsExtra: tc.extraFLOPs,
		}
		if c != want {
			t.Errorf("heads %v: got %+v, want %+v", tc.heads, c, want)
		}
	}
}

// The reference swin: parameters by formula per block, FLOPs by Swin's
// usual per-block count.
func TestComplexitySwinByFormula(t *testing.T) {
	a := DefaultArch(Swin, 10)
	var params, macs int64
	tokens := int64(16 * 16)
	params += 12*32 + 32 + 2*32 // patch embedding + its norm
	macs += tokens * 12 * 32
	for s := 1; s <= 4; s++ {
		c := int64(a.StageChannels(s))
		if s > 1 {
			params += 2*2*c + 2*c*c // norm(2C) + linear 2C→C
			macs += tokens / 4 * 2 * c * c
			tokens /= 4
		}
		win, _ := a.StageWindow(s)
		w2 := int64(win * win)
		for range a.Depths[s-1] {
			params += 2*2*c + 4*(c*c+c) + int64((2*win-1)*(2*win-1)*a.Heads[s-1]) + 2*(4*c*c) + 4*c + c
			macs += tokens*4*c*c + 2*tokens*w2*c + tokens*8*c*c
		}
	}
	head := func(c int64) int64 { return 2*c + c*128 + 128 + 128*10 + 10 }
	got, err := ComplexityOf(a, []int{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := Complexity{
		ParamsInference: params + head(256), ParamsExtra: head(128),
		FLOPsInference: 2 * (macs + 256*128 + 128*10), FLOPsExtra: 2 * (128*128 + 128*10),
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	t.Logf("swin: %.2f M parameters (inference), %.1f MFLOPs", float64(got.ParamsInference)/1e6, float64(got.FLOPsInference)/1e6)
}
