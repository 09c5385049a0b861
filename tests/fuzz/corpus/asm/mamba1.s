; mamba1: Mambalaya accelerator stream, format 1.0 (docs/isa.md)
; 39 tensors, 1 groups, 48 descriptors, 102 micro-ops, 362 instructions
.version 1.0
.module "mamba1" "examples/mamba1.ein"
.target "mambalaya" rows=256 cols=256 cores=1 drain=256 lanes=65536 buffer=16777216 bpv=2 concurrent=0 double_buffer=1 switch=256 dram_gbps=2039 clock_ghz=1.75
.cycles exp=4 log=4 sqrt=4 rsqrt=4 sigmoid=3 silu=4 softplus=9 tanh=4 relu=1 abs=1 neg=1 recip=4 square=1 add=1 sub=1 mul=1 div=5 max=1 min=1 mac=1 copy=1 read=1
.dram 4848
.tensor LX input [1,4,16] @0
.tensor RES input [1,4,16] @64
.tensor CS input [1,3,32] @128
.tensor H0 input [1,32,16] @224
.tensor NW weight [16] @736
.tensor WX weight [16,32] @752
.tensor WZ weight [16,32] @1264
.tensor WCV weight [32,4] @1776
.tensor BCV weight [32] @1904
.tensor WTTD weight [32,1] @1936
.tensor WB weight [32,16] @1968
.tensor WC weight [32,16] @2480
.tensor WTD weight [1,32] @2992
.tensor BTD weight [32] @3024
.tensor A weight [32,16] @3056
.tensor DS weight [32] @3568
.tensor WO weight [32,16] @3600
.tensor LO output [1,4,16] @4112
.tensor RS output [1,4,16] @4176
.tensor CSO output [1,3,32] @4240
.tensor HF output [1,32,16] @4336
.tensor SS temp [1,4] @none
.tensor NX temp [1,4,16] @none
.tensor TX temp [1,4,32] @none
.tensor Z temp [1,4,32] @none
.tensor XP temp [1,7,32] @none
.tensor CV temp [1,4,32] @none
.tensor U temp [1,4,32] @none
.tensor TTD temp [1,4,1] @none
.tensor BM temp [1,4,16] @none
.tensor CM temp [1,4,16] @none
.tensor DT temp [1,4,32] @none
.tensor DELTA temp [1,4,32] @none
.tensor AD temp [1,4,32,16] @none
.tensor BX temp [1,4,32,16] @none
.tensor H temp [1,5,32,16] @none
.tensor YS temp [1,4,32] @none
.tensor Y temp [1,4,32] @none
.tensor G temp [1,4,32] @none
.group 0 "RS,SS,NX,TX,Z,XP.1,XP.2,CSO,CV,U,TTD,BM,CM,DT,DELTA,AD,BX,h0,scan,HF,YS,Y,G,LO"
.desc 0 dma dims=3 tensor=LX s0=[64,16,1]
.desc 1 dma dims=3 tensor=RES s0=[64,16,1]
.desc 2 vexpr dims=2 streams=3 flags=none uops=0+4 s0=[16,1] s1=[16,1] s2=[16,1]
.desc 3 fill dims=1 unit=1d value=0 s0=[1]
.desc 4 vexpr dims=2 streams=2 flags=none uops=4+3 s0=[1,0] s1=[16,1]
.desc 5 dma dims=1 tensor=NW s0=[1]
.desc 6 vexpr dims=2 streams=4 flags=none uops=7+11 s0=[16,1] s1=[16,1] s2=[1,0] s3=[0,1]
.desc 7 dma dims=2 tensor=WX s0=[32,1]
.desc 8 fill dims=2 unit=1d value=0 s0=[32,1]
.desc 9 vexpr dims=3 streams=3 flags=none uops=18+4 s0=[32,1,0] s1=[16,0,1] s2=[0,1,32]
.desc 10 dma dims=2 tensor=WZ s0=[32,1]
.desc 11 vexpr dims=3 streams=3 flags=none uops=22+4 s0=[32,1,0] s1=[16,0,1] s2=[0,1,32]
.desc 12 dma dims=3 tensor=CS s0=[96,32,1]
.desc 13 vexpr dims=2 streams=2 flags=none uops=26+2 s0=[32,1] s1=[32,1]
.desc 14 vexpr dims=2 streams=2 flags=none uops=28+2 s0=[32,1] s1=[32,1]
.desc 15 vexpr dims=2 streams=2 flags=none uops=30+2 s0=[32,1] s1=[32,1]
.desc 16 dma dims=2 tensor=WCV s0=[4,1]
.desc 17 vexpr dims=3 streams=3 flags=none uops=32+4 s0=[32,1,0] s1=[32,1,32] s2=[0,4,1]
.desc 18 dma dims=1 tensor=BCV s0=[1]
.desc 19 vexpr dims=2 streams=3 flags=none uops=36+5 s0=[32,1] s1=[32,1] s2=[0,1]
.desc 20 dma dims=2 tensor=WTTD s0=[1,1]
.desc 21 vexpr dims=2 streams=3 flags=none uops=41+4 s0=[1,0] s1=[32,1] s2=[0,1]
.desc 22 dma dims=2 tensor=WB s0=[16,1]
.desc 23 fill dims=2 unit=1d value=0 s0=[16,1]
.desc 24 vexpr dims=3 streams=3 flags=none uops=45+4 s0=[16,1,0] s1=[32,0,1] s2=[0,1,16]
.desc 25 dma dims=2 tensor=WC s0=[16,1]
.desc 26 vexpr dims=3 streams=3 flags=none uops=49+4 s0=[16,1,0] s1=[32,0,1] s2=[0,1,16]
.desc 27 dma dims=2 tensor=WTD s0=[32,1]
.desc 28 vexpr dims=2 streams=3 flags=none uops=53+4 s0=[32,1] s1=[1,0] s2=[0,1]
.desc 29 dma dims=1 tensor=BTD s0=[1]
.desc 30 vexpr dims=2 streams=3 flags=none uops=57+5 s0=[32,1] s1=[32,1] s2=[0,1]
.desc 31 dma dims=2 tensor=A s0=[16,1]
.desc 32 vexpr dims=3 streams=3 flags=none uops=62+5 s0=[512,16,1] s1=[32,1,0] s2=[0,16,1]
.desc 33 vexpr dims=3 streams=4 flags=none uops=67+6 s0=[512,16,1] s1=[32,1,0] s2=[16,0,1] s3=[32,1,0]
.desc 34 dma dims=3 tensor=H0 s0=[512,16,1]
.desc 35 vexpr dims=2 streams=2 flags=none uops=73+2 s0=[16,1] s1=[16,1]
.desc 36 vexpr dims=3 streams=4 flags=seq uops=75+6 s0=[512,16,1] s1=[512,16,1] s2=[512,16,1] s3=[512,16,1]
.desc 37 vexpr dims=2 streams=2 flags=none uops=81+2 s0=[16,1] s1=[16,1]
.desc 38 vexpr dims=3 streams=3 flags=none uops=83+4 s0=[32,1,0] s1=[512,16,1] s2=[16,0,1]
.desc 39 dma dims=1 tensor=DS s0=[1]
.desc 40 vexpr dims=2 streams=4 flags=none uops=87+6 s0=[32,1] s1=[32,1] s2=[0,1] s3=[32,1]
.desc 41 vexpr dims=2 streams=3 flags=none uops=93+5 s0=[32,1] s1=[32,1] s2=[32,1]
.desc 42 dma dims=2 tensor=WO s0=[16,1]
.desc 43 vexpr dims=3 streams=3 flags=none uops=98+4 s0=[16,1,0] s1=[32,0,1] s2=[0,1,16]
.desc 44 dma dims=3 tensor=LO s0=[64,16,1]
.desc 45 dma dims=3 tensor=HF s0=[512,16,1]
.desc 46 dma dims=3 tensor=CSO s0=[96,32,1]
.desc 47 dma dims=3 tensor=RS s0=[64,16,1]
.uop 0 ld s1 mask=0x03 cost=read
.uop 1 ld s2 mask=0x03 cost=read
.uop 2 bin add #0 #1 mask=0x03 cost=add
.uop 3 st #2 mask=0x03 cost=none
.uop 4 ld s1 mask=0x03 cost=read
.uop 5 bin mul #0 #0 mask=0x03 cost=none
.uop 6 acc add #1 mask=0x03 cost=mac
.uop 7 ld s1 mask=0x03 cost=read
.uop 8 ld s2 mask=0x01 cost=read
.uop 9 cst 16 mask=0x00 cost=none
.uop 10 bin div #1 #2 mask=0x01 cost=div
.uop 11 cst 9.99999975e-06 mask=0x00 cost=none
.uop 12 bin add #3 #4 mask=0x01 cost=add
.uop 13 un rsqrt #5 mask=0x01 cost=rsqrt
.uop 14 bin mul #0 #6 mask=0x03 cost=mul
.uop 15 ld s3 mask=0x02 cost=read
.uop 16 bin mul #7 #8 mask=0x03 cost=mul
.uop 17 st #9 mask=0x03 cost=none
.uop 18 ld s1 mask=0x05 cost=read
.uop 19 ld s2 mask=0x06 cost=read
.uop 20 bin mul #0 #1 mask=0x07 cost=none
.uop 21 acc add #2 mask=0x07 cost=mac
.uop 22 ld s1 mask=0x05 cost=read
.uop 23 ld s2 mask=0x06 cost=read
.uop 24 bin mul #0 #1 mask=0x07 cost=none
.uop 25 acc add #2 mask=0x07 cost=mac
.uop 26 ld s1 mask=0x03 cost=read
.uop 27 st #0 mask=0x03 cost=copy
.uop 28 ld s1 mask=0x03 cost=read
.uop 29 st #0 mask=0x03 cost=copy
.uop 30 ld s1 mask=0x03 cost=read
.uop 31 st #0 mask=0x03 cost=copy
.uop 32 ld s1 mask=0x07 cost=read
.uop 33 ld s2 mask=0x06 cost=read
.uop 34 bin mul #0 #1 mask=0x07 cost=none
.uop 35 acc add #2 mask=0x07 cost=mac
.uop 36 ld s1 mask=0x03 cost=read
.uop 37 ld s2 mask=0x02 cost=read
.uop 38 bin add #0 #1 mask=0x03 cost=add
.uop 39 un silu #2 mask=0x03 cost=silu
.uop 40 st #3 mask=0x03 cost=none
.uop 41 ld s1 mask=0x03 cost=read
.uop 42 ld s2 mask=0x02 cost=read
.uop 43 bin mul #0 #1 mask=0x03 cost=none
.uop 44 acc add #2 mask=0x03 cost=mac
.uop 45 ld s1 mask=0x05 cost=read
.uop 46 ld s2 mask=0x06 cost=read
.uop 47 bin mul #0 #1 mask=0x07 cost=none
.uop 48 acc add #2 mask=0x07 cost=mac
.uop 49 ld s1 mask=0x05 cost=read
.uop 50 ld s2 mask=0x06 cost=read
.uop 51 bin mul #0 #1 mask=0x07 cost=none
.uop 52 acc add #2 mask=0x07 cost=mac
.uop 53 ld s1 mask=0x01 cost=read
.uop 54 ld s2 mask=0x02 cost=read
.uop 55 bin mul #0 #1 mask=0x03 cost=none
.uop 56 acc add #2 mask=0x03 cost=mac
.uop 57 ld s1 mask=0x03 cost=read
.uop 58 ld s2 mask=0x02 cost=read
.uop 59 bin add #0 #1 mask=0x03 cost=add
.uop 60 un softplus #2 mask=0x03 cost=softplus
.uop 61 st #3 mask=0x03 cost=none
.uop 62 ld s1 mask=0x03 cost=read
.uop 63 ld s2 mask=0x06 cost=read
.uop 64 bin mul #0 #1 mask=0x07 cost=mul
.uop 65 un exp #2 mask=0x07 cost=exp
.uop 66 st #3 mask=0x07 cost=none
.uop 67 ld s1 mask=0x03 cost=read
.uop 68 ld s2 mask=0x05 cost=read
.uop 69 bin mul #0 #1 mask=0x07 cost=mul
.uop 70 ld s3 mask=0x03 cost=read
.uop 71 bin mul #2 #3 mask=0x07 cost=mul
.uop 72 st #4 mask=0x07 cost=none
.uop 73 ld s1 mask=0x03 cost=read
.uop 74 st #0 mask=0x03 cost=copy
.uop 75 ld s1 mask=0x07 cost=read
.uop 76 ld s2 mask=0x07 cost=none
.uop 77 bin mul #0 #1 mask=0x07 cost=none
.uop 78 ld s3 mask=0x07 cost=read
.uop 79 bin add #2 #3 mask=0x07 cost=mac
.uop 80 st #4 mask=0x07 cost=none
.uop 81 ld s1 mask=0x03 cost=read
.uop 82 st #0 mask=0x03 cost=copy
.uop 83 ld s1 mask=0x07 cost=read
.uop 84 ld s2 mask=0x05 cost=read
.uop 85 bin mul #0 #1 mask=0x07 cost=none
.uop 86 acc add #2 mask=0x07 cost=mac
.uop 87 ld s1 mask=0x03 cost=read
.uop 88 ld s2 mask=0x02 cost=read
.uop 89 ld s3 mask=0x03 cost=read
.uop 90 bin mul #1 #2 mask=0x03 cost=none
.uop 91 bin add #0 #3 mask=0x03 cost=mac
.uop 92 st #4 mask=0x03 cost=none
.uop 93 ld s1 mask=0x03 cost=read
.uop 94 ld s2 mask=0x03 cost=read
.uop 95 un silu #1 mask=0x03 cost=silu
.uop 96 bin mul #0 #2 mask=0x03 cost=mul
.uop 97 st #3 mask=0x03 cost=none
.uop 98 ld s1 mask=0x05 cost=read
.uop 99 ld s2 mask=0x06 cost=read
.uop 100 bin mul #0 #1 mask=0x07 cost=none
.uop 101 acc add #2 mask=0x07 cost=mac
.code
	group 0, 8128	; RS,SS,NX,TX,Z,XP.1,XP.2,CSO,CV,U,TTD,BM,CM,DT,DELTA,AD,BX,h0,scan,HF,YS,Y,G,LO
	li r6, 1
	li r8, 1
	li r10, 1
	li r16, 1
	li r18, 1
	li r20, 1
	li r22, 1
	li r24, 1
	li r26, 1
	li r28, 1
	li r30, 1
	li r38, 1
	li r41, 1
	li r1, 1
	li r3, 1
	li r13, 1
	li r34, 1
	li r43, 1
	li r44, 4
	li r45, 16
	li r46, 0
	li r47, 0
	li r48, 0
	li r49, 0
	load d0, r43, r46	; LX
	li r1, 0
	li r43, 1
	li r44, 4
	li r45, 16
	li r46, 64
	li r47, 0
	li r48, 0
	li r49, 0
	load d1, r43, r46	; RES
	li r3, 0
	mode 1d
	li r43, 4
	li r44, 16
	li r45, 128
	li r46, 0
	li r47, 64
	vexpr d2, r43, r45
	li r43, 4
	li r44, 0
	fill d3, r43, r44
	li r43, 4
	li r44, 16
	li r45, 0
	li r46, 128
	vexpr d4, r43, r45
	li r43, 16
	li r44, 32
	li r45, 0
	load d5, r43, r44	; NW
	li r6, 0
	li r43, 4
	li r44, 16
	li r45, 64
	li r46, 128
	li r47, 0
	li r48, 32
	vexpr d6, r43, r45
	li r43, 16
	li r44, 32
	li r45, 192
	li r46, 0
	li r47, 0
	load d7, r43, r45	; WX
	li r8, 0
	li r43, 4
	li r44, 32
	li r45, 704
	fill d8, r43, r45
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 704
	li r47, 64
	li r48, 192
	vexpr d9, r43, r46
	li r43, 16
	li r44, 32
	li r45, 192
	li r46, 0
	li r47, 0
	load d10, r43, r45	; WZ
	li r10, 0
	li r43, 4
	li r44, 32
	li r45, 832
	fill d8, r43, r45
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 832
	li r47, 64
	li r48, 192
	vexpr d11, r43, r46
	li r43, 1
	li r44, 3
	li r45, 32
	li r46, 0
	li r47, 0
	li r48, 0
	li r49, 0
	load d12, r43, r46	; CS
	li r13, 0
	li r43, 3
	li r44, 32
	li r45, 192
	li r46, 0
	vexpr d13, r43, r45
	li r43, 4
	li r44, 32
	li r45, 288
	li r46, 704
	vexpr d14, r43, r45
	li r43, 3
	li r44, 32
	li r45, 0
	li r46, 320
	vexpr d15, r43, r45
	li r43, 32
	li r44, 4
	li r45, 416
	li r46, 0
	li r47, 0
	load d16, r43, r45	; WCV
	li r16, 0
	li r43, 4
	li r44, 32
	li r45, 544
	fill d8, r43, r45
	li r43, 4
	li r44, 32
	li r45, 4
	li r46, 544
	li r47, 192
	li r48, 416
	vexpr d17, r43, r46
	li r43, 32
	li r44, 96
	li r45, 0
	load d18, r43, r44	; BCV
	li r18, 0
	li r43, 4
	li r44, 32
	li r45, 192
	li r46, 544
	li r47, 96
	vexpr d19, r43, r45
	li r43, 32
	li r44, 1
	li r45, 96
	li r46, 0
	li r47, 0
	load d20, r43, r45	; WTTD
	li r20, 0
	li r43, 4
	li r44, 320
	fill d3, r43, r44
	li r43, 4
	li r44, 32
	li r45, 320
	li r46, 192
	li r47, 96
	vexpr d21, r43, r45
	li r43, 32
	li r44, 16
	li r45, 960
	li r46, 0
	li r47, 0
	load d22, r43, r45	; WB
	li r22, 0
	li r43, 4
	li r44, 16
	li r45, 352
	fill d23, r43, r45
	li r43, 4
	li r44, 16
	li r45, 32
	li r46, 352
	li r47, 192
	li r48, 960
	vexpr d24, r43, r46
	li r43, 32
	li r44, 16
	li r45, 960
	li r46, 0
	li r47, 0
	load d25, r43, r45	; WC
	li r24, 0
	li r43, 4
	li r44, 16
	li r45, 416
	fill d23, r43, r45
	li r43, 4
	li r44, 16
	li r45, 32
	li r46, 416
	li r47, 192
	li r48, 960
	vexpr d26, r43, r46
	li r43, 1
	li r44, 32
	li r45, 96
	li r46, 0
	li r47, 0
	load d27, r43, r45	; WTD
	li r26, 0
	li r43, 4
	li r44, 32
	li r45, 480
	fill d8, r43, r45
	li r43, 4
	li r44, 32
	li r45, 480
	li r46, 320
	li r47, 96
	vexpr d28, r43, r45
	li r43, 32
	li r44, 96
	li r45, 0
	load d29, r43, r44	; BTD
	li r28, 0
	li r43, 4
	li r44, 32
	li r45, 608
	li r46, 480
	li r47, 96
	vexpr d30, r43, r45
	li r43, 32
	li r44, 16
	li r45, 960
	li r46, 0
	li r47, 0
	load d31, r43, r45	; A
	li r30, 0
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 1472
	li r47, 608
	li r48, 960
	vexpr d32, r43, r46
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 3520
	li r47, 608
	li r48, 352
	li r49, 192
	vexpr d33, r43, r46
	li r43, 1
	li r44, 32
	li r45, 16
	li r46, 960
	li r47, 0
	li r48, 0
	li r49, 0
	load d34, r43, r46	; H0
	li r34, 0
	li r43, 32
	li r44, 16
	li r45, 5568
	li r46, 960
	vexpr d35, r43, r45
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 6080
	li r47, 1472
	li r48, 5568
	li r49, 3520
	vexpr d36, r43, r46
	li r43, 32
	li r44, 16
	li r45, 960
	li r46, 7616
	vexpr d37, r43, r45
	li r43, 4
	li r44, 32
	li r45, 480
	fill d8, r43, r45
	li r43, 4
	li r44, 32
	li r45, 16
	li r46, 480
	li r47, 6080
	li r48, 416
	vexpr d38, r43, r46
	li r43, 32
	li r44, 96
	li r45, 0
	load d39, r43, r44	; DS
	li r38, 0
	li r43, 4
	li r44, 32
	li r45, 320
	li r46, 480
	li r47, 96
	li r48, 192
	vexpr d40, r43, r45
	li r43, 4
	li r44, 32
	li r45, 192
	li r46, 320
	li r47, 832
	vexpr d41, r43, r45
	li r43, 32
	li r44, 16
	li r45, 320
	li r46, 0
	li r47, 0
	load d42, r43, r45	; WO
	li r41, 0
	li r43, 4
	li r44, 16
	li r45, 832
	fill d23, r43, r45
	li r43, 4
	li r44, 16
	li r45, 32
	li r46, 832
	li r47, 192
	li r48, 320
	vexpr d43, r43, r46
	li r43, 1
	li r44, 4
	li r45, 16
	li r46, 832
	li r47, 0
	li r48, 0
	li r49, 0
	store d44, r43, r46	; LO
	li r43, 1
	li r44, 32
	li r45, 16
	li r46, 960
	li r47, 0
	li r48, 0
	li r49, 0
	store d45, r43, r46	; HF
	li r43, 1
	li r44, 3
	li r45, 32
	li r46, 0
	li r47, 0
	li r48, 0
	li r49, 0
	store d46, r43, r46	; CSO
	li r43, 1
	li r44, 4
	li r45, 16
	li r46, 128
	li r47, 0
	li r48, 0
	li r49, 0
	store d47, r43, r46	; RS
	sync
	halt
