#include "textflag.h"

// Constants, each broadcast to 8 float32 (or int32) lanes: see gelu32 and
// expNeg32 in layers.go for what they are.
DATA geluK<>+0(SB)/4, $0x7fffffff
DATA geluK<>+4(SB)/4, $0x7fffffff
DATA geluK<>+8(SB)/4, $0x7fffffff
DATA geluK<>+12(SB)/4, $0x7fffffff
DATA geluK<>+16(SB)/4, $0x7fffffff
DATA geluK<>+20(SB)/4, $0x7fffffff
DATA geluK<>+24(SB)/4, $0x7fffffff
DATA geluK<>+28(SB)/4, $0x7fffffff
DATA geluK<>+32(SB)/4, $0x80000000
DATA geluK<>+36(SB)/4, $0x80000000
DATA geluK<>+40(SB)/4, $0x80000000
DATA geluK<>+44(SB)/4, $0x80000000
DATA geluK<>+48(SB)/4, $0x80000000
DATA geluK<>+52(SB)/4, $0x80000000
DATA geluK<>+56(SB)/4, $0x80000000
DATA geluK<>+60(SB)/4, $0x80000000
DATA geluK<>+64(SB)/4, $0x3f3504f3
DATA geluK<>+68(SB)/4, $0x3f3504f3
DATA geluK<>+72(SB)/4, $0x3f3504f3
DATA geluK<>+76(SB)/4, $0x3f3504f3
DATA geluK<>+80(SB)/4, $0x3f3504f3
DATA geluK<>+84(SB)/4, $0x3f3504f3
DATA geluK<>+88(SB)/4, $0x3f3504f3
DATA geluK<>+92(SB)/4, $0x3f3504f3
DATA geluK<>+96(SB)/4, $0xbf000000
DATA geluK<>+100(SB)/4, $0xbf000000
DATA geluK<>+104(SB)/4, $0xbf000000
DATA geluK<>+108(SB)/4, $0xbf000000
DATA geluK<>+112(SB)/4, $0xbf000000
DATA geluK<>+116(SB)/4, $0xbf000000
DATA geluK<>+120(SB)/4, $0xbf000000
DATA geluK<>+124(SB)/4, $0xbf000000
DATA geluK<>+128(SB)/4, $0xc2ae0000
DATA geluK<>+132(SB)/4, $0xc2ae0000
DATA geluK<>+136(SB)/4, $0xc2ae0000
DATA geluK<>+140(SB)/4, $0xc2ae0000
DATA geluK<>+144(SB)/4, $0xc2ae0000
DATA geluK<>+148(SB)/4, $0xc2ae0000
DATA geluK<>+152(SB)/4, $0xc2ae0000
DATA geluK<>+156(SB)/4, $0xc2ae0000
DATA geluK<>+160(SB)/4, $0x3fb8aa3b
DATA geluK<>+164(SB)/4, $0x3fb8aa3b
DATA geluK<>+168(SB)/4, $0x3fb8aa3b
DATA geluK<>+172(SB)/4, $0x3fb8aa3b
DATA geluK<>+176(SB)/4, $0x3fb8aa3b
DATA geluK<>+180(SB)/4, $0x3fb8aa3b
DATA geluK<>+184(SB)/4, $0x3fb8aa3b
DATA geluK<>+188(SB)/4, $0x3fb8aa3b
DATA geluK<>+192(SB)/4, $0x3f318000
DATA geluK<>+196(SB)/4, $0x3f318000
DATA geluK<>+200(SB)/4, $0x3f318000
DATA geluK<>+204(SB)/4, $0x3f318000
DATA geluK<>+208(SB)/4, $0x3f318000
DATA geluK<>+212(SB)/4, $0x3f318000
DATA geluK<>+216(SB)/4, $0x3f318000
DATA geluK<>+220(SB)/4, $0x3f318000
DATA geluK<>+224(SB)/4, $0xb95e8083
DATA geluK<>+228(SB)/4, $0xb95e8083
DATA geluK<>+232(SB)/4, $0xb95e8083
DATA geluK<>+236(SB)/4, $0xb95e8083
DATA geluK<>+240(SB)/4, $0xb95e8083
DATA geluK<>+244(SB)/4, $0xb95e8083
DATA geluK<>+248(SB)/4, $0xb95e8083
DATA geluK<>+252(SB)/4, $0xb95e8083
DATA geluK<>+256(SB)/4, $0x39506967
DATA geluK<>+260(SB)/4, $0x39506967
DATA geluK<>+264(SB)/4, $0x39506967
DATA geluK<>+268(SB)/4, $0x39506967
DATA geluK<>+272(SB)/4, $0x39506967
DATA geluK<>+276(SB)/4, $0x39506967
DATA geluK<>+280(SB)/4, $0x39506967
DATA geluK<>+284(SB)/4, $0x39506967
DATA geluK<>+288(SB)/4, $0x3ab743ce
DATA geluK<>+292(SB)/4, $0x3ab743ce
DATA geluK<>+296(SB)/4, $0x3ab743ce
DATA geluK<>+300(SB)/4, $0x3ab743ce
DATA geluK<>+304(SB)/4, $0x3ab743ce
DATA geluK<>+308(SB)/4, $0x3ab743ce
DATA geluK<>+312(SB)/4, $0x3ab743ce
DATA geluK<>+316(SB)/4, $0x3ab743ce
DATA geluK<>+320(SB)/4, $0x3c088908
DATA geluK<>+324(SB)/4, $0x3c088908
DATA geluK<>+328(SB)/4, $0x3c088908
DATA geluK<>+332(SB)/4, $0x3c088908
DATA geluK<>+336(SB)/4, $0x3c088908
DATA geluK<>+340(SB)/4, $0x3c088908
DATA geluK<>+344(SB)/4, $0x3c088908
DATA geluK<>+348(SB)/4, $0x3c088908
DATA geluK<>+352(SB)/4, $0x3d2aa9c1
DATA geluK<>+356(SB)/4, $0x3d2aa9c1
DATA geluK<>+360(SB)/4, $0x3d2aa9c1
DATA geluK<>+364(SB)/4, $0x3d2aa9c1
DATA geluK<>+368(SB)/4, $0x3d2aa9c1
DATA geluK<>+372(SB)/4, $0x3d2aa9c1
DATA geluK<>+376(SB)/4, $0x3d2aa9c1
DATA geluK<>+380(SB)/4, $0x3d2aa9c1
DATA geluK<>+384(SB)/4, $0x3e2aaaaa
DATA geluK<>+388(SB)/4, $0x3e2aaaaa
DATA geluK<>+392(SB)/4, $0x3e2aaaaa
DATA geluK<>+396(SB)/4, $0x3e2aaaaa
DATA geluK<>+400(SB)/4, $0x3e2aaaaa
DATA geluK<>+404(SB)/4, $0x3e2aaaaa
DATA geluK<>+408(SB)/4, $0x3e2aaaaa
DATA geluK<>+412(SB)/4, $0x3e2aaaaa
DATA geluK<>+416(SB)/4, $0x3f000000
DATA geluK<>+420(SB)/4, $0x3f000000
DATA geluK<>+424(SB)/4, $0x3f000000
DATA geluK<>+428(SB)/4, $0x3f000000
DATA geluK<>+432(SB)/4, $0x3f000000
DATA geluK<>+436(SB)/4, $0x3f000000
DATA geluK<>+440(SB)/4, $0x3f000000
DATA geluK<>+444(SB)/4, $0x3f000000
DATA geluK<>+448(SB)/4, $0x3f800000
DATA geluK<>+452(SB)/4, $0x3f800000
DATA geluK<>+456(SB)/4, $0x3f800000
DATA geluK<>+460(SB)/4, $0x3f800000
DATA geluK<>+464(SB)/4, $0x3f800000
DATA geluK<>+468(SB)/4, $0x3f800000
DATA geluK<>+472(SB)/4, $0x3f800000
DATA geluK<>+476(SB)/4, $0x3f800000
DATA geluK<>+480(SB)/4, $0x0000007f
DATA geluK<>+484(SB)/4, $0x0000007f
DATA geluK<>+488(SB)/4, $0x0000007f
DATA geluK<>+492(SB)/4, $0x0000007f
DATA geluK<>+496(SB)/4, $0x0000007f
DATA geluK<>+500(SB)/4, $0x0000007f
DATA geluK<>+504(SB)/4, $0x0000007f
DATA geluK<>+508(SB)/4, $0x0000007f
DATA geluK<>+512(SB)/4, $0x3ea7ba05
DATA geluK<>+516(SB)/4, $0x3ea7ba05
DATA geluK<>+520(SB)/4, $0x3ea7ba05
DATA geluK<>+524(SB)/4, $0x3ea7ba05
DATA geluK<>+528(SB)/4, $0x3ea7ba05
DATA geluK<>+532(SB)/4, $0x3ea7ba05
DATA geluK<>+536(SB)/4, $0x3ea7ba05
DATA geluK<>+540(SB)/4, $0x3ea7ba05
DATA geluK<>+544(SB)/4, $0x3f87dc22
DATA geluK<>+548(SB)/4, $0x3f87dc22
DATA geluK<>+552(SB)/4, $0x3f87dc22
DATA geluK<>+556(SB)/4, $0x3f87dc22
DATA geluK<>+560(SB)/4, $0x3f87dc22
DATA geluK<>+564(SB)/4, $0x3f87dc22
DATA geluK<>+568(SB)/4, $0x3f87dc22
DATA geluK<>+572(SB)/4, $0x3f87dc22
DATA geluK<>+576(SB)/4, $0xbfba00e3
DATA geluK<>+580(SB)/4, $0xbfba00e3
DATA geluK<>+584(SB)/4, $0xbfba00e3
DATA geluK<>+588(SB)/4, $0xbfba00e3
DATA geluK<>+592(SB)/4, $0xbfba00e3
DATA geluK<>+596(SB)/4, $0xbfba00e3
DATA geluK<>+600(SB)/4, $0xbfba00e3
DATA geluK<>+604(SB)/4, $0xbfba00e3
DATA geluK<>+608(SB)/4, $0x3fb5f0e3
DATA geluK<>+612(SB)/4, $0x3fb5f0e3
DATA geluK<>+616(SB)/4, $0x3fb5f0e3
DATA geluK<>+620(SB)/4, $0x3fb5f0e3
DATA geluK<>+624(SB)/4, $0x3fb5f0e3
DATA geluK<>+628(SB)/4, $0x3fb5f0e3
DATA geluK<>+632(SB)/4, $0x3fb5f0e3
DATA geluK<>+636(SB)/4, $0x3fb5f0e3
DATA geluK<>+640(SB)/4, $0xbe91a98e
DATA geluK<>+644(SB)/4, $0xbe91a98e
DATA geluK<>+648(SB)/4, $0xbe91a98e
DATA geluK<>+652(SB)/4, $0xbe91a98e
DATA geluK<>+656(SB)/4, $0xbe91a98e
DATA geluK<>+660(SB)/4, $0xbe91a98e
DATA geluK<>+664(SB)/4, $0xbe91a98e
DATA geluK<>+668(SB)/4, $0xbe91a98e
DATA geluK<>+672(SB)/4, $0x3e827906
DATA geluK<>+676(SB)/4, $0x3e827906
DATA geluK<>+680(SB)/4, $0x3e827906
DATA geluK<>+684(SB)/4, $0x3e827906
DATA geluK<>+688(SB)/4, $0x3e827906
DATA geluK<>+692(SB)/4, $0x3e827906
DATA geluK<>+696(SB)/4, $0x3e827906
DATA geluK<>+700(SB)/4, $0x3e827906
DATA geluK<>+704(SB)/4, $0x3f000000
DATA geluK<>+708(SB)/4, $0x3f000000
DATA geluK<>+712(SB)/4, $0x3f000000
DATA geluK<>+716(SB)/4, $0x3f000000
DATA geluK<>+720(SB)/4, $0x3f000000
DATA geluK<>+724(SB)/4, $0x3f000000
DATA geluK<>+728(SB)/4, $0x3f000000
DATA geluK<>+732(SB)/4, $0x3f000000
DATA geluK<>+736(SB)/4, $0x3ecc422a
DATA geluK<>+740(SB)/4, $0x3ecc422a
DATA geluK<>+744(SB)/4, $0x3ecc422a
DATA geluK<>+748(SB)/4, $0x3ecc422a
DATA geluK<>+752(SB)/4, $0x3ecc422a
DATA geluK<>+756(SB)/4, $0x3ecc422a
DATA geluK<>+760(SB)/4, $0x3ecc422a
DATA geluK<>+764(SB)/4, $0x3ecc422a
GLOBL geluK<>(SB), RODATA|NOPTR, $768

#define K_ABS geluK<>+0(SB)
#define K_SIGN geluK<>+32(SB)
#define K_ISQ2 geluK<>+64(SB)
#define K_MHALF geluK<>+96(SB)
#define K_M87 geluK<>+128(SB)
#define K_LOG2E geluK<>+160(SB)
#define K_C1 geluK<>+192(SB)
#define K_C2 geluK<>+224(SB)
#define K_P5 geluK<>+256(SB)
#define K_P4 geluK<>+288(SB)
#define K_P3 geluK<>+320(SB)
#define K_P2 geluK<>+352(SB)
#define K_P1 geluK<>+384(SB)
#define K_P0 geluK<>+416(SB)
#define K_ONE geluK<>+448(SB)
#define K_I127 geluK<>+480(SB)
#define K_AS geluK<>+512(SB)
#define K_A5 geluK<>+544(SB)
#define K_A4 geluK<>+576(SB)
#define K_A3 geluK<>+608(SB)
#define K_A2 geluK<>+640(SB)
#define K_A1 geluK<>+672(SB)
#define K_HALF geluK<>+704(SB)
#define K_PDF geluK<>+736(SB)

// PHI sets Y5 = Φ(x) and Y4 = exp(−x²/2) for the 8 values of x in Y0
// (uses Y1, Y2, Y3, Y6).
#define PHI \
	VANDPS       K_ABS, Y0, Y1   \ // |x|
	VMULPS       K_ISQ2, Y1, Y1  \ // z = |x|/√2
	VMULPS       Y0, Y0, Y2      \
	VMULPS       K_MHALF, Y2, Y2 \ // a = −x²/2
	VMAXPS       K_M87, Y2, Y2   \
	VMULPS       K_LOG2E, Y2, Y3 \
	VROUNDPS     $0, Y3, Y3      \ // n = round(a·log2 e)
	VFNMADD231PS K_C1, Y3, Y2    \ // r = a − n·ln 2 (in two parts)
	VFNMADD231PS K_C2, Y3, Y2    \
	VMOVUPS      K_P5, Y4        \
	VFMADD213PS  K_P4, Y2, Y4    \
	VFMADD213PS  K_P3, Y2, Y4    \
	VFMADD213PS  K_P2, Y2, Y4    \
	VFMADD213PS  K_P1, Y2, Y4    \
	VFMADD213PS  K_P0, Y2, Y4    \
	VMULPS       Y2, Y2, Y6      \
	VFMADD213PS  Y2, Y6, Y4      \ // p·r² + r
	VADDPS       K_ONE, Y4, Y4   \ // e^r
	VCVTPS2DQ    Y3, Y3          \
	VPADDD       K_I127, Y3, Y3  \
	VPSLLD       $23, Y3, Y3     \ // 2^n
	VMULPS       Y3, Y4, Y4      \ // e = exp(−x²/2)
	VMOVUPS      K_ONE, Y6       \
	VFMADD231PS  K_AS, Y1, Y6    \ // 1 + 0.3275911·z
	VMOVUPS      K_ONE, Y1       \
	VDIVPS       Y6, Y1, Y1      \ // t
	VMOVUPS      K_A5, Y5        \
	VFMADD213PS  K_A4, Y1, Y5    \
	VFMADD213PS  K_A3, Y1, Y5    \
	VFMADD213PS  K_A2, Y1, Y5    \
	VFMADD213PS  K_A1, Y1, Y5    \
	VMULPS       Y1, Y5, Y5      \ // t·poly(t)
	VFNMADD213PS K_ONE, Y4, Y5   \ // erf(|x|/√2) = 1 − t·poly(t)·e
	VANDPS       K_SIGN, Y0, Y6  \
	VXORPS       Y6, Y5, Y5      \ // erf(x/√2)
	VMOVUPS      K_HALF, Y6      \
	VFMADD213PS  Y6, Y6, Y5        // Φ = (1 + erf)/2

// func geluAVX2(x, out *float32, n int)
// out = x·Φ(x) for n (a multiple of 8) values.
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   fdone
floop:
	VMOVUPS (SI), Y0
	PHI
	VMULPS  Y0, Y5, Y5
	VMOVUPS Y5, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     floop
fdone:
	VZEROUPPER
	RET

// func geluDiffAVX2(x, dy, out *float32, n int)
// out = dy·(Φ(x) + x·φ(x)) for n (a multiple of 8) values.
TEXT ·geluDiffAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), DX
	MOVQ out+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   bdone
bloop:
	VMOVUPS     (SI), Y0
	PHI
	VMULPS      Y0, Y4, Y6
	VFMADD231PS K_PDF, Y6, Y5 // Φ + x·e/√(2π)
	VMULPS      (DX), Y5, Y5
	VMOVUPS     Y5, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	DECQ        CX
	JNZ         bloop
bdone:
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET
