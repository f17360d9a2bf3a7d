#include "textflag.h"

// Batch normalisation's and ReLU's float32 loops (bn_amd64.go). Each takes
// n, a multiple of 8, and runs over the bytes [0, 4n) of its slices with AX
// the byte offset: 64 bytes (16 values, two vectors) an iteration up to DX =
// 4n rounded down to 64, then one vector more when 4n−DX is 32. Every
// iteration loads all its inputs before it stores, so an output may be one
// of the inputs. No FMA: products and sums are rounded separately.

// LOOP_SETUP sets BX = 4n, DX = BX rounded down to 64, AX = 0 from n in BX.
#define LOOP_SETUP \
	SHLQ $2, BX    \
	MOVQ BX, DX    \
	ANDQ $-64, DX  \
	XORQ AX, AX

// func sumShiftedAVX2(x *float32, n int, k float32, s1, s2 *[8]float32)
// Pair A (Y0: Σd, Y1: Σd²) takes the first vector of each 16 values and the
// last vector, pair B (Y2, Y3) the second; d = x−k (Y15 = k).
TEXT ·sumShiftedAVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), BX
	VBROADCASTSS k+16(FP), Y15
	LOOP_SETUP
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	CMPQ         AX, DX
	JEQ          sstail

ssloop:
	VMOVUPS (SI)(AX*1), Y4
	VMOVUPS 32(SI)(AX*1), Y5
	VSUBPS  Y15, Y4, Y4     // d = x − k
	VSUBPS  Y15, Y5, Y5
	VADDPS  Y4, Y0, Y0      // Σd
	VADDPS  Y5, Y2, Y2
	VMULPS  Y4, Y4, Y4      // d²
	VMULPS  Y5, Y5, Y5
	VADDPS  Y4, Y1, Y1      // Σd²
	VADDPS  Y5, Y3, Y3
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     ssloop

sstail:
	CMPQ    AX, BX
	JEQ     ssdone
	VMOVUPS (SI)(AX*1), Y4
	VSUBPS  Y15, Y4, Y4
	VADDPS  Y4, Y0, Y0
	VMULPS  Y4, Y4, Y4
	VADDPS  Y4, Y1, Y1

ssdone:
	VADDPS  Y2, Y0, Y0 // A + B
	VADDPS  Y3, Y1, Y1
	MOVQ    s1+24(FP), DI
	VMOVUPS Y0, (DI)
	MOVQ    s2+32(FP), DI
	VMOVUPS Y1, (DI)
	VZEROUPPER
	RET

// func dotSumsAVX2(x, gv *float32, n int, mean float32, a, b *[8]float32)
// Pairs A (Y0: Σg, Y1: Σg·(x−mean)) and B (Y2, Y3) as in sumShiftedAVX2.
TEXT ·dotSumsAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         gv+8(FP), DI
	MOVQ         n+16(FP), BX
	VBROADCASTSS mean+24(FP), Y15
	LOOP_SETUP
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	CMPQ         AX, DX
	JEQ          dstail

dsloop:
	VMOVUPS (DI)(AX*1), Y4   // g
	VMOVUPS 32(DI)(AX*1), Y5
	VMOVUPS (SI)(AX*1), Y6   // x
	VMOVUPS 32(SI)(AX*1), Y7
	VADDPS  Y4, Y0, Y0       // Σg
	VADDPS  Y5, Y2, Y2
	VSUBPS  Y15, Y6, Y6      // x − mean
	VSUBPS  Y15, Y7, Y7
	VMULPS  Y6, Y4, Y4       // g·(x − mean)
	VMULPS  Y7, Y5, Y5
	VADDPS  Y4, Y1, Y1
	VADDPS  Y5, Y3, Y3
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     dsloop

dstail:
	CMPQ    AX, BX
	JEQ     dsdone
	VMOVUPS (DI)(AX*1), Y4
	VMOVUPS (SI)(AX*1), Y6
	VADDPS  Y4, Y0, Y0
	VSUBPS  Y15, Y6, Y6
	VMULPS  Y6, Y4, Y4
	VADDPS  Y4, Y1, Y1

dsdone:
	VADDPS  Y2, Y0, Y0
	VADDPS  Y3, Y1, Y1
	MOVQ    a+32(FP), DI
	VMOVUPS Y0, (DI)
	MOVQ    b+40(FP), DI
	VMOVUPS Y1, (DI)
	VZEROUPPER
	RET

// func gradSumsReLUAVX2(x, y, dy, gv *float32, n int, mean float32, a, b *[8]float32)
// g = dy AND (int32(y) > 0), stored, then summed as in dotSumsAVX2.
TEXT ·gradSumsReLUAVX2(SB), NOSPLIT, $0-64
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), R8
	MOVQ         dy+16(FP), R9
	MOVQ         gv+24(FP), DI
	MOVQ         n+32(FP), BX
	VBROADCASTSS mean+40(FP), Y15
	LOOP_SETUP
	VPXOR        Y14, Y14, Y14
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	CMPQ         AX, DX
	JEQ          grtail

grloop:
	VMOVUPS  (R8)(AX*1), Y4
	VMOVUPS  32(R8)(AX*1), Y5
	VPCMPGTD Y14, Y4, Y4       // y > 0 as int32
	VPCMPGTD Y14, Y5, Y5
	VPAND    (R9)(AX*1), Y4, Y4 // g
	VPAND    32(R9)(AX*1), Y5, Y5
	VMOVUPS  (SI)(AX*1), Y6    // x
	VMOVUPS  32(SI)(AX*1), Y7
	VMOVUPS  Y4, (DI)(AX*1)
	VMOVUPS  Y5, 32(DI)(AX*1)
	VADDPS   Y4, Y0, Y0        // Σg
	VADDPS   Y5, Y2, Y2
	VSUBPS   Y15, Y6, Y6       // x − mean
	VSUBPS   Y15, Y7, Y7
	VMULPS   Y6, Y4, Y4        // g·(x − mean)
	VMULPS   Y7, Y5, Y5
	VADDPS   Y4, Y1, Y1
	VADDPS   Y5, Y3, Y3
	ADDQ     $64, AX
	CMPQ     AX, DX
	JNE      grloop

grtail:
	CMPQ     AX, BX
	JEQ      grdone
	VMOVUPS  (R8)(AX*1), Y4
	VPCMPGTD Y14, Y4, Y4
	VPAND    (R9)(AX*1), Y4, Y4
	VMOVUPS  (SI)(AX*1), Y6
	VMOVUPS  Y4, (DI)(AX*1)
	VADDPS   Y4, Y0, Y0
	VSUBPS   Y15, Y6, Y6
	VMULPS   Y6, Y4, Y4
	VADDPS   Y4, Y1, Y1

grdone:
	VADDPS  Y2, Y0, Y0
	VADDPS  Y3, Y1, Y1
	MOVQ    a+48(FP), DI
	VMOVUPS Y0, (DI)
	MOVQ    b+56(FP), DI
	VMOVUPS Y1, (DI)
	VZEROUPPER
	RET

// func affineAVX2(x, y *float32, n int, sc, sh float32)
// y = x·sc + sh (Y14 = sc, Y15 = sh).
TEXT ·affineAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), BX
	VBROADCASTSS sc+24(FP), Y14
	VBROADCASTSS sh+28(FP), Y15
	LOOP_SETUP
	CMPQ         AX, DX
	JEQ          aftail

afloop:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VMULPS  Y14, Y0, Y0
	VMULPS  Y14, Y1, Y1
	VADDPS  Y15, Y0, Y0
	VADDPS  Y15, Y1, Y1
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     afloop

aftail:
	CMPQ    AX, BX
	JEQ     afdone
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  Y14, Y0, Y0
	VADDPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)

afdone:
	VZEROUPPER
	RET

// func affineReLUAVX2(x, y *float32, n int, sc, sh float32)
// y = relu32(x·sc + sh): the sign bit, spread over the lane by an
// arithmetic shift, clears the value.
TEXT ·affineReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), BX
	VBROADCASTSS sc+24(FP), Y14
	VBROADCASTSS sh+28(FP), Y15
	LOOP_SETUP
	CMPQ         AX, DX
	JEQ          artail

arloop:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VMULPS  Y14, Y0, Y0
	VMULPS  Y14, Y1, Y1
	VADDPS  Y15, Y0, Y0
	VADDPS  Y15, Y1, Y1
	VPSRAD  $31, Y0, Y2
	VPSRAD  $31, Y1, Y3
	VPANDN  Y0, Y2, Y0  // ¬sign ∧ v
	VPANDN  Y1, Y3, Y1
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     arloop

artail:
	CMPQ    AX, BX
	JEQ     ardone
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  Y14, Y0, Y0
	VADDPS  Y15, Y0, Y0
	VPSRAD  $31, Y0, Y2
	VPANDN  Y0, Y2, Y0
	VMOVUPS Y0, (DI)(AX*1)

ardone:
	VZEROUPPER
	RET

// func bnDxAVX2(x, gv, d *float32, n int, kk, aa, bb float32)
// d = (kk·g + aa·x) + bb (Y13 = kk, Y14 = aa, Y15 = bb).
TEXT ·bnDxAVX2(SB), NOSPLIT, $0-44
	MOVQ         x+0(FP), SI
	MOVQ         gv+8(FP), R8
	MOVQ         d+16(FP), DI
	MOVQ         n+24(FP), BX
	VBROADCASTSS kk+32(FP), Y13
	VBROADCASTSS aa+36(FP), Y14
	VBROADCASTSS bb+40(FP), Y15
	LOOP_SETUP
	CMPQ         AX, DX
	JEQ          dxtail

dxloop:
	VMOVUPS (R8)(AX*1), Y0   // g
	VMOVUPS 32(R8)(AX*1), Y1
	VMOVUPS (SI)(AX*1), Y2   // x
	VMOVUPS 32(SI)(AX*1), Y3
	VMULPS  Y13, Y0, Y0      // kk·g
	VMULPS  Y13, Y1, Y1
	VMULPS  Y14, Y2, Y2      // aa·x
	VMULPS  Y14, Y3, Y3
	VADDPS  Y2, Y0, Y0
	VADDPS  Y3, Y1, Y1
	VADDPS  Y15, Y0, Y0      // + bb
	VADDPS  Y15, Y1, Y1
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     dxloop

dxtail:
	CMPQ    AX, BX
	JEQ     dxdone
	VMOVUPS (R8)(AX*1), Y0
	VMOVUPS (SI)(AX*1), Y2
	VMULPS  Y13, Y0, Y0
	VMULPS  Y14, Y2, Y2
	VADDPS  Y2, Y0, Y0
	VADDPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)

dxdone:
	VZEROUPPER
	RET

// func maskPositiveAVX2(y, v, out *float32, n int)
// out = v AND (int32(y) > 0).
TEXT ·maskPositiveAVX2(SB), NOSPLIT, $0-32
	MOVQ  y+0(FP), SI
	MOVQ  v+8(FP), R8
	MOVQ  out+16(FP), DI
	MOVQ  n+24(FP), BX
	LOOP_SETUP
	VPXOR Y14, Y14, Y14
	CMPQ  AX, DX
	JEQ   mptail

mploop:
	VMOVUPS  (SI)(AX*1), Y0
	VMOVUPS  32(SI)(AX*1), Y1
	VPCMPGTD Y14, Y0, Y0
	VPCMPGTD Y14, Y1, Y1
	VPAND    (R8)(AX*1), Y0, Y0
	VPAND    32(R8)(AX*1), Y1, Y1
	VMOVUPS  Y0, (DI)(AX*1)
	VMOVUPS  Y1, 32(DI)(AX*1)
	ADDQ     $64, AX
	CMPQ     AX, DX
	JNE      mploop

mptail:
	CMPQ     AX, BX
	JEQ      mpdone
	VMOVUPS  (SI)(AX*1), Y0
	VPCMPGTD Y14, Y0, Y0
	VPAND    (R8)(AX*1), Y0, Y0
	VMOVUPS  Y0, (DI)(AX*1)

mpdone:
	VZEROUPPER
	RET

// func addReLUAVX2(a, b, y *float32, n int)
// y = relu32(a + b).
TEXT ·addReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R8
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), BX
	LOOP_SETUP
	CMPQ AX, DX
	JEQ  artail2

arloop2:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VADDPS  (R8)(AX*1), Y0, Y0   // a + b
	VADDPS  32(R8)(AX*1), Y1, Y1
	VPSRAD  $31, Y0, Y2
	VPSRAD  $31, Y1, Y3
	VPANDN  Y0, Y2, Y0
	VPANDN  Y1, Y3, Y1
	VMOVUPS Y0, (DI)(AX*1)
	VMOVUPS Y1, 32(DI)(AX*1)
	ADDQ    $64, AX
	CMPQ    AX, DX
	JNE     arloop2

artail2:
	CMPQ    AX, BX
	JEQ     ardone2
	VMOVUPS (SI)(AX*1), Y0
	VADDPS  (R8)(AX*1), Y0, Y0
	VPSRAD  $31, Y0, Y2
	VPANDN  Y0, Y2, Y0
	VMOVUPS Y0, (DI)(AX*1)

ardone2:
	VZEROUPPER
	RET
